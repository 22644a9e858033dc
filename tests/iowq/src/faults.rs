// SPDX-License-Identifier: GPL-2.0
//! Deterministic regression tests of the two fixes, by fault injection by
//! count: `/proc/thread-self/fail-nth` fails exactly the nth allocation of
//! the next calls (FAILSLAB with `ignore-gfp-wait` off).
//!
//! - `fault-xa`: a ring setup that fails at each of its allocations in
//!   turn, while another ring keeps a worker; then that ring is closed and
//!   the worker must go. A failed `xa_store()` of the tctx node leaves
//!   empty xarray nodes, and `xa_empty()` never read true again (fix 2).
//! - `fault-install`: the task has no ring left and its io-wq is in
//!   exit-on-idle, with its worker woken but not yet run; a ring setup then
//!   fails at the tctx node install. The worker must still go: leaving the
//!   state before the install left keepalive on (fix 1). The worker is held
//!   off its CPU by making the task SCHED_FIFO on that CPU.
//!
//! Each runs in a thread of its own, whose tctx and io-wq go with it.

use std::fs;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use io_uring::IoUring;

use crate::{
    clean_start, ms, ring_with_worker, scratch_file, wait_for, workers, Res, APPEAR_BOUND,
    EXIT_BOUND,
};

const FAILSLAB: &str = "/sys/kernel/debug/failslab";
/// The exit-on-idle state is entered this long after close() at the
/// latest: the ring's exit work waits for an RCU grace period and polls
/// every 50 ms; on the debug kernel the workers go 60-120 ms after close.
const EXIT_WORK: Duration = Duration::from_millis(1500);

/// `/proc/thread-self/fail-nth`, opened once: writing and reading it then
/// allocate nothing, so they neither consume nor suffer an injected fault.
struct FailNth(fs::File);

impl FailNth {
    fn open() -> Result<Self, String> {
        if fs::metadata(FAILSLAB).is_err() {
            return Err(format!(
                "{FAILSLAB} missing: needs CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS (config kunit)"
            ));
        }
        // GFP_KERNEL allocations may fail too; no stack dumps.
        for (k, v) in [("ignore-gfp-wait", "N"), ("verbose", "0")] {
            fs::write(format!("{FAILSLAB}/{k}"), v).map_err(|e| format!("{FAILSLAB}/{k}: {e}"))?;
        }
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/proc/thread-self/fail-nth")
            .map(FailNth)
            .map_err(|e| format!("/proc/thread-self/fail-nth: {e} (CONFIG_FAULT_INJECTION)"))
    }

    /// Fails the nth allocation from now on (0: none).
    fn arm(&self, n: u32) -> Result<(), String> {
        self.0
            .write_at(n.to_string().as_bytes(), 0)
            .map(|_| ())
            .map_err(|e| format!("fail-nth <- {n}: {e}"))
    }

