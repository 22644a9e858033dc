// SPDX-License-Identifier: GPL-2.0
//! Deterministic regression tests of the two fixes, by fault injection by
//! count: `/proc/thread-self/fail-nth` fails exactly the nth allocation of
//! the next calls (FAILSLAB with `ignore-gfp-wait` off).
//!
//! - `fault-xa`: a ring setup that fails at each of its allocations in
//!   turn, while another ring keeps a worker; then that ring is closed and
//!   the worker must go. A failed `xa_store()` of the tctx node leaves
//!   empty xarray nodes, and `xa_empty()` never read true again (fix 2).
//!   Only when the store needs two new nodes or more, though, which depends
//!   on how far apart the two rings' contexts are in memory (the xarray's
//!   index is the context's address): the sweep is made in [`XA_ROUNDS`]
//!   rounds, each with a different number of rings held by another thread,
//!   which moves the contexts the sweep allocates.
//! - `fault-install`: the task has no ring left and its io-wq is in
//!   exit-on-idle, with its worker woken but not yet run; a ring setup then
//!   fails at each of its allocations in turn, the tctx node install's
//!   among them. The worker must still go: leaving the state before the
//!   install left keepalive on (fix 1). The worker is held off its CPU by
//!   making the task SCHED_FIFO on that CPU.
//!
//! Each runs in a thread of its own, whose tctx and io-wq go with it.

use std::fs;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use io_uring::IoUring;

use crate::{
    async_write, clean_start, ms, scratch_file, wait_for, workers, Res, APPEAR_BOUND, EXIT_BOUND,
};

const FAILSLAB: &str = "/sys/kernel/debug/failslab";
/// The exit-on-idle state is entered this long after close() at the
/// latest: the ring's exit work waits for an RCU grace period and polls
/// every 50 ms; on the debug kernel the workers go 60-120 ms after close.
const EXIT_WORK: Duration = Duration::from_millis(1500);

/// Fault injection for this thread, by count. `/proc/thread-self/fail-nth`
/// fails the nth allocation; FAILSLAB's own knobs (probability 100, `times`,
/// `task-filter` with this thread's `make-it-fail`) can fail the one right
/// after it too. The files are opened once: writing and reading them then
/// allocates nothing, so it neither consumes nor suffers an injected fault.
struct Faults {
    nth: fs::File,
    make_it_fail: fs::File,
    probability: fs::File,
    times: fs::File,
}

fn open_rw(path: &str) -> Result<fs::File, String> {
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("{path}: {e}"))
}

/// One write(2) of `v` (debugfs attributes cannot seek: no pwrite).
fn put(mut f: &fs::File, what: &str, v: &str) -> Result<(), String> {
    use std::io::Write;
    f.write(v.as_bytes())
        .map(|_| ())
        .map_err(|e| format!("{what} <- {v}: {e}"))
}

impl Faults {
    fn open() -> Result<Self, String> {
        if fs::metadata(FAILSLAB).is_err() {
            return Err(format!(
                "{FAILSLAB} missing: needs CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS (config kunit)"
            ));
        }
        // GFP_KERNEL allocations may fail too, only in tasks with
        // make-it-fail set; no stack dumps.
        for (k, v) in [
            ("probability", "0"),
            ("ignore-gfp-wait", "N"),
            ("verbose", "0"),
            ("task-filter", "Y"),
            ("interval", "1"),
            ("space", "0"),
        ] {
            fs::write(format!("{FAILSLAB}/{k}"), v).map_err(|e| format!("{FAILSLAB}/{k}: {e}"))?;
        }
        Ok(Faults {
            nth: open_rw("/proc/thread-self/fail-nth")?,
            make_it_fail: open_rw("/proc/thread-self/make-it-fail")?,
            probability: open_rw(&format!("{FAILSLAB}/probability"))?,
            times: open_rw(&format!("{FAILSLAB}/times"))?,
        })
    }

    /// Fails the nth allocation from now on, and with `twice` the one after
    /// it as well (fail-nth's failure uses up one of `times`).
    fn arm(&self, n: u32, twice: bool) -> Result<(), String> {
        if twice {
            put(&self.times, "failslab/times", "2")?;
            put(&self.make_it_fail, "make-it-fail", "1")?;
            put(&self.probability, "failslab/probability", "100")?;
        }
        put(&self.nth, "fail-nth", &n.to_string())
    }

    /// Nothing fails any more. Returns how many allocations were left
    /// before the nth (0: it failed).
    fn disarm(&self) -> Result<u32, String> {
        put(&self.probability, "failslab/probability", "0")?;
        put(&self.make_it_fail, "make-it-fail", "0")?;
        let mut buf = [0u8; 16];
        let n = self
            .nth
            .read_at(&mut buf, 0)
            .map_err(|e| format!("fail-nth: {e}"))?;
        let left = String::from_utf8_lossy(&buf[..n])
            .trim()
            .parse()
            .map_err(|e| format!("fail-nth: {e}"))?;
        put(&self.nth, "fail-nth", "0")?;
        Ok(left)
    }
}

