// SPDX-License-Identifier: GPL-2.0
//! A stress program's ring and its bookkeeping: the requests it has
//! outstanding, matched to their completions, and at close the kernel's own
//! count of them (the ring's fdinfo) checked against the program's.

use super::data::{leak_blocks, pattern, ref_fd, DataFile, BLK, REF_TAG};
use io_uring::{opcode, squeue, types, IoUring};
use std::fs;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The negative control of the fdinfo check (`--stress-miscount`): each
/// ring claims one completion more than it reaped.
pub(super) static MISCOUNT: AtomicBool = AtomicBool::new(false);

/// A ring's fdinfo with its counters. io_uring_show_fdinfo() prints them
/// only if it gets the ring's uring_lock with a trylock, so a read while a
/// worker holds it shows none: read again, for up to `FDINFO_WAIT`.
fn read_fdinfo(fd: i32) -> Result<String, String> {
    let path = format!("/proc/self/fdinfo/{fd}");
    let start = Instant::now();
    loop {
        let info = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        if info.lines().any(|l| l.starts_with("SqHead:")) {
            return Ok(info);
        }
        if start.elapsed() > FDINFO_WAIT {
            return Err(format!(
                "{path} of an io_uring had no SqHead for {} ms: its uring_lock was held \
                 all that time",
                FDINFO_WAIT.as_millis()
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

const FDINFO_WAIT: Duration = Duration::from_secs(2);

/// Requests one ring may have outstanding (its CQ holds twice as many).
pub(super) const SLOTS: usize = 32;
/// A request that has not completed this long after submission is a hang.
pub(super) const REAP_DEADLINE: Duration = Duration::from_secs(30);

/// Counters over all programs of one run.
pub struct Counts {
    pub(super) rings: AtomicU64,
    pub(super) setup_failed: AtomicU64,
    /// SQEs the programs put in their rings.
    pub(super) queued: AtomicU64,
    /// SQEs the kernel took: the sum of io_uring_enter()'s returns.
    pub(super) accepted: AtomicU64,
    pub(super) completed: AtomicU64,
    pub(super) errors: AtomicU64,
    /// At close, by the ring's fdinfo: requests the kernel had taken and not
    /// completed (SqHead - CqTail), completions not reaped (CqTail -
    /// CqHead), SQEs never taken (SqTail - SqHead).
    pub(super) in_flight: AtomicU64,
    pub(super) unreaped: AtomicU64,
    pub(super) unsubmitted: AtomicU64,
    pub(super) blocks_verified: AtomicU64,
    pub(super) kills: AtomicU64,
    pub(super) exits: AtomicU64,
    pub(super) injected: AtomicU64,
    pub(super) limit_changes: AtomicU64,
}

pub static COUNTS: Counts = Counts {
    rings: AtomicU64::new(0),
    setup_failed: AtomicU64::new(0),
    queued: AtomicU64::new(0),
    accepted: AtomicU64::new(0),
    completed: AtomicU64::new(0),
    errors: AtomicU64::new(0),
    in_flight: AtomicU64::new(0),
    unreaped: AtomicU64::new(0),
    unsubmitted: AtomicU64::new(0),
    blocks_verified: AtomicU64::new(0),
    kills: AtomicU64::new(0),
    exits: AtomicU64::new(0),
    injected: AtomicU64::new(0),
    limit_changes: AtomicU64::new(0),
};

impl Counts {
    pub fn line(&self) -> String {
        let g = |a: &AtomicU64| a.load(Relaxed);
        format!(
            "rings={} ring_setup_failed={} sqes_queued={} requests={} completions={} errors={} \
             in_flight_at_close={} unreaped_at_close={} never_submitted={} blocks_verified={} \
             limit_changes={} kills={} exits={} injected_failures={}",
            g(&self.rings),
            g(&self.setup_failed),
            g(&self.queued),
            g(&self.accepted),
            g(&self.completed),
            g(&self.errors),
            g(&self.in_flight),
            g(&self.unreaped),
            g(&self.unsubmitted),
            g(&self.blocks_verified),
            g(&self.limit_changes),
            g(&self.kills),
            g(&self.exits),
            g(&self.injected),
        )
    }
}

pub(super) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Relaxed);
}

#[derive(Clone, Copy)]
pub(super) enum Op {
    /// A write of block `.0` of the thread's data file.
    Write(usize),
    /// A read of reference block `.1` into read buffer `.0`.
    Read(usize, usize),
    /// A read from pipe fd `.0`, which nobody writes to: it blocks a worker
    /// until the ring is closed (or the write end is).
    Pipe(i32),
    /// An open of FIFO `.0`, which nobody opens for writing: it blocks a
    /// worker (opens are not poll-driven) until the ring is closed.
    Fifo(&'static std::ffi::CStr),
}

/// A ring and the requests it has outstanding. Completions are matched to
/// requests by `user_data` (slot and generation): a completion for a slot
/// that is free, or with another generation, is a duplicate or a stray.
pub(super) struct Ring {
    pub(super) ring: IoUring,
    pub(super) slots: [Option<(u32, Op)>; SLOTS],
    pub(super) gen: u32,
    pub(super) outstanding: usize,
    pub(super) pipes: usize,
    faults: Faults,
    /// SQEs put in the ring, taken by the kernel (io_uring_enter()'s
    /// returns), completions reaped: checked against the ring's fdinfo at
    /// close.
    queued: u32,
    accepted: u32,
    reaped: u32,
}

/// What a thread reads into: one buffer per slot, for the life of the
/// process (see `leak_blocks`).
pub(super) struct Readers {
    pub(super) bufs: &'static mut [[u8; BLK]],
    pub(super) pipe_buf: &'static mut [[u8; BLK]],
}

impl Readers {
    pub(super) fn new() -> Self {
        Readers {
            bufs: leak_blocks(SLOTS),
            pipe_buf: leak_blocks(1),
        }
    }
}

/// Whether errors are expected (fault injection) or a failure.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Faults {
    No,
    Yes,
}

impl Ring {
    pub(super) fn new(faults: Faults) -> Result<Option<Self>, String> {
        match IoUring::new(SLOTS as u32) {
            Ok(ring) => {
                bump(&COUNTS.rings, 1);
                Ok(Some(Ring {
                    ring,
                    slots: [None; SLOTS],
                    gen: 0,
                    outstanding: 0,
                    pipes: 0,
                    faults,
                    queued: 0,
                    accepted: 0,
                    reaped: 0,
                }))
            }
            Err(e) if faults == Faults::Yes => {
                let _ = e;
                bump(&COUNTS.setup_failed, 1);
                Ok(None)
            }
            Err(e) => Err(format!("io_uring_setup: {e}")),
        }
    }

    pub(super) fn free_slot(&self) -> Option<usize> {
        self.slots.iter().position(Option::is_none)
    }

    /// Queues one request (IOSQE_ASYNC: it goes to io-wq). Returns false
    /// when all slots are taken.
    pub(super) fn push(&mut self, op: Op, df: Option<&mut DataFile>, rd: &mut Readers) -> bool {
        let Some(slot) = self.free_slot() else {
            return false;
        };
        self.gen = self.gen.wrapping_add(1);
        let ud = (u64::from(self.gen) << 8) | slot as u64;
        let sqe = match op {
            Op::Write(b) => {
                let df = df.expect("a write needs a data file");
                if df.state[b] == 0 {
                    df.state[b] = 1;
                }
                let src = &df.src[b];
                opcode::Write::new(types::Fd(df.file.as_raw_fd()), src.as_ptr(), BLK as u32)
                    .offset((b * BLK) as u64)
                    .build()
            }
            Op::Read(i, b) => {
                rd.bufs[i].fill(0);
                opcode::Read::new(types::Fd(ref_fd()), rd.bufs[i].as_mut_ptr(), BLK as u32)
                    .offset((b * BLK) as u64)
                    .build()
            }
            Op::Pipe(fd) => {
                self.pipes += 1;
                opcode::Read::new(types::Fd(fd), rd.pipe_buf[0].as_mut_ptr(), 1).build()
            }
            Op::Fifo(path) => {
                self.pipes += 1;
                opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), path.as_ptr())
                    .flags(libc::O_RDONLY | libc::O_CLOEXEC)
                    .build()
            }
        };
        let sqe = sqe.flags(squeue::Flags::ASYNC).user_data(ud);
        // SAFETY: the buffers are leaked (live until the process exits), so
        // they outlive the request even when the ring is closed under it.
        if unsafe { self.ring.submission().push(&sqe) }.is_err() {
            // The SQ is full: submit what is there and retry once.
            self.submit();
            // SAFETY: as above.
            if unsafe { self.ring.submission().push(&sqe) }.is_err() {
                return false;
            }
        }
        self.slots[slot] = Some((self.gen, op));
        self.outstanding += 1;
        self.queued = self.queued.wrapping_add(1);
        bump(&COUNTS.queued, 1);
        true
    }

    /// Counts the SQEs an io_uring_enter() took.
    fn took(&mut self, n: usize) {
        self.accepted = self.accepted.wrapping_add(n as u32);
        bump(&COUNTS.accepted, n as u64);
    }

    /// Submits what is queued; errors from io_uring_enter itself are retried
    /// by the next call (the SQEs stay in the ring).
    pub(super) fn submit(&mut self) {
        if let Ok(n) = self.ring.submit() {
            self.took(n);
        }
    }

    /// Reaps completions until at most `left` requests other than pipe
    /// reads and FIFO opens (`pipes`, which only end when the ring is
    /// closed) are outstanding, checking each one.
    pub(super) fn reap_until(
        &mut self,
        left: usize,
        mut df: Option<&mut DataFile>,
        rd: &mut Readers,
        faults: Faults,
    ) -> Result<(), String> {
        let start = Instant::now();
        while self.outstanding - self.pipes > left {
            if start.elapsed() > REAP_DEADLINE {
                return Err(format!(
                    "{} requests did not complete within {} s ({})",
                    self.outstanding - self.pipes,
                    REAP_DEADLINE.as_secs(),
                    rings_and_workers()
                ));
            }
            let ts = types::Timespec::new().nsec(50_000_000);
            let args = types::SubmitArgs::new().timespec(&ts);
            match self.ring.submitter().submit_with_args(1, &args) {
                Ok(n) => self.took(n),
                Err(e) if e.raw_os_error() == Some(libc::ETIME) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) if faults == Faults::Yes => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(format!("io_uring_enter: {e}")),
            }
            while let Some(cqe) = self.ring.completion().next() {
                let ud = cqe.user_data();
                let slot = (ud & 0xff) as usize;
                let gen = (ud >> 8) as u32;
                let Some((g, op)) = self.slots.get(slot).copied().flatten() else {
                    return Err(format!(
                        "completion for no outstanding request (user_data {ud:#x}): a duplicate"
                    ));
                };
                if g != gen {
                    return Err(format!(
                        "completion with a stale user_data {ud:#x}: a duplicate"
                    ));
                }
                self.slots[slot] = None;
                self.outstanding -= 1;
                self.reaped = self.reaped.wrapping_add(1);
                bump(&COUNTS.completed, 1);
                let res = cqe.result();
                if res < 0 {
                    bump(&COUNTS.errors, 1);
                }
                let bad = |what: &str| Err(format!("{what} returned {res}"));
                match op {
                    Op::Write(b) => {
                        let df = df.as_deref_mut().expect("writes have a data file");
                        if res == BLK as i32 {
                            df.state[b] = 2;
                        } else if faults == Faults::No {
                            return bad("an async buffered write");
                        }
                    }
                    Op::Read(i, b) => {
                        if res == BLK as i32 {
                            let mut want = [0u8; BLK];
                            pattern(REF_TAG, b, &mut want);
                            if rd.bufs[i] != want {
                                return Err(format!(
                                    "an async read of reference block {b} returned wrong data"
                                ));
                            }
                        } else if faults == Faults::No {
                            return bad("an async buffered read");
                        }
                    }
                    Op::Pipe(_) => self.pipes -= 1,
                    Op::Fifo(_) => {
                        self.pipes -= 1;
                        if res >= 0 {
                            // SAFETY: an fd the open returned to us.
                            unsafe { libc::close(res) };
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Closes the ring. First the kernel's count of its requests, from its
    /// fdinfo, must agree with ours: SqTail = the SQEs we queued, SqHead =
    /// those io_uring_enter() said it took, CqHead = the completions we
    /// reaped, and CqTail no more than SqHead (a completion the kernel posted
    /// without a request). Under fault injection the read itself runs with
    /// injection off.
    pub(super) fn close(self) -> Result<(), String> {
        let fd = self.ring.as_raw_fd();
        let injecting = self.faults == Faults::Yes;
        if injecting {
            super::set_make_it_fail(false)?;
        }
        let info = read_fdinfo(fd);
        if injecting {
            super::set_make_it_fail(true)?;
        }
        let info = info?;
        let field = |name: &str| -> Result<u32, String> {
            info.lines()
                .find_map(|l| {
                    l.strip_prefix(name)?
                        .strip_prefix(":\t")?
                        .trim()
                        .parse()
                        .ok()
                })
                .ok_or_else(|| format!("no {name} in /proc/self/fdinfo/{fd} of an io_uring"))
        };
        let (sq_head, sq_tail) = (field("SqHead")?, field("SqTail")?);
        let (cq_head, cq_tail) = (field("CqHead")?, field("CqTail")?);
        let in_flight = sq_head.wrapping_sub(cq_tail);
        let theirs =
            format!("SqTail {sq_tail}, SqHead {sq_head}, CqHead {cq_head}, CqTail {cq_tail}");
        let reaped = self.reaped.wrapping_add(u32::from(MISCOUNT.load(Relaxed)));
        let ours = format!(
            "{} queued, {} taken by io_uring_enter(), {reaped} reaped",
            self.queued, self.accepted
        );
        if sq_tail != self.queued || sq_head != self.accepted || cq_head != reaped {
            return Err(format!(
                "the ring's fdinfo ({theirs}) disagrees with the program ({ours})"
            ));
        }
        if in_flight as usize > self.outstanding {
            return Err(format!(
                "the ring's fdinfo ({theirs}) has more requests in flight than the {} \
                 outstanding, or more completions than requests ({ours})",
                self.outstanding
            ));
        }
        bump(&COUNTS.in_flight, u64::from(in_flight));
        bump(&COUNTS.unreaped, u64::from(cq_tail.wrapping_sub(cq_head)));
        bump(
            &COUNTS.unsubmitted,
            u64::from(sq_tail.wrapping_sub(sq_head)),
        );
        // Unmapped and closed with make-it-fail off: a munmap() that fails
        // (ENOMEM) would leave the ring alive through its mapping, and its
        // blocked FIFO opens would hold this task's bound io-wq workers
        // (the limit is as low as 1 here) until the end of the run, so
        // that a later ring's reads wait behind them: the program's leak,
        // not io-wq's.
        if injecting {
            super::set_make_it_fail(false)?;
        }
        drop(self.ring);
        if injecting {
            super::set_make_it_fail(true)?;
        }
        Ok(())
    }
}

/// What a reap timeout is checked against: the io_uring mappings and ring
/// fds of the process (more mappings than fds: a ring kept alive by its
/// mapping), and where each io-wq worker of the process sleeps.
fn rings_and_workers() -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mappings = maps.lines().filter(|l| l.ends_with("[io_uring]")).count();
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|t| t.to_string_lossy() == "anon_inode:[io_uring]")
                })
                .count()
        })
        .unwrap_or(0);
    let mut workers: Vec<String> = Vec::new();
    if let Ok(d) = std::fs::read_dir("/proc/self/task") {
        for e in d.filter_map(Result::ok) {
            let p = e.path();
            let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
            if comm.starts_with("iou-wrk-") {
                let wchan = std::fs::read_to_string(p.join("wchan")).unwrap_or_default();
                workers.push(format!("{} in {}", comm.trim(), wchan.trim()));
            }
        }
    }
    workers.sort();
    format!(
        "{mappings} io_uring mappings, {fds} io_uring fds; workers: {}",
        if workers.is_empty() {
            "none".to_string()
        } else {
            workers.join(", ")
        }
    )
}
