// SPDX-License-Identifier: GPL-2.0
//! The data the stress programs write and read back: per-thread data files
//! whose every block has a known pattern, and a shared reference file.

use super::ring::bump;
use super::ring::COUNTS;
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

pub(super) const BLK: usize = 4096;
/// Blocks per data file (1 MiB): writes wrap around.
pub(super) const NBLK: usize = 256;

/// xorshift64*: a small deterministic generator per thread.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n`.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The content of block `blk` of the file tagged `tag`: every byte depends
/// on both, so a block written to the wrong place or file is caught.
pub(super) fn pattern(tag: u64, blk: usize, out: &mut [u8]) {
    let mut r = Rng::new(tag << 20 | blk as u64);
    for c in out.chunks_mut(8) {
        let v = r.next().to_le_bytes();
        c.copy_from_slice(&v[..c.len()]);
    }
}

/// Buffers that stay valid for the life of the process: a request still in
/// flight when its ring is closed may copy from or into them after the
/// thread that submitted it has gone on.
pub(super) fn leak_blocks(n: usize) -> &'static mut [[u8; BLK]] {
    Box::leak(vec![[0u8; BLK]; n].into_boxed_slice())
}

/// A file written through io_uring. Block `b` is only ever written from
/// `src[b]`, which never changes, so a write left in flight by a closed ring
/// can only store the right data.
pub(super) struct DataFile {
    pub(super) file: fs::File,
    pub(super) src: &'static [[u8; BLK]],
    /// 0: never written, 1: written by a request whose result is unknown
    /// (in flight at close, or failed under fault injection), 2: written.
    pub(super) state: Vec<u8>,
    pub(super) tag: u64,
    pub(super) next: usize,
}

impl DataFile {
    pub(super) fn new(tag: u64) -> Result<Self, String> {
        let src = leak_blocks(NBLK);
        for (b, buf) in src.iter_mut().enumerate() {
            pattern(tag, b, buf);
        }
        Ok(DataFile {
            file: crate::scratch_file(&format!("data-{tag}"))?,
            src,
            state: vec![0; NBLK],
            tag,
            next: 0,
        })
    }

    /// Every block has what was written to it: its pattern if a write
    /// succeeded, zeros if none was ever submitted, one of the two otherwise.
    pub(super) fn verify(&self) -> Result<(), String> {
        let mut buf = [0u8; BLK];
        for (b, &st) in self.state.iter().enumerate() {
            let n = self
                .file
                .read_at(&mut buf, (b * BLK) as u64)
                .map_err(|e| format!("reading back data file {}: {e}", self.tag))?;
            let written = n == BLK && buf == self.src[b];
            let zero = buf[..n].iter().all(|&x| x == 0);
            let ok = match st {
                2 => written,
                1 => written || zero,
                _ => zero,
            };
            if !ok {
                return Err(format!(
                    "data lost or corrupted: file {} block {b} (state {st}) does not hold {}",
                    self.tag,
                    if st == 0 { "zeros" } else { "what was written" }
                ));
            }
            bump(&COUNTS.blocks_verified, 1);
        }
        Ok(())
    }
}

/// A read-only file with known content, shared by the readers.
pub(super) struct RefFile {
    pub(super) file: fs::File,
}

pub(super) const REF_TAG: u64 = 0xfeed;

impl RefFile {
    pub(super) fn new() -> Result<Self, String> {
        let file = crate::scratch_file("ref")?;
        let mut buf = [0u8; BLK];
        for b in 0..NBLK {
            pattern(REF_TAG, b, &mut buf);
            file.write_at(&buf, (b * BLK) as u64)
                .map_err(|e| format!("writing the reference file: {e}"))?;
        }
        Ok(RefFile { file })
    }
}

pub(super) static REF: std::sync::OnceLock<Result<RefFile, String>> = std::sync::OnceLock::new();

/// The reference file, created once per process.
pub(super) fn ref_init() -> Result<(), String> {
    REF.get_or_init(RefFile::new)
        .as_ref()
        .map(|_| ())
        .map_err(Clone::clone)
}

pub(super) fn ref_fd() -> i32 {
    match REF.get() {
        Some(Ok(r)) => r.file.as_raw_fd(),
        _ => -1,
    }
}