/// io_uring_setup(2) alone, without the mmaps that IoUring::new() adds:
/// Ok(fd) or Err(errno).
fn setup() -> Result<i32, i32> {
    let mut params = [0u8; 120];
    // SAFETY: io_uring_setup(2) with a zeroed io_uring_params (120 bytes).
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 8u32, params.as_mut_ptr()) };
    if fd < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(fd as i32)
    }
}

fn close(fd: i32) {
    // SAFETY: closing an fd this thread owns.
    unsafe { libc::close(fd) };
}

/// Runs `f` in a thread of its own.
fn in_thread(f: fn() -> Res) -> Res {
    std::thread::spawn(f)
        .join()
        .unwrap_or_else(|_| Err("the test thread panicked".into()))
}

/// A ring with a worker that is up; with `cpu`, the io-wq's CPU mask is
/// set to it first, so that the worker is created bound to it.
fn ring_up(file: &fs::File, cpu: Option<&libc::cpu_set_t>) -> Result<IoUring, String> {
    let mut ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
    if let Some(cpu) = cpu {
        ring.submitter()
            .register_iowq_aff(cpu)
            .map_err(|e| format!("IORING_REGISTER_IOWQ_AFF: {e}"))?;
    }
    async_write(&mut ring, file, b"fault injection\n")?;
    wait_for(APPEAR_BOUND, || workers() > 0)
        .ok_or("no iou-wrk thread after an IOSQE_ASYNC write")?;
    Ok(ring)
}

/// Rounds of `fault-xa`'s sweep; round r has r rings held by another
/// thread, in its own tctx, so that the sweep's contexts come from other
/// places of the slab. One round alone did not always need two new xarray
/// nodes (seen on 6.12.117 without fix 2: one run in three passed).
const XA_ROUNDS: usize = 8;

/// Holds `k` rings in a thread of its own until dropped.
struct HeldRings(
    Option<std::sync::mpsc::Sender<()>>,
    Option<std::thread::JoinHandle<()>>,
);

impl HeldRings {
    fn new(k: usize) -> Result<Self, String> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let fds: Result<Vec<i32>, i32> = (0..k).map(|_| setup()).collect();
            let ok = fds.as_ref().map(|_| ()).map_err(|e| *e);
            let _ = ready_tx.send(ok);
            let _ = done_rx.recv();
            fds.into_iter().flatten().for_each(close);
        });
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(HeldRings(Some(done_tx), Some(t))),
            Ok(Err(e)) => Err(format!("io_uring_setup of a held ring: errno {e}")),
            Err(_) => Err("the thread holding rings ended early".into()),
        }
    }
}

impl Drop for HeldRings {
    fn drop(&mut self) {
        drop(self.0.take());
        if let Some(t) = self.1.take() {
            let _ = t.join();
        }
    }
}

/// `xa_store()` of the tctx node retries a failed GFP_NOWAIT node
/// allocation once with GFP_KERNEL, so only two failures in a row make it
/// fail; each allocation is failed together with the next one.
pub fn fault_xa() -> Res {
    in_thread(|| {
        clean_start()?;
        let faults = Faults::open()?;
        let file = scratch_file("fault-xa")?;
        let (mut failed, mut slowest, mut lasts) = (0, Duration::ZERO, Vec::new());
        for round in 0..XA_ROUNDS {
            let held = HeldRings::new(round)?;
            let what = format!("with its allocations n and n+1 failed ({round} rings held)");
            let (f, s, last) = sweep(&what, |n| {
                let ring = ring_up(&file, None)?;
                faults.arm(n, true)?;
                let r = setup();
                let left = faults.disarm()?;
                drop(ring);
                Ok((r, left))
            })?;
            drop(held);
            failed += f;
            slowest = slowest.max(s);
            lasts.push(last);
        }
        Ok(format!(
            "io_uring_setup with its allocations n and n+1 failed, n = 1..=last, last = {lasts:?} \
             in {XA_ROUNDS} rounds with 0 to {} rings held by another thread ({failed} \
             setups failed); after each, the worker was gone at most {} after the last close \
             (bound {} ms)",
            XA_ROUNDS - 1,
            ms(slowest),
            EXIT_BOUND.as_millis()
        ))
    })
}

/// Runs `one(n)` for n = 1, 2, ... — a ring setup made to fail at its nth
/// allocation(s), after which the task has no ring left — until a setup
/// succeeds with allocations to spare. After each, every worker must be
/// gone within the bound. Returns how many setups failed, the slowest exit
/// and the last n.
fn sweep(
    what: &str,
    mut one: impl FnMut(u32) -> Result<(Result<i32, i32>, u32), String>,
) -> Result<(u32, Duration, u32), String> {
    let (mut failed, mut slowest) = (0, Duration::ZERO);
    for n in 1.. {
        let (r, left) = one(n)?;
        match r {
            Ok(fd) => close(fd),
            Err(libc::ENOMEM) => failed += 1,
            Err(e) => {
                return Err(format!(
                    "io_uring_setup {what}, n = {n}: errno {e}, not ENOMEM"
                ))
            }
        }
        let gone = wait_for(EXIT_BOUND, || workers() == 0).ok_or_else(|| {
            format!(
                "{} iou-wrk threads still there {} ms after the last ring was closed; an \
                 io_uring_setup {what}, n = {n}",
                workers(),
                EXIT_BOUND.as_millis()
            )
        })?;
        slowest = slowest.max(gone);
        if r.is_ok() && left > 0 {
            if failed == 0 {
                return Err(format!("no io_uring_setup {what} failed"));
            }
            return Ok((failed, slowest, n));
        }
    }
    unreachable!("the loop over n = 1.. only ends by returning")
}