    /// How many allocations are left before the failure (0: it happened,
    /// or nothing is armed).
    fn left(&self) -> Result<u32, String> {
        let mut buf = [0u8; 16];
        let n = self
            .0
            .read_at(&mut buf, 0)
            .map_err(|e| format!("fail-nth: {e}"))?;
        String::from_utf8_lossy(&buf[..n])
            .trim()
            .parse()
            .map_err(|e| format!("fail-nth: {e}"))
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

/// How many allocations a successful setup makes, counted by fail-nth.
fn allocations(fail: &FailNth) -> Result<u32, String> {
    const MANY: u32 = 100_000;
    fail.arm(MANY)?;
    let r = setup();
    let left = fail.left()?;
    fail.arm(0)?;
    let fd = r.map_err(|e| format!("io_uring_setup with nothing failed: errno {e}"))?;
    close(fd);
    Ok(MANY - left)
}

/// Runs `f` in a thread of its own.
fn in_thread(f: fn() -> Res) -> Res {
    std::thread::spawn(f)
        .join()
        .unwrap_or_else(|_| Err("the test thread panicked".into()))
}

/// A ring with a worker that is up.
fn ring_up(file: &fs::File) -> Result<IoUring, String> {
    let ring = ring_with_worker(file)?;
    wait_for(APPEAR_BOUND, || workers() > 0)
        .ok_or("no iou-wrk thread after an IOSQE_ASYNC write")?;
    Ok(ring)
}

pub fn fault_xa() -> Res {
    in_thread(|| {
        clean_start()?;
        let fail = FailNth::open()?;
        let file = scratch_file("fault-xa")?;
        let total = allocations(&fail)?;
        let (mut failed, mut slowest) = (0, Duration::ZERO);
        for n in 1..=total + 1 {
            let ring = ring_up(&file)?;
            fail.arm(n)?;
            let r = setup();
            let left = fail.left()?;
            fail.arm(0)?;
            match r {
                Ok(fd) => close(fd),
                Err(libc::ENOMEM) => failed += 1,
                Err(e) => {
                    return Err(format!(
                        "io_uring_setup failing at allocation {n}: errno {e}, not ENOMEM"
                    ))
                }
            }
            drop(ring);
            let gone = wait_for(EXIT_BOUND, || workers() == 0).ok_or_else(|| {
                format!(
                    "{} iou-wrk threads still there {} ms after the last ring was closed; \
                     an io_uring_setup had failed at its allocation {n} of {total}",
                    workers(),
                    EXIT_BOUND.as_millis()
                )
            })?;
            slowest = slowest.max(gone);
            if r.is_ok() && left > 0 {
                break;
            }
        }
        if failed == 0 {
            return Err(format!(
                "no io_uring_setup failed ({total} allocations counted)"
            ));
        }
        Ok(format!(
            "io_uring_setup failed at each of its {failed} allocations in turn (of {total}); \
             after each, the worker was gone at most {} after the last close (bound {} ms)",
            ms(slowest),
            EXIT_BOUND.as_millis()
        ))
    })
}

/// This thread on CPU 0 only.
fn pin_cpu0() -> Result<libc::cpu_set_t, String> {
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

/// Closes `ring` and spins, SCHED_FIFO on the worker's CPU, until the
/// ring's exit work has put the io-wq into exit-on-idle: the worker is
/// woken but cannot run. Then a setup that fails at allocation `n`.
/// Returns the setup's result; the thread is SCHED_OTHER again.
fn close_then_fail(ring: IoUring, fail: &FailNth, n: u32) -> Result<Result<i32, i32>, String> {
    set_fifo(true)?;
    drop(ring);
    let start = Instant::now();
    // Each getpid() returns to user mode, which runs the task_work that
    // enters exit-on-idle (io_tctx_exit_cb()).
    while start.elapsed() < EXIT_WORK {
        // SAFETY: getpid(2) cannot fail.
        unsafe { libc::getpid() };
    }
    let r = fail.arm(n).map(|()| setup());
    let reset = fail.arm(0);
    set_fifo(false)?;
    reset?;
    r
}

pub fn fault_install() -> Res {
    in_thread(|| {
        clean_start()?;
        let fail = FailNth::open()?;
        let file = scratch_file("fault-install")?;
        let cpu0 = pin_cpu0()?;
        let _rt = NoRtThrottle::new()?;
        // The first setup of a thread also allocates its tctx and io-wq.
        allocations(&fail)?;
        let total = allocations(&fail)?;
        // The tctx node install is the last thing io_uring_setup allocates
        // for (its node, then the xarray's); sweep the tail.
        let first = total.saturating_sub(9).max(1);
        let (mut failed, mut slowest) = (0, Duration::ZERO);
        for n in first..=total {
            let ring = ring_up(&file)?;
            ring.submitter()
                .register_iowq_aff(&cpu0)
                .map_err(|e| format!("IORING_REGISTER_IOWQ_AFF(CPU 0): {e}"))?;
            match close_then_fail(ring, &fail, n)? {
                Ok(fd) => close(fd),
                Err(libc::ENOMEM) => failed += 1,
                Err(e) => {
                    return Err(format!(
                        "io_uring_setup failing at allocation {n}: errno {e}"
                    ))
                }
            }
            let gone = wait_for(EXIT_BOUND, || workers() == 0).ok_or_else(|| {
                format!(
                    "{} iou-wrk threads still there {} ms after an io_uring_setup failed at its \
                     allocation {n} of {total}, with no ring left",
                    workers(),
                    EXIT_BOUND.as_millis()
                )
            })?;
            slowest = slowest.max(gone);
        }
        if failed == 0 {
            return Err(format!(
                "no io_uring_setup failed in allocations {first}..={total}"
            ));
        }
        Ok(format!(
            "{failed} setups failed at allocations {first}..={total} of {total}, each in \
             exit-on-idle with the worker woken and held off CPU 0; the worker was gone at most \
             {} after (bound {} ms)",
            ms(slowest),
            EXIT_BOUND.as_millis()
        ))
    })
}
