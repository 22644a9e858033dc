// SPDX-License-Identifier: GPL-2.0
//! Stress programs for `make stress`: rings opened and closed under load,
//! worker creation raced against close, limits and affinity changed under
//! the storm, processes killed or exiting with requests in flight, and
//! allocations failing (FAILSLAB) in the submitting threads.
//!
//! Every program runs for a bounded time (`--stress-secs=N`), counts each
//! request the kernel takes and each completion it reaps (a completion for
//! a request that is not outstanding is a failure, so is a request that
//! does not complete within `REAP_DEADLINE`), checks those counts against
//! the ring's fdinfo when it closes a ring (src/stress/ring.rs), verifies
//! the data it wrote and read (src/stress/data.rs), and ends with its
//! threads still alive and all rings closed: then no `iou-wrk` thread may
//! be left anywhere in the system.
//!
//! `--stress-miscount` is the negative control of the fdinfo check: every
//! ring then claims one completion more than it reaped, which the check
//! must refuse (`scripts/stress.sh --negative`).

mod data;
mod ring;

use crate::{wait_for, EXIT_BOUND};
use data::{ref_init, DataFile, Rng, NBLK};
pub use ring::COUNTS;
use ring::{bump, Faults, Op, Readers, Ring, REAP_DEADLINE};
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// Seconds each program runs; set from `--stress-secs=N`.
pub static SECS: AtomicU64 = AtomicU64::new(30);

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(SECS.load(Relaxed))
}