/// This thread on CPU 0 only.
pub fn pin_cpu0() -> Result<libc::cpu_set_t, String> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET only write into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU 0 is within the set.
    unsafe { libc::CPU_SET(0, &mut set) };
    // SAFETY: a valid cpu_set_t of the size given.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) } != 0 {
        return Err(format!(
            "sched_setaffinity(CPU 0): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(set)
}

fn set_fifo(on: bool) -> Result<(), String> {
    let param = libc::sched_param {
        sched_priority: i32::from(on),
    };
    let policy = if on {
        libc::SCHED_FIFO
    } else {
        libc::SCHED_OTHER
    };
    // SAFETY: a valid sched_param.
    if unsafe { libc::sched_setscheduler(0, policy, &param) } != 0 {
        return Err(format!(
            "sched_setscheduler: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// RT throttling would hand the worker its CPU for 50 ms a second.
struct NoRtThrottle(String);

impl NoRtThrottle {
    const KNOB: &'static str = "/proc/sys/kernel/sched_rt_runtime_us";

    fn new() -> Result<Self, String> {
        let old = fs::read_to_string(Self::KNOB).map_err(|e| format!("{}: {e}", Self::KNOB))?;
        fs::write(Self::KNOB, "-1").map_err(|e| format!("{}: {e}", Self::KNOB))?;
        Ok(NoRtThrottle(old.trim().to_string()))
    }
}

impl Drop for NoRtThrottle {
    fn drop(&mut self) {
        let _ = fs::write(Self::KNOB, &self.0);
    }
}

/// The scheduler state letter of thread `tid` of this process.
fn state_of(tid: &str) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // "tid (comm) S ...": the letter after the comm's closing parenthesis.
    stat.rsplit_once(") ")?.1.chars().next()
}

/// Closes `ring` and spins, SCHED_FIFO on the worker's CPU, until the
/// ring's exit work has put the io-wq into exit-on-idle and woken the
/// worker, which cannot run: it reads as runnable ('R'). Then a setup that
/// fails at allocation `n`. Returns the setup's result and the allocations
/// left (see [`Faults::disarm`]); the thread is SCHED_OTHER again.
fn close_then_fail(
    ring: IoUring,
    faults: &Faults,
    n: u32,
) -> Result<(Result<i32, i32>, u32), String> {
    let worker = crate::task_comms("/proc/self/task")
        .into_iter()
        .find(|(_, c)| c.starts_with("iou-wrk-"))
        .map(|(tid, _)| tid)
        .ok_or("no iou-wrk thread to hold off its CPU")?;
    // The write's completion woke this thread on the worker's CPU, and it
    // may have run before the worker went back to sleep: wait for that.
    if wait_for(EXIT_WORK, || state_of(&worker) == Some('S')).is_none() {
        return Err(format!(
            "worker {worker} not asleep {} ms after its write completed: {:?}",
            EXIT_WORK.as_millis(),
            state_of(&worker)
        ));
    }
    set_fifo(true)?;
    drop(ring);
    let start = Instant::now();
    // Each read of /proc returns to user mode, which runs the task_work
    // that enters exit-on-idle (io_tctx_exit_cb()) and wakes the worker.
    while state_of(&worker) != Some('R') {
        if start.elapsed() > EXIT_WORK {
            set_fifo(false)?;
            return Err(format!(
                "worker {worker} not woken {} ms after the last ring was closed: {:?}",
                EXIT_WORK.as_millis(),
                state_of(&worker)
            ));
        }
    }
    let r = faults.arm(n, false).map(|()| setup());
    let left = faults.disarm();
    set_fifo(false)?;
    Ok((r?, left?))
}

pub fn fault_install() -> Res {
    in_thread(|| {
        clean_start()?;
        let faults = Faults::open()?;
        let file = scratch_file("fault-install")?;
        let cpu0 = pin_cpu0()?;
        let _rt = NoRtThrottle::new()?;
        // Each allocation of the setup in turn, the tctx node install's
        // among them, in exit-on-idle with the worker woken but held off.
        let (failed, slowest, last) = sweep("with its allocation n failed in exit-on-idle", |n| {
            let ring = ring_up(&file, Some(&cpu0))?;
            close_then_fail(ring, &faults, n)
        })?;
        Ok(format!(
            "io_uring_setup with its allocation n failed, n = 1..={last} ({failed} setups \
             failed), each in exit-on-idle with the worker woken and held off CPU 0; the worker \
             was gone at most {} after (bound {} ms)",
            ms(slowest),
            EXIT_BOUND.as_millis()
        ))
    })
}
