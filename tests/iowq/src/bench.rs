// SPDX-License-Identifier: GPL-2.0
//! Measurements for `make bench` (scripts/bench.sh). Each prints one
//! `BENCH <metric> <value>` line per sample; the host collects them from
//! both kernels and compares. A measurement fails only when the harness
//! cannot measure (a worker that never exits is still a failure).
//!
//! `--bench-samples=N` sets the close-to-exit samples per boot,
//! `--bench-ops=N` the requests per hot-path run, `--bench-cycles=N` the
//! open+use+close cycles, `--bench-long-gaps=N` the idle gaps longer than
//! the idle timeout in the churn run, `--bench-reps=N` the hot-path runs.

use crate::{
    async_write, ring_with_worker, scratch_file, wait_for, workers, APPEAR_BOUND, EXIT_BOUND,
};
use io_uring::{opcode, squeue, types, IoUring};
use std::collections::BTreeSet;
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static SAMPLES: AtomicU64 = AtomicU64::new(15);
static OPS: AtomicU64 = AtomicU64::new(20_000);
static CYCLES: AtomicU64 = AtomicU64::new(250);
static LONG_GAPS: AtomicU64 = AtomicU64::new(2);
static REPS: AtomicU64 = AtomicU64::new(3);

pub fn parse_args(args: &[String]) {
    for a in args {
        for (k, v) in [
            ("--bench-samples=", &SAMPLES),
            ("--bench-ops=", &OPS),
            ("--bench-cycles=", &CYCLES),
            ("--bench-long-gaps=", &LONG_GAPS),
            ("--bench-reps=", &REPS),
        ] {
            if let Some(n) = a.strip_prefix(k).and_then(|s| s.parse().ok()) {
                v.store(n, Relaxed);
            }
        }
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The clock the guest runs on: a jiffies clock makes every time a
/// multiple of the tick.
fn clocksource() -> String {
    fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// (1) Close-to-exit latency: from close() of the only ring, with its worker
/// idle, to no iou-wrk thread in /proc/self/task. Polled without sleeping.
pub fn exit_latency() -> crate::Res {
    crate::clean_start()?;
    let file = scratch_file("bench-exit")?;
    let n = SAMPLES.load(Relaxed);
    let mut v = Vec::new();
    for _ in 0..n {
        let ring = ring_with_worker(&file)?;
        wait_for(APPEAR_BOUND, || workers() > 0)
            .ok_or("no iou-wrk thread after an IOSQE_ASYNC write")?;
        // Let the worker go idle (into its wait for work).
        std::thread::sleep(Duration::from_millis(20));
        let t0 = Instant::now();
        drop(ring);
        loop {
            if workers() == 0 {
                break;
            }
            if t0.elapsed() > EXIT_BOUND {
                return Err(format!(
                    "a worker was still there {} ms after close",
                    EXIT_BOUND.as_millis()
                ));
            }
            std::thread::yield_now();
        }
        let d = us(t0.elapsed());
        println!("BENCH exit_us {d:.3}");
        v.push(d);
        std::thread::sleep(Duration::from_millis(10));
    }
    v.sort_by(f64::total_cmp);
    Ok(format!(
        "{n} samples, median {:.1} us (clocksource {})",
        v[v.len() / 2],
        clocksource()
    ))
}

/// (2) Hot path: `OPS` buffered 4 KiB reads or writes with IOSQE_ASYNC on a
/// tmpfs file, `qd` in flight at a time. Every idle loop of the worker asks
/// the exit verdict, so this is where a slower Rust call would show.
pub fn hot_path() -> crate::Res {
    let file = scratch_file("bench-hot")?;
    const BLK: usize = 4096;
    const NBLK: u64 = 256;
    let mut buf = vec![0x5au8; BLK * 32];
    for b in 0..NBLK {
        file.write_at(&buf[..BLK], b * BLK as u64)
            .map_err(|e| format!("filling the file: {e}"))?;
    }
    let ops = OPS.load(Relaxed);
    let mut out = Vec::new();
    for (write, qd) in
        (0..REPS.load(Relaxed)).flat_map(|_| [(false, 1u32), (false, 32), (true, 1), (true, 32)])
    {
        let mut ring = IoUring::new(64).map_err(|e| format!("io_uring_setup: {e}"))?;
        let (mut sent, mut done, mut inflight) = (0u64, 0u64, 0u32);
        let t0 = Instant::now();
        while done < ops {
            while inflight < qd && sent < ops {
                let slot = (sent % u64::from(qd)) as usize;
                let p = buf[slot * BLK..].as_mut_ptr();
                let fd = types::Fd(file.as_raw_fd());
                let off = (sent % NBLK) * BLK as u64;
                let sqe = if write {
                    opcode::Write::new(fd, p, BLK as u32).offset(off).build()
                } else {
                    opcode::Read::new(fd, p, BLK as u32).offset(off).build()
                };
                let sqe = sqe.flags(squeue::Flags::ASYNC).user_data(sent);
                // SAFETY: `buf` outlives the ring. Out-of-order completions
                // can put two requests on one slot; the data is not looked at.
                unsafe { ring.submission().push(&sqe) }.map_err(|_| "SQ full")?;
                sent += 1;
                inflight += 1;
            }
            ring.submit_and_wait(1)
                .map_err(|e| format!("io_uring_enter: {e}"))?;
            for cqe in ring.completion() {
                if cqe.result() != BLK as i32 {
                    return Err(format!("a hot-path request returned {}", cqe.result()));
                }
                done += 1;
                inflight -= 1;
            }
        }
        let took = t0.elapsed();
        if took.is_zero() {
            return Err(format!(
                "{ops} ops took no measurable time: more ops, or a finer clock"
            ));
        }
        let rate = ops as f64 / took.as_secs_f64();
        let name = format!("hot_{}_qd{qd}_ops", if write { "write" } else { "read" });
        println!("BENCH {name} {rate:.0}");
        out.push(format!("{name} {rate:.0}/s"));
    }
    Ok(format!("{ops} ops per run: {}", out.join(", ")))
}

/// (2b) Ring switch: `OPS` NOPs, each batch of `batch` submitted to the next
/// of `rings` rings in turn, and waited for before the next batch. A
/// submission to a ring other than the task's last one goes through
/// `__io_uring_add_tctx_node()`, which leaves exit-on-idle (one
/// `clear_bit()` in C; with the option on, a `test_bit()` through
/// `io_wq_in_exit_on_idle()`, and calls into Rust only when the bit is
/// set); NOPs complete inline, so little else runs.
pub fn switch() -> crate::Res {
    let ops = OPS.load(Relaxed);
    let mut out = Vec::new();
    for (nrings, batch) in (0..REPS.load(Relaxed)).flat_map(|_| [(2, 1), (2, 8), (4, 1), (4, 8)]) {
        let mut rings = (0..nrings)
            .map(|_| IoUring::new(16).map_err(|e| format!("io_uring_setup: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut done = 0u64;
        let t0 = Instant::now();
        for i in 0.. {
            if done >= ops {
                break;
            }
            let ring = &mut rings[i % nrings];
            for j in 0..batch {
                let sqe = opcode::Nop::new().build().user_data(done + j);
                // SAFETY: a NOP refers to no memory.
                unsafe { ring.submission().push(&sqe) }.map_err(|_| "SQ full")?;
            }
            ring.submit_and_wait(batch as usize)
                .map_err(|e| format!("io_uring_enter: {e}"))?;
            for cqe in ring.completion() {
                if cqe.result() != 0 {
                    return Err(format!("a NOP returned {}", cqe.result()));
                }
                done += 1;
            }
        }
        let took = t0.elapsed();
        if took.is_zero() {
            return Err(format!(
                "{ops} NOPs took no measurable time: more ops, or a finer clock"
            ));
        }
        let rate = done as f64 / took.as_secs_f64();
        let name = format!("switch_r{nrings}_b{batch}_ops");
        println!("BENCH {name} {rate:.0}");
        out.push(format!("{name} {rate:.0}/s"));
    }
    Ok(format!("{ops} NOPs per run: {}", out.join(", ")))
}

/// (3) Churn: bursts of `k` opens of a FIFO that has no writer yet, each of
/// which blocks a worker (an open is not poll-driven; a pipe read would be),
/// on one ring that stays open, separated by gaps shorter and longer than
/// the idle timeout. Keepalive is unchanged for an open ring, so the workers
/// created are k for the first burst plus k-1 after each long gap (all but
/// one exited), on either kernel. Counted as distinct iou-wrk TIDs, polled
/// every 2 ms (a worker lives at least the 5 s idle timeout here).
pub fn churn() -> crate::Res {
    // At most io-wq's limit for bound work, min(SQ entries, 4 * CPUs).
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
    let k = 6.min(4 * ncpu);
    const SHORT_GAP: Duration = Duration::from_millis(200);
    const LONG_GAP: Duration = Duration::from_millis(6500);
    crate::clean_start()?;
    let long = LONG_GAPS.load(Relaxed) as usize;
    let fifo = std::env::temp_dir().join(format!("iowq-churn-{}", std::process::id()));
    let cpath =
        std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    let _ = fs::remove_file(&fifo);
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::mkfifo(cpath.as_ptr(), 0o600) } != 0 {
        return Err(format!(
            "mkfifo {}: {}",
            fifo.display(),
            std::io::Error::last_os_error()
        ));
    }
    let seen: Arc<Mutex<BTreeSet<u32>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (seen, stop) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                if let Ok(dir) = fs::read_dir("/proc/self/task") {
                    for e in dir.flatten() {
                        let is_wrk = fs::read_to_string(e.path().join("comm"))
                            .is_ok_and(|c| c.starts_with("iou-wrk-"));
                        let tid = e.file_name().to_str().and_then(|s| s.parse().ok());
                        if let (true, Some(tid)) = (is_wrk, tid) {
                            seen.lock().unwrap().insert(tid);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let mut ring = IoUring::new(64).map_err(|e| format!("io_uring_setup: {e}"))?;
    let mut gaps = Vec::new();
    for _ in 0..long {
        gaps.push(SHORT_GAP);
        gaps.push(LONG_GAP);
    }
    gaps.push(SHORT_GAP);
    gaps.push(Duration::ZERO);
    let result = (|| -> Result<(), String> {
        for (burst, gap) in gaps.iter().enumerate() {
            for i in 0..k {
                let sqe = opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), cpath.as_ptr())
                    .flags(libc::O_RDONLY | libc::O_CLOEXEC)
                    .build()
                    .flags(squeue::Flags::ASYNC)
                    .user_data(i as u64);
                // SAFETY: `cpath` outlives the requests, which complete below.
                unsafe { ring.submission().push(&sqe) }.map_err(|_| "SQ full")?;
            }
            ring.submit().map_err(|e| format!("io_uring_enter: {e}"))?;
            // All k opens are blocked in workers before the writer comes.
            if wait_for(APPEAR_BOUND, || workers() >= k).is_none() {
                let n = workers();
                let later = wait_for(Duration::from_secs(10), || workers() >= k);
                return Err(format!(
                    "burst {burst}: {n} workers for {k} blocked opens after {} ms; {} workers {later:?} later",
                    APPEAR_BOUND.as_millis(),
                    workers()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
            let w = fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .map_err(|e| format!("opening the FIFO for writing: {e}"))?;
            ring.submit_and_wait(k)
                .map_err(|e| format!("io_uring_enter: {e}"))?;
            let mut opened = 0;
            for c in ring.completion() {
                if c.result() >= 0 {
                    opened += 1;
                    // SAFETY: an fd the open returned to us.
                    unsafe { libc::close(c.result()) };
                }
            }
            drop(w);
            if opened != k {
                return Err(format!(
                    "burst {burst}: {opened} of {k} FIFO opens completed"
                ));
            }
            std::thread::sleep(*gap);
        }
        Ok(())
    })();
    stop.store(true, Relaxed);
    poller.join().map_err(|_| "poller panicked")?;
    drop(ring);
    let _ = fs::remove_file(&fifo);
    result?;
    let created = seen.lock().unwrap().len();
    let expected = k + long * (k - 1);
    println!("BENCH churn_workers {created}");
    wait_for(EXIT_BOUND, || workers() == 0)
        .ok_or("workers left after the churn ring was closed")?;
    if created != expected {
        return Err(format!(
            "{created} workers created in {} bursts of {k} with {long} gaps > idle timeout; \
             keepalive (one worker kept per class) predicts {expected}",
            gaps.len()
        ));
    }
    Ok(format!(
        "{} bursts of {k} blocking opens, {long} gaps > idle timeout: {created} workers created \
         (keepalive predicts {expected}: equal)",
        gaps.len()
    ))
}

/// (4) The switch itself: open a ring, one IOSQE_ASYNC write (a worker is
/// created, and the ring enters the task's tctx), close; `CYCLES` times, one
/// sample each. Each cycle starts with no worker: the wait for the last
/// one's exit is not timed. Back to back, a cycle would find the previous
/// cycle's worker still there or not, depending on where the exit was when
/// it began, and the sample would mix two operations.
pub fn cycle() -> crate::Res {
    crate::clean_start()?;
    let file = scratch_file("bench-cycle")?;
    let n = CYCLES.load(Relaxed);
    let mut timed = Duration::ZERO;
    for i in 0..n {
        wait_for(EXIT_BOUND, || workers() == 0)
            .ok_or_else(|| format!("cycle {i}: a worker was still there after the last close"))?;
        let t0 = Instant::now();
        let mut ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
        async_write(&mut ring, &file, b"cycle\n")?;
        drop(ring);
        let d = t0.elapsed();
        timed += d;
        println!("BENCH cycle_us {:.3}", us(d));
    }
    wait_for(EXIT_BOUND, || workers() == 0).ok_or("workers left after the last cycle")?;
    Ok(format!(
        "{n} open+write+close cycles, each from no worker: {:.1} ms in all ({:.1} us each)",
        timed.as_secs_f64() * 1e3,
        us(timed) / n as f64
    ))
}