/// A FIFO in the temp dir for thread `id` of this process.
fn fifo(id: u64) -> Result<&'static std::ffi::CStr, String> {
    let p = std::env::temp_dir().join(format!("iowq-fifo-{}-{id}", std::process::id()));
    let _ = fs::remove_file(&p);
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(format!(
            "mkfifo {}: {}",
            p.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(Box::leak(c.into_boxed_c_str()))
}

/// Unmaps the io_uring mappings still in /proc/self/maps; returns how many.
fn unmap_leftover_rings() -> Result<usize, String> {
    let maps =
        fs::read_to_string("/proc/self/maps").map_err(|e| format!("/proc/self/maps: {e}"))?;
    let mut n = 0;
    for line in maps.lines().filter(|l| l.ends_with("[io_uring]")) {
        let range = line.split_whitespace().next().unwrap_or("");
        let (a, b) = range.split_once('-').ok_or("bad /proc/self/maps line")?;
        let a = usize::from_str_radix(a, 16).map_err(|e| e.to_string())?;
        let b = usize::from_str_radix(b, 16).map_err(|e| e.to_string())?;
        // SAFETY: the range is an io_uring mapping no live ring uses any
        // more: every thread has closed its rings.
        if unsafe { libc::munmap(a as *mut libc::c_void, b - a) } != 0 {
            return Err(format!(
                "munmap {range}: {}",
                std::io::Error::last_os_error()
            ));
        }
        n += 1;
    }
    Ok(n)
}

/// Removes the FIFOs a killed child left.
fn remove_fifos(pid: u32) {
    let prefix = format!("iowq-fifo-{pid}-");
    if let Ok(dir) = fs::read_dir(std::env::temp_dir()) {
        for e in dir.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills the two fds it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both fds are new and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Every `iou-wrk` thread in the system, as "pid/tid comm".
pub fn all_workers() -> Vec<String> {
    let mut found = Vec::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return found;
    };
    for p in procs.flatten() {
        let pid = p.file_name();
        let Some(pid) = pid
            .to_str()
            .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
        else {
            continue;
        };
        for (tid, comm) in crate::task_comms(p.path().join("task")) {
            if comm.starts_with("iou-wrk-") {
                found.push(format!("{pid}/{tid} {comm}"));
            }
        }
    }
    found
}

/// No `iou-wrk` thread anywhere within the exit bound.
fn no_workers_left(when: &str) -> Result<Duration, String> {
    wait_for(EXIT_BOUND, || all_workers().is_empty()).ok_or_else(|| {
        let left = all_workers();
        format!(
            "{} iou-wrk threads left {} ms after {when}: {}; {}",
            left.len(),
            EXIT_BOUND.as_millis(),
            left.join(", "),
            linger_report(&left)
        )
    })
}

/// How long to keep watching workers that outstayed `EXIT_BOUND`: three
/// idle timeouts, so that one that only leaves at its idle timeout (5 s)
/// shows as such, and one that never leaves shows as that.
const LINGER_WATCH: Duration = Duration::from_secs(15);

/// What became of workers that outstayed the bound (entries of
/// [`all_workers`]): when each left, or that it was still there after
/// `LINGER_WATCH`, with its wchan; and the io_uring fds and mappings of
/// this process, which keep rings alive.
fn linger_report(left: &[String]) -> String {
    let start = Instant::now();
    let path = |w: &String| {
        let id = w.split(' ').next().unwrap_or("");
        let (pid, tid) = id.split_once('/').unwrap_or((id, id));
        format!("/proc/{pid}/task/{tid}")
    };
    let wchan: Vec<String> = left
        .iter()
        .map(|w| fs::read_to_string(path(w) + "/wchan").unwrap_or_default())
        .collect();
    let mut gone: Vec<Option<Duration>> = vec![None; left.len()];
    while start.elapsed() < LINGER_WATCH && gone.iter().any(Option::is_none) {
        for (g, w) in gone.iter_mut().zip(left) {
            if g.is_none() && fs::metadata(path(w)).is_err() {
                *g = Some(start.elapsed() + EXIT_BOUND);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let fates: Vec<String> = left
        .iter()
        .zip(&gone)
        .zip(&wchan)
        .map(|((w, g), c)| match g {
            Some(t) => format!("{w} (in {c}) gone after {} ms", t.as_millis()),
            None => format!(
                "{w} (in {c}) still there after {} ms",
                (LINGER_WATCH + EXIT_BOUND).as_millis()
            ),
        })
        .collect();
    let fds = fs::read_dir("/proc/self/fd").map_or(0, |d| {
        d.flatten()
            .filter(|e| {
                fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().contains("io_uring"))
            })
            .count()
    });
    let maps = fs::read_to_string("/proc/self/maps").map_or(0, |m| {
        m.lines().filter(|l| l.ends_with("[io_uring]")).count()
    });
    format!(
        "{}; this process has {fds} io_uring fds and {maps} io_uring mappings",
        fates.join(", ")
    )
}

/// What a storm thread does besides open/use/close.
#[derive(Clone, Copy)]
struct Mode {
    faults: Faults,
    /// Change io-wq limits and affinity while requests are in flight.
    limits: bool,
}

/// Open a ring, queue async writes and reads, then either wait for all of
/// them, for some, or none, and close it. Repeated until `until`.
fn storm_thread(id: u64, mode: Mode, until: Instant, stop: &AtomicBool) -> Result<(), String> {
    let mut rng = Rng::new(id + 1);
    let mut df = DataFile::new(id)?;
    let mut rd = Readers::new();
    let (p_rd, _p_wr) = pipe()?;
    prefault_stack();
    set_make_it_fail(mode.faults == Faults::Yes)?;
    let r = (|| -> Result<(), String> {
        while Instant::now() < until && !stop.load(Relaxed) {
            let Some(mut ring) = Ring::new(mode.faults)? else {
                continue;
            };
            let n = 1 + rng.below(12) as usize;
            for i in 0..n {
                let op = if rng.below(3) == 0 {
                    Op::Read(i, (id as usize * 7 + i) % NBLK)
                } else {
                    let b = df.next % NBLK;
                    df.next += 1;
                    Op::Write(b)
                };
                ring.push(op, Some(&mut df), &mut rd);
            }
            if rng.below(4) == 0 {
                ring.push(Op::Pipe(p_rd.as_raw_fd()), None, &mut rd);
            }
            ring.submit();
            if mode.limits {
                change_limits(&ring, &mut rng, mode.faults)?;
            }
            match rng.below(3) {
                0 => ring.reap_until(0, Some(&mut df), &mut rd, mode.faults)?,
                1 => {
                    let left = rng.below(n as u64 + 1) as usize;
                    ring.reap_until(left, Some(&mut df), &mut rd, mode.faults)?
                }
                _ => {}
            }
            ring.close()?;
        }
        Ok(())
    })();
    set_make_it_fail(false)?;
    r?;
    df.verify()
}

/// A long-lived ring kept busy with writes until the storm is over: its
/// io-wq keeps its workers while the storm threads flip theirs.
fn busy_thread(id: u64, stop: &AtomicBool) -> Result<(), String> {
    let mut df = DataFile::new(id)?;
    let mut rd = Readers::new();
    let mut ring = Ring::new(Faults::No)?.ok_or("no ring")?;
    while !stop.load(Relaxed) {
        for _ in 0..8 {
            let b = df.next % NBLK;
            df.next += 1;
            ring.push(Op::Write(b), Some(&mut df), &mut rd);
        }
        ring.submit();
        ring.reap_until(0, Some(&mut df), &mut rd, Faults::No)?;
    }
    ring.close()?;
    df.verify()
}

/// Many requests at once on a fresh ring, so that io-wq creates workers,
/// then close at once or after a few completions: a close with worker
/// creation pending and work queued behind it.
fn races_thread(id: u64, mode: Mode, until: Instant, stop: &AtomicBool) -> Result<(), String> {
    let mut rng = Rng::new(0x5eed + id);
    let mut rd = Readers::new();
    let fifo = fifo(id)?;
    prefault_stack();
    set_make_it_fail(mode.faults == Faults::Yes)?;
    let r = (|| -> Result<(), String> {
        while Instant::now() < until && !stop.load(Relaxed) {
            let (p_rd, p_wr) = match pipe() {
                Ok(p) => p,
                Err(_) if mode.faults == Faults::Yes => continue,
                Err(e) => return Err(e),
            };
            let Some(mut ring) = Ring::new(mode.faults)? else {
                continue;
            };
            if mode.limits && rng.below(2) == 0 {
                change_limits(&ring, &mut rng, mode.faults)?;
            }
            let close = rng.below(4);
            let reads = 8 + rng.below(16) as usize;
            let pipes = 1 + rng.below(6) as usize;
            for i in 0..reads {
                ring.push(Op::Read(i, (i * 13 + id as usize) % NBLK), None, &mut rd);
            }
            for _ in 0..pipes {
                ring.push(Op::Pipe(p_rd.as_raw_fd()), None, &mut rd);
            }
            // Workers blocked in open() until the close cancels them; not
            // when waiting for the reads, which a max_workers limit could
            // queue behind them.
            if close != 0 {
                for _ in 0..1 + rng.below(3) {
                    ring.push(Op::Fifo(fifo), None, &mut rd);
                }
            }
            ring.submit();
            if mode.limits {
                change_limits(&ring, &mut rng, mode.faults)?;
            }
            match close {
                0 => ring.reap_until(0, None, &mut rd, mode.faults)?,
                1 => std::thread::yield_now(),
                2 => drop(p_wr),
                _ => {}
            }
            ring.close()?;
        }
        Ok(())
    })();
    set_make_it_fail(false)?;
    let _ = fs::remove_file(std::ffi::OsStr::from_bytes(fifo.to_bytes()));
    r
}

/// IORING_REGISTER_IOWQ_MAX_WORKERS, IORING_REGISTER_IOWQ_AFF and
/// sched_setaffinity with random values.
fn change_limits(ring: &Ring, rng: &mut Rng, faults: Faults) -> Result<(), String> {
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sub = ring.ring.submitter();
    let r = match rng.below(4) {
        0 => {
            let mut max = [1 + rng.below(4) as u32, 1 + rng.below(8) as u32];
            sub.register_iowq_max_workers(&mut max)
        }
        1 => {
            // SAFETY: cpu_set_t is plain data; CPU_SET stays in bounds.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            let cpu = rng.below(ncpu as u64 + 1) as usize;
            for c in 0..ncpu {
                if cpu == ncpu || c == cpu {
                    // SAFETY: c < ncpu <= CPU_SETSIZE.
                    unsafe { libc::CPU_SET(c, &mut set) };
                }
            }
            sub.register_iowq_aff(&set)
        }
        2 => sub.unregister_iowq_aff(),
        _ => {
            // SAFETY: as above.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            let cpu = rng.below(ncpu as u64) as usize;
            // SAFETY: cpu < ncpu.
            unsafe { libc::CPU_SET(cpu, &mut set) };
            if rng.below(2) == 0 {
                for c in 0..ncpu {
                    // SAFETY: c < ncpu.
                    unsafe { libc::CPU_SET(c, &mut set) };
                }
            }
            // SAFETY: a valid cpu_set_t of the right size for this thread.
            if unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) } == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        }
    };
    bump(&COUNTS.limit_changes, 1);
    match r {
        Ok(()) => Ok(()),
        Err(_) if faults == Faults::Yes => Ok(()),
        Err(e) => Err(format!("changing io-wq limits or affinity: {e}")),
    }
}

/// Fault injection for this thread: /proc/thread-self/make-it-fail (only
/// tasks with it set fail, see FAILSLAB's task-filter).
fn set_make_it_fail(on: bool) -> Result<(), String> {
    if !FAULTS_ON.load(Relaxed) {
        return Ok(());
    }
    // Turning it off runs with it on: the write itself may get an injected
    // ENOMEM (3% of its allocations fail). Try again; 100 failures in a row
    // would be a 1e-152 chance, not injection.
    for _ in 0..100 {
        match fs::write("/proc/thread-self/make-it-fail", if on { "1" } else { "0" }) {
            Err(e) if !on && e.raw_os_error() == Some(libc::ENOMEM) => continue,
            r => return r.map_err(|e| format!("/proc/thread-self/make-it-fail: {e}")),
        }
    }
    Err("/proc/thread-self/make-it-fail: ENOMEM 100 times in a row".into())
}

/// Touches 256 KiB of stack, so that the loop under fault injection does
/// not need page tables (whose locks are slab objects under lockdep).
#[inline(never)]
fn prefault_stack() {
    let mut a = [0u8; 256 * 1024];
    std::hint::black_box(&mut a);
}

static FAULTS_ON: AtomicBool = AtomicBool::new(false);

/// Runs `storm` threads, `races` threads and `busy` long-lived rings for
/// the time budget, then, with every thread still alive and every ring
/// closed, checks that no worker is left.
fn run_threads(storm: u64, races: u64, busy: u64, mode: Mode) -> Result<String, String> {
    ref_init()?;
    let until = deadline();
    let stop = Arc::new(AtomicBool::new(false));
    let total = (storm + races + busy) as usize;
    // Threads wait here with their rings closed until the main thread has
    // looked for workers: exit-on-idle must remove them, not thread exit.
    let parked = Arc::new(Barrier::new(total + 1));
    let released = Arc::new(Barrier::new(total + 1));
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut handles = Vec::new();
    let snap = || {
        [
            &COUNTS.accepted,
            &COUNTS.completed,
            &COUNTS.in_flight,
            &COUNTS.unreaped,
        ]
        .map(|c| c.load(Relaxed))
    };
    let before = snap();
    for i in 0..total as u64 {
        let (stop, parked, released, errors) = (
            stop.clone(),
            parked.clone(),
            released.clone(),
            errors.clone(),
        );
        let h = std::thread::Builder::new()
            .name(format!("stress-{i}"))
            .spawn(move || {
                let r = if i < storm {
                    storm_thread(i, mode, until, &stop)
                } else if i < storm + races {
                    races_thread(i, mode, until, &stop)
                } else {
                    busy_thread(100 + i, &stop)
                };
                if let Err(e) = r {
                    stop.store(true, Relaxed);
                    errors.lock().unwrap().push(format!("thread {i}: {e}"));
                }
                parked.wait();
                released.wait();
            })
            .map_err(|e| format!("spawning a thread: {e}"))?;
        handles.push(h);
    }
    // Busy threads stop once the storm threads are done.
    while Instant::now() < until && !stop.load(Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Relaxed);
    parked.wait();
    // Under fault injection a munmap() can fail (ENOMEM): the ring's
    // mapping then keeps it alive, which is the application's business,
    // not io-wq's. Unmap what is left, as an application would.
    let leftover = if mode.faults == Faults::Yes {
        unmap_leftover_rings()?
    } else {
        0
    };
    let check = no_workers_left("every ring was closed (threads still alive)");
    released.wait();
    for h in handles {
        h.join()
            .map_err(|_| "a stress thread panicked".to_string())?;
    }
    let errs = errors.lock().unwrap();
    if let Some(e) = errs.first() {
        return Err(format!("{e} ({} thread(s) failed)", errs.len()));
    }
    let gone = check?;
    let after = snap();
    let [took, done, open, unreaped] = [0, 1, 2, 3].map(|i| after[i] - before[i]);
    // No sum to check here: Ring::close() required each ring's fdinfo to
    // agree with the program (SqHead = taken, CqHead = reaped), so taken =
    // reaped + in flight + unreaped holds by construction. Reported only.
    Ok(format!(
        "{took} requests taken by the kernel = {done} completions reaped + {open} in flight \
         + {unreaped} unreaped at close (each ring's fdinfo agreeing), in {total} threads; \
         workers gone {} after the last close{}",
        crate::ms(gone),
        if leftover > 0 {
            format!(" ({leftover} ring mappings a failed munmap left, unmapped)")
        } else {
            String::new()
        }
    ))
}

const PLAIN: Mode = Mode {
    faults: Faults::No,
    limits: false,
};

/// `r`, then the counters so far.
fn counted(r: Result<String, String>) -> crate::Res {
    r.map(|r| format!("{r}; {}", COUNTS.line()))
}

/// (1) Open/close storm, with long-lived busy rings alongside.
pub fn storm() -> crate::Res {
    counted(run_threads(4, 0, 2, PLAIN))
}

/// (2) Creation races: bursts on fresh rings closed at once.
pub fn races() -> crate::Res {
    counted(run_threads(0, 4, 1, PLAIN))
}

/// (3) Storm and races with io-wq limits and affinity changing under them.
pub fn limits() -> crate::Res {
    counted(run_threads(
        3,
        3,
        1,
        Mode {
            limits: true,
            ..PLAIN
        },
    ))
}

/// (4) Children killed with SIGKILL mid-storm, or calling exit() with
/// requests in flight. All must be reaped, and no worker may be left.
pub fn signals() -> crate::Res {
    let until = deadline();
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut rng = Rng::new(0x519);
    let (mut killed, mut exited, mut round) = (0u64, 0u64, 0u64);
    while Instant::now() < until {
        round += 1;
        let mut kids = Vec::new();
        for k in 0..4u64 {
            let mode = if k % 2 == 0 { "kill" } else { "exit" };
            let child = std::process::Command::new(&exe)
                .args(["--stress-child", mode, &format!("{}", round * 8 + k)])
                .spawn()
                .map_err(|e| format!("spawning a child: {e}"))?;
            kids.push((child, mode));
        }
        std::thread::sleep(Duration::from_millis(20 + rng.below(200)));
        for (child, mode) in &mut kids {
            if *mode == "kill" {
                // SAFETY: kill(2) on our own child.
                unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            }
        }
        for (mut child, mode) in kids {
            let pid = child.id();
            let start = Instant::now();
            let status = loop {
                match child.try_wait() {
                    Ok(Some(s)) => break s,
                    Ok(None) if start.elapsed() < REAP_DEADLINE => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Ok(None) => {
                        return Err(format!(
                            "child {pid} ({mode}) not reaped {} s after {}",
                            REAP_DEADLINE.as_secs(),
                            if mode == "kill" {
                                "SIGKILL"
                            } else {
                                "its start"
                            }
                        ))
                    }
                    Err(e) => return Err(format!("waitpid {pid}: {e}")),
                }
            };
            use std::os::unix::process::ExitStatusExt;
            match mode {
                "kill" if status.signal() == Some(libc::SIGKILL) => killed += 1,
                // It may have finished before the signal came.
                "kill" if status.code() == Some(0) => exited += 1,
                "exit" if status.code() == Some(0) => exited += 1,
                _ => return Err(format!("child {pid} ({mode}) ended with {status}")),
            }
            if fs::metadata(format!("/proc/{pid}")).is_ok() {
                return Err(format!("child {pid} still in /proc after it was reaped"));
            }
            remove_fifos(pid);
        }
        let _ = no_workers_left("all children were reaped")?;
    }
    bump(&COUNTS.kills, killed);
    bump(&COUNTS.exits, exited);
    let gone = no_workers_left("all children were reaped")?;
    Ok(format!(
        "{round} rounds: {killed} children killed with SIGKILL, {exited} exit()ed with \
         requests in flight, all reaped; no iou-wrk left ({}); {}",
        crate::ms(gone),
        COUNTS.line()
    ))
}

/// A child of `signals`: a storm in two threads, and in the main thread
/// blocked pipe reads and writes in flight; "exit" mode calls exit() after
/// a short while, "kill" mode runs until it is killed.
pub fn child_main(mode: &str, seed: &str) -> i32 {
    let seed: u64 = seed.parse().unwrap_or(1);
    if ref_init().is_err() {
        return 2;
    }
    let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let until = Instant::now() + Duration::from_secs(60);
    let m = Mode {
        faults: Faults::No,
        limits: false,
    };
    for t in 0..2 {
        let _ = std::thread::Builder::new().spawn(move || {
            let _ = if t == 0 {
                storm_thread(seed * 4 + t, m, until, stop)
            } else {
                races_thread(seed * 4 + t, m, until, stop)
            };
        });
    }
    let mut rd = Readers::new();
    let Ok((p_rd, _p_wr)) = pipe() else {
        return 2;
    };
    let Ok(fifo) = fifo(seed) else {
        return 2;
    };
    let Ok(Some(mut ring)) = Ring::new(Faults::No) else {
        return 2;
    };
    let Ok(mut df) = DataFile::new(seed * 4 + 3) else {
        return 2;
    };
    for i in 0..16 {
        if i % 4 == 0 {
            ring.push(Op::Pipe(p_rd.as_raw_fd()), None, &mut rd);
        } else if i % 4 == 1 {
            ring.push(Op::Fifo(fifo), None, &mut rd);
        } else {
            ring.push(Op::Write(i), Some(&mut df), &mut rd);
        }
    }
    ring.submit();
    let mut rng = Rng::new(seed);
    std::thread::sleep(Duration::from_millis(10 + rng.below(150)));
    if mode == "exit" {
        // exit() with the ring open, requests in flight and two threads in
        // their storms.
        std::process::exit(0);
    }
    std::thread::sleep(until - Instant::now());
    0
}

/// FAILSLAB, driven through debugfs: allocations fail in tasks with
/// make-it-fail set, `percent` of the time.
struct FailSlab {
    dir: &'static str,
    times: u64,
}

impl FailSlab {
    fn enable(percent: u32) -> Result<Self, String> {
        let dir = "/sys/kernel/debug/failslab";
        if fs::metadata(dir).is_err() {
            return Err(format!(
                "{dir} missing: fault injection needs CONFIG_FAILSLAB, \
                 CONFIG_FAULT_INJECTION_DEBUG_FS and debugfs (the debug config of 'make stress')"
            ));
        }
        let times = 1_000_000_000u64;
        for (k, v) in [
            ("task-filter", "Y".to_string()),
            ("ignore-gfp-wait", "N".to_string()),
            ("verbose", "0".to_string()),
            ("interval", "1".to_string()),
            ("space", "0".to_string()),
            ("times", times.to_string()),
            ("probability", percent.to_string()),
        ] {
            fs::write(format!("{dir}/{k}"), v).map_err(|e| format!("{dir}/{k}: {e}"))?;
        }
        FAULTS_ON.store(true, Relaxed);
        Ok(FailSlab { dir, times })
    }

    /// Turns it off and returns how many allocations it failed.
    fn disable(self) -> Result<u64, String> {
        FAULTS_ON.store(false, Relaxed);
        fs::write(format!("{}/probability", self.dir), "0")
            .map_err(|e| format!("failslab/probability: {e}"))?;
        let left: i64 = fs::read_to_string(format!("{}/times", self.dir))
            .map_err(|e| format!("failslab/times: {e}"))?
            .trim()
            .parse()
            .map_err(|e| format!("failslab/times: {e}"))?;
        Ok(self.times - left.max(0) as u64)
    }
}

/// (5) Storm and races with slab allocations failing in the submitting
/// threads (and the workers they create): worker creation fails some of
/// the time. Requests complete or fail with an error, none hangs, and no
/// worker is left.
pub fn faults() -> crate::Res {
    let fs = FailSlab::enable(3)?;
    let r = run_threads(
        3,
        3,
        1,
        Mode {
            faults: Faults::Yes,
            limits: true,
        },
    );
    let injected = fs.disable()?;
    bump(&COUNTS.injected, injected);
    let r = r?;
    if injected == 0 {
        return Err("FAILSLAB failed no allocation: the fault injection did not work".into());
    }
    counted(Ok(format!(
        "{injected} allocations failed by FAILSLAB; {r}"
    )))
}

/// kmemleak: scan twice (an object is reported once it was seen
/// unreferenced by two scans) and list what it found.
pub fn kmemleak() -> crate::Res {
    let f = "/sys/kernel/debug/kmemleak";
    if fs::metadata(f).is_err() {
        return Err(format!(
            "{f} missing: needs CONFIG_DEBUG_KMEMLEAK and debugfs"
        ));
    }
    for _ in 0..2 {
        fs::write(f, "scan").map_err(|e| format!("{f}: scan: {e}"))?;
        std::thread::sleep(Duration::from_secs(1));
    }
    let report = fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
    let n = report.matches("unreferenced object").count();
    if n > 0 {
        print!("{report}");
        return Err(format!("kmemleak reports {n} unreferenced objects (above)"));
    }
    Ok("two scans, nothing reported".into())
}

/// Parses `--stress-secs=N`.
pub fn parse_args(args: &[String]) {
    for a in args {
        if let Some(s) = a.strip_prefix("--stress-secs=") {
            if let Ok(n) = s.parse() {
                SECS.store(n, Relaxed);
            }
        }
        if a == "--stress-miscount" {
            ring::MISCOUNT.store(true, Relaxed);
        }
    }
}
