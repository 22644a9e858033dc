// SPDX-License-Identifier: GPL-2.0
//! Userspace checks of io-wq's exit-on-idle state, as a user sees it: the
//! `iou-wrk-<pid>` threads in `/proc/<pid>/task/*/comm`.
//!
//! `iowq-test [--expect-rust|--expect-c] [scenario...]` runs the scenarios
//! (default: all), between a check of which implementation runs and a count
//! of its calls (`implementation.rs`), and prints a PASS/FAIL line with the
//! measured numbers for each, then
//! "N passed, N failed". Each scenario runs in a process of its own
//! (`isolate.rs`). The stress programs (`stress.rs`, for `make
//! stress`) and the measurements (`bench.rs`, for `make bench`) run only
//! when named. As PID 1 (the guest's /init) it mounts /proc, takes
//! its arguments from `iowq.args=` on the kernel command line, and reboots
//! when done, which ends QEMU.

mod bench;
mod create_pending;
mod faults;
mod implementation;
mod isolate;
mod stress;
mod uses;

use io_uring::{opcode, squeue, types, IoUring};
use std::fs;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// io-wq's idle timeout (WORKER_IDLE_TIMEOUT) is 5 s; wait this long for it.
const IDLE_WAIT: Duration = Duration::from_millis(6500);
/// Every worker must be gone this long after the last ring was closed. The
/// same bound as liburing's test/io-wq-unused-exit.c.
const EXIT_BOUND: Duration = Duration::from_secs(2);
/// A forced worker must show up within this long.
const APPEAR_BOUND: Duration = Duration::from_secs(2);
/// close() of a ring must return within this long, even with a worker
/// blocked: the teardown runs in a kworker.
const CLOSE_BOUND: Duration = Duration::from_millis(500);

type Res = Result<String, String>;
/// A named scenario.
type Scenario = (&'static str, fn() -> Res);

/// (tid, comm) of every thread in `dir`, a `/proc/<pid>/task` directory.
/// Threads that exit while it is read are left out; so is everything if
/// the process is gone.
fn task_comms(dir: impl AsRef<Path>) -> Vec<(String, String)> {
    let Ok(dir) = fs::read_dir(dir) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|t| {
            let comm = fs::read_to_string(t.path().join("comm")).ok()?;
            let tid = t.file_name().to_string_lossy().into_owned();
            Some((tid, comm.trim_end().to_owned()))
        })
        .collect()
}

/// Number of threads in `dir` (see [`task_comms`]) whose comm matches.
fn count_comms(dir: impl AsRef<Path>, matches: impl Fn(&str) -> bool) -> usize {
    task_comms(dir).iter().filter(|(_, c)| matches(c)).count()
}

/// Number of threads of this process whose comm starts with `prefix`.
fn threads(prefix: &str) -> usize {
    count_comms("/proc/self/task", |c| c.starts_with(prefix))
}

fn workers() -> usize {
    threads("iou-wrk-")
}

/// Workers of the io-wq of thread `tid` (their comm is `iou-wrk-<tid>`).
fn workers_of(tid: libc::pid_t) -> usize {
    let name = format!("iou-wrk-{tid}");
    count_comms("/proc/self/task", |c| c == name)
}

fn gettid() -> libc::pid_t {
    // SAFETY: gettid(2) has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Nothing of an earlier scenario may be left.
fn clean_start() -> Result<(), String> {
    wait_for(EXIT_BOUND, || workers() == 0 && threads("iou-sqp-") == 0)
        .map(|_| ())
        .ok_or_else(|| format!("{} iou-wrk threads before the test", workers()))
}

/// Polls `cond` every millisecond until it holds or `bound` passed; returns
/// the time it took, or None.
fn wait_for(bound: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() > bound {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A ring with a worker: one buffered write flagged IOSQE_ASYNC, which io_uring
/// hands to io-wq.
fn ring_with_worker(file: &fs::File) -> Result<IoUring, String> {
    let mut ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
    async_write(&mut ring, file, b"io-wq exit-on-idle\n")?;
    Ok(ring)
}

fn async_write(ring: &mut IoUring, file: &fs::File, buf: &[u8]) -> Result<(), String> {
    let sqe = opcode::Write::new(types::Fd(file.as_raw_fd()), buf.as_ptr(), buf.len() as u32)
        .offset(0)
        .build()
        .flags(squeue::Flags::ASYNC)
        .user_data(1);
    // SAFETY: `buf` outlives the request, which completes before we return.
    unsafe { ring.submission().push(&sqe) }.map_err(|_| "submission queue full".to_string())?;
    ring.submit_and_wait(1)
        .map_err(|e| format!("io_uring_enter: {e}"))?;
    let cqe = ring.completion().next().ok_or("no completion")?;
    if cqe.result() != buf.len() as i32 {
        return Err(format!("write returned {}", cqe.result()));
    }
    Ok(())
}

fn scratch_file(name: &str) -> Result<fs::File, String> {
    let path = std::env::temp_dir().join(format!("iowq-{}-{name}", std::process::id()));
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let _ = fs::remove_file(&path);
    Ok(f)
}

/// A worker appears, survives the idle timeout while the ring is open, is
/// gone within the bound after close, and the keepalive is back on the next
/// ring.
fn lifecycle() -> Res {
    clean_start()?;
    let file = scratch_file("lifecycle")?;
    let ring = ring_with_worker(&file)?;
    let appeared = wait_for(APPEAR_BOUND, || workers() > 0)
        .ok_or("no iou-wrk thread after an IOSQE_ASYNC write")?;
    std::thread::sleep(IDLE_WAIT);
    let kept = workers();
    if kept == 0 {
        return Err(format!(
            "keepalive broken: no iou-wrk left {} s after the last request, ring still open",
            IDLE_WAIT.as_secs_f32()
        ));
    }
    drop(ring);
    let gone = wait_for(EXIT_BOUND, || workers() == 0).ok_or_else(|| {
        format!(
            "{} iou-wrk threads still there {} ms after the last ring was closed",
            workers(),
            EXIT_BOUND.as_millis()
        )
    })?;
    let ring = ring_with_worker(&file)?;
    wait_for(APPEAR_BOUND, || workers() > 0).ok_or("no iou-wrk thread on the second ring")?;
    std::thread::sleep(IDLE_WAIT);
    let kept2 = workers();
    drop(ring);
    let gone2 = wait_for(EXIT_BOUND, || workers() == 0)
        .ok_or("workers left after closing the second ring")?;
    if kept2 == 0 {
        return Err("keepalive not restored on the second ring".into());
    }
    Ok(format!(
        "worker up in {}; {kept} kept after {:.1} s idle; close-to-exit {} (bound {} ms); \
         second ring: {kept2} kept, close-to-exit {}",
        ms(appeared),
        IDLE_WAIT.as_secs_f32(),
        ms(gone),
        EXIT_BOUND.as_millis(),
        ms(gone2)
    ))
}

/// Two rings: closing one leaves the worker, closing the other removes it.
fn two_rings() -> Res {
    clean_start()?;
    let file = scratch_file("two-rings")?;
    let a = ring_with_worker(&file)?;
    let mut b = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
    async_write(&mut b, &file, b"b\n")?;
    wait_for(APPEAR_BOUND, || workers() > 0).ok_or("no iou-wrk thread")?;
    drop(a);
    // Past the idle timeout: a keepalive lost on the first close would
    // show only then.
    std::thread::sleep(IDLE_WAIT);
    if workers() == 0 {
        return Err("the worker left when one of two rings was closed".into());
    }
    drop(b);
    let gone = wait_for(EXIT_BOUND, || workers() == 0)
        .ok_or("workers left after closing the second ring")?;
    Ok(format!(
        "worker kept {:.1} s after the first close; gone {} after the second (bound {} ms)",
        IDLE_WAIT.as_secs_f32(),
        ms(gone),
        EXIT_BOUND.as_millis()
    ))
}

/// Two threads, each with its own ring and io-wq: closing one thread's ring
/// leaves the other's worker alone. Then one ring used by both threads.
fn threads_scenario() -> Res {
    use std::sync::mpsc;
    use std::sync::{Arc, Barrier};
    clean_start()?;

    // Each thread: make a worker, report its tid, close on request, report.
    let spawn = |name: &'static str| {
        let (to_thread, cmd) = mpsc::channel::<()>();
        let (report, from_thread) = mpsc::channel::<Result<libc::pid_t, String>>();
        let h = std::thread::spawn(move || {
            let run = || -> Result<IoUring, String> {
                let file = scratch_file(name)?;
                ring_with_worker(&file)
            };
            match run() {
                Ok(ring) => {
                    let _ = report.send(Ok(gettid()));
                    let _ = cmd.recv();
                    drop(ring);
                    let _ = report.send(Ok(0));
                    let _ = cmd.recv();
                }
                Err(e) => {
                    let _ = report.send(Err(e));
                }
            }
        });
        (h, to_thread, from_thread)
    };
    let (h1, c1, r1) = spawn("t1");
    let (h2, c2, r2) = spawn("t2");
    let t1 = r1.recv().map_err(|e| e.to_string())??;
    let t2 = r2.recv().map_err(|e| e.to_string())??;
    wait_for(APPEAR_BOUND, || workers_of(t1) > 0 && workers_of(t2) > 0)
        .ok_or("each thread should have a worker of its own")?;
    c1.send(()).ok();
    r1.recv().ok();
    let gone1 = wait_for(EXIT_BOUND, || workers_of(t1) == 0)
        .ok_or("thread 1's worker left after its ring was closed")?;
    std::thread::sleep(IDLE_WAIT);
    if workers_of(t2) == 0 {
        return Err("thread 2's worker went away when thread 1 closed its ring".into());
    }
    c2.send(()).ok();
    r2.recv().ok();
    let gone2 = wait_for(EXIT_BOUND, || workers_of(t2) == 0)
        .ok_or("thread 2's worker left after its ring was closed")?;
    c1.send(()).ok();
    c2.send(()).ok();
    h1.join().ok();
    h2.join().ok();

    // One ring, used by two threads: each gets its own io-wq; closing the
    // ring removes both threads' workers.
    clean_start()?;
    let ring = Arc::new(std::sync::Mutex::new(
        IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?,
    ));
    let file = Arc::new(scratch_file("shared")?);
    let barrier = Arc::new(Barrier::new(2));
    let (r, f, b) = (ring.clone(), file.clone(), barrier.clone());
    let h = std::thread::spawn(move || {
        let res = async_write(&mut r.lock().unwrap(), &f, b"shared\n").map(|_| gettid());
        drop(r);
        b.wait(); // ring used
        b.wait(); // ring closed, checks done
        res
    });
    async_write(&mut ring.lock().unwrap(), &file, b"shared\n")?;
    barrier.wait();
    let workers_shared = wait_for(APPEAR_BOUND, || workers() >= 2).map(|_| workers());
    let ring = Arc::try_unwrap(ring).map_err(|_| "ring still shared")?;
    drop(ring);
    let gone3 = wait_for(EXIT_BOUND, || workers() == 0);
    barrier.wait();
    let other = h.join().map_err(|_| "thread panicked")??;
    let n = workers_shared.ok_or("the shared ring should give both threads a worker")?;
    let gone3 =
        gone3.ok_or_else(|| format!("{} workers left after closing the shared ring", workers()))?;
    Ok(format!(
        "own rings: thread 1's worker gone in {}, thread 2's kept, then gone in {}; \
         shared ring: {n} workers (threads {} and {other}) gone in {}",
        ms(gone1),
        ms(gone2),
        gettid(),
        ms(gone3)
    ))
}

/// SQPOLL: the io-wq belongs to the iou-sqp thread; after close, neither it
/// nor its workers remain.
fn sqpoll() -> Res {
    clean_start()?;
    let file = scratch_file("sqpoll")?;
    let mut ring = IoUring::builder()
        .setup_sqpoll(1000)
        .build(8)
        .map_err(|e| format!("io_uring_setup(SQPOLL): {e}"))?;
    for _ in 0..4 {
        async_write(&mut ring, &file, b"sqpoll\n")?;
    }
    wait_for(APPEAR_BOUND, || workers() > 0 && threads("iou-sqp-") > 0)
        .ok_or("no iou-wrk and iou-sqp threads with an SQPOLL ring")?;
    drop(ring);
    let gone =
        wait_for(EXIT_BOUND, || workers() == 0 && threads("iou-sqp-") == 0).ok_or_else(|| {
            format!(
                "{} iou-wrk and {} iou-sqp threads left after close",
                workers(),
                threads("iou-sqp-")
            )
        })?;
    Ok(format!("iou-wrk and iou-sqp gone {} after close", ms(gone)))
}

/// fork/exec: a child inherits the ring fd and execs. Nothing lingers in
/// the child; the parent's worker stays while the child holds the ring, and
/// goes once the last reference is gone.
fn fork_exec() -> Res {
    clean_start()?;
    let file = scratch_file("fork")?;
    let ring = ring_with_worker(&file)?;
    wait_for(APPEAR_BOUND, || workers() > 0).ok_or("no iou-wrk thread")?;
    let fd = ring.as_raw_fd();
    let exe = std::ffi::CString::new("/proc/self/exe").unwrap();
    let args = [
        std::ffi::CString::new("iowq-test").unwrap(),
        std::ffi::CString::new("--child-exec").unwrap(),
        std::ffi::CString::new(fd.to_string()).unwrap(),
    ];
    let argv: Vec<*const libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // SAFETY: the child only calls async-signal-safe functions before execv.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("fork failed".into());
    }
    if pid == 0 {
        // SAFETY: clear FD_CLOEXEC of the inherited ring fd, then exec.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, 0);
            libc::execv(exe.as_ptr(), argv.as_ptr());
            libc::_exit(127);
        }
    }
    drop(ring);
    // The child still holds the ring, past the idle timeout: the parent
    // keeps its worker.
    std::thread::sleep(IDLE_WAIT);
    let held = workers();
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("the exec'd child failed (status {status:#x})"));
    }
    if held == 0 {
        return Err("the parent's worker left while the exec'd child still held the ring".into());
    }
    let gone = wait_for(EXIT_BOUND, || workers() == 0)
        .ok_or("the parent's worker lingers after the child dropped the last ring reference")?;
    Ok(format!(
        "child (exec'd, holding the ring) had no iou-wrk; parent kept {held} worker while the \
         child held the ring, gone {} after the child exited",
        ms(gone)
    ))
}

/// The exec'd child of fork_exec: it holds the ring fd but never used it.
fn child_exec(fd: &str) -> i32 {
    let fd: i32 = fd.parse().unwrap_or(-1);
    // SAFETY: fcntl(F_GETFD) on an inherited fd.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        println!("child: ring fd {fd} not inherited");
        return 1;
    }
    // Hold the ring past the parent's look at its worker (IDLE_WAIT).
    std::thread::sleep(IDLE_WAIT + Duration::from_millis(1500));
    if workers() != 0 || threads("iou-") != 0 {
        println!(
            "child: {} io_uring threads in the exec'd child",
            threads("iou-")
        );
        return 1;
    }
    0
}

/// Busy close: an open of a FIFO that no one writes blocks an io-wq worker
/// in the kernel, and the ring is closed under it. close() returns at once,
/// the open is interrupted (the FIFO has no reader left), and no worker
/// remains; nothing hangs.
fn busy_close() -> Res {
    clean_start()?;
    let fifos = uses::Fifos::new("busy", 1)?;
    let mut ring = IoUring::new(8).map_err(|e| format!("io_uring_setup: {e}"))?;
    uses::push_open(&mut ring, &fifos.1[0], 7)?;
    ring.submit().map_err(|e| format!("io_uring_enter: {e}"))?;
    // Where the worker sleeps: /proc/<tid>/wchan names the function.
    let mut wchan = String::new();
    let blocked = wait_for(APPEAR_BOUND, || {
        wchan = task_comms("/proc/self/task")
            .into_iter()
            .find(|(_, c)| c.starts_with("iou-wrk-"))
            .and_then(|(t, _)| fs::read_to_string(format!("/proc/self/task/{t}/wchan")).ok())
            .unwrap_or_default();
        wchan.contains("fifo") || wchan.contains("partner")
    })
    .ok_or_else(|| format!("no worker blocked in the FIFO open (wchan {wchan:?})"))?;
    if !ring.completion().is_empty() {
        return Err("the FIFO open completed although no one opened the other end".into());
    }
    let start = Instant::now();
    drop(ring);
    let closed = start.elapsed();
    if closed > CLOSE_BOUND {
        return Err(format!(
            "close() took {} with a worker busy, bound {}",
            ms(closed),
            ms(CLOSE_BOUND)
        ));
    }
    // The worker can leave only once its open was interrupted.
    let gone = wait_for(EXIT_BOUND, || workers() == 0).ok_or_else(|| {
        format!(
            "{} workers left {} after a busy close (still blocked in the open, or kept idle)",
            workers(),
            ms(EXIT_BOUND)
        )
    })?;
    Ok(format!(
        "worker blocked in the open ({}) after {}; close() took {} (bound {}); the open \
         interrupted and the worker gone {} after it",
        wchan.trim(),
        ms(blocked),
        ms(closed),
        ms(CLOSE_BOUND),
        ms(gone)
    ))
}

/// Runs `cmd` with a deadline; returns its exit code (None: killed at the
/// deadline) and how long it took.
fn run_with_deadline(
    cmd: &mut std::process::Command,
    deadline: Duration,
) -> Result<(Option<i32>, Duration), String> {
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("{cmd:?}: {e}"))?;
    loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok((st.code(), start.elapsed()));
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok((None, start.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const CRIU: &str = "/usr/sbin/criu";

/// Runs criu with `args` and a deadline. Returns its exit code (None: killed
/// at the deadline), how long it took, and the first errors of its log
/// (`-o <log>` in the `-D <dir>` of `args`).
fn criu_cmd(args: &[&str]) -> Result<(Option<i32>, Duration, String), String> {
    let (code, took) =
        run_with_deadline(std::process::Command::new(CRIU).args(args), CRIU_DEADLINE)?;
    let arg = |flag: &str| {
        args.iter()
            .position(|a| *a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let log = match (arg("-D"), arg("-o")) {
        (Some(d), Some(o)) => fs::read_to_string(format!("{d}/{o}")).unwrap_or_default(),
        _ => String::new(),
    };
    // The first errors and the last: the first can be those of CRIU's
    // startup probes (tun, veth, which a guest without networking fails
    // harmlessly) or the cause, the last say what failed in the end.
    let errs: Vec<&str> = log.lines().filter(|l| l.contains("Error")).collect();
    let errs = if errs.len() <= 6 {
        errs.join(" | ")
    } else {
        format!(
            "{} | ... | {}",
            errs[..3].join(" | "),
            errs[errs.len() - 3..].join(" | ")
        )
    };
    Ok((code, took, errs))
}
const CRIU_DEADLINE: Duration = Duration::from_secs(60);

/// Starts this binary as a CRIU target in its own session; waits until it
/// says it is ready. Returns its pid and the workers it had after its
/// io_uring write (before it closed the ring, in mode "closed").
fn criu_target(mode: &str, dir: &str) -> Result<(libc::pid_t, usize), String> {
    use std::os::unix::process::CommandExt;
    let ready = format!("{dir}/ready");
    let _ = fs::remove_file(&ready);
    let mut cmd = std::process::Command::new("/proc/self/exe");
    cmd.args(["--criu-target", mode, dir])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid(2) is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("spawning the CRIU target: {e}"))?;
    let pid = child.id() as libc::pid_t;
    std::mem::forget(child);
    let mut up = None;
    wait_for(Duration::from_secs(20), || {
        up = fs::read_to_string(&ready).ok().and_then(|s| s.parse().ok());
        up.is_some()
    })
    .ok_or("the CRIU target did not get ready")?;
    Ok((pid, up.unwrap_or(0)))
}

fn reap(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: waiting for a child (or, as PID 1, a reparented process).
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

/// waitpid(2) for `pid`, which must be our child: its status.
fn reap_checked(pid: libc::pid_t, what: &str) -> Result<i32, String> {
    let mut status = 0;
    // SAFETY: waiting for a child (or, as PID 1, a reparented process).
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    if r != pid {
        return Err(format!(
            "waitpid({pid}) for {what} returned {r}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(status)
}

/// The process CRIU dumps: file I/O through io_uring, then (mode "closed")
/// the ring closed, or (mode "open") kept open. It reports ready, waits for
/// "go", reads back its data, and exits 0 if it is intact.
fn criu_target_main(mode: &str, dir: &str) -> i32 {
    let data = b"written through io_uring before the dump\n";
    let run = || -> Result<(), String> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(format!("{dir}/data"))
            .map_err(|e| e.to_string())?;
        let mut ring = IoUring::new(8).map_err(|e| e.to_string())?;
        async_write(&mut ring, &file, data)?;
        // The worker the write made, for the test to see.
        let up = wait_for(APPEAR_BOUND, || workers() > 0).map_or(0, |_| workers());
        let keep = if mode == "open" {
            Some(ring)
        } else {
            drop(ring);
            None
        };
        fs::write(format!("{dir}/ready"), up.to_string()).map_err(|e| e.to_string())?;
        while fs::metadata(format!("{dir}/go")).is_err() {
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(keep);
        let mut back = vec![0u8; data.len()];
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut back, 0)
            .map_err(|e| e.to_string())?;
        if back != data {
            return Err("data differs".into());
        }
        Ok(())
    };
    match run() {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// CRIU: a process that used io_uring and closed its ring is dumped within
/// the deadline, restored, and goes on; with its ring open, the dump fails
/// (CRIU does not support io_uring) without hanging.
fn criu() -> Res {
    clean_start()?;
    if fs::metadata(CRIU).is_err() {
        return Err(format!(
            "{CRIU} not found: boot the guest with the sid userland"
        ));
    }
    let version = std::process::Command::new(CRIU)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    // The restored process is reparented to us: as PID 1 in the guest, or as
    // a child subreaper elsewhere.
    // SAFETY: prctl(2) with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
    let dir = "/tmp/criu";
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(format!("{dir}/img")).map_err(|e| e.to_string())?;

    // Ring closed: dump, restore, go on.
    let (pid, up) = criu_target("closed", dir)?;
    // The target had a worker, and it must be gone before the dump: that
    // thread is what CRIU cannot dump.
    let left = wait_for(EXIT_BOUND, || workers_in(pid) == 0)
        .map(|_| 0)
        .unwrap_or_else(|| workers_in(pid));
    let img = format!("{dir}/img");
    let pid_s = pid.to_string();
    if up == 0 || left != 0 {
        // What a user would see: dump it anyway, and say what CRIU said.
        let said = if left != 0 {
            match criu_cmd(&["dump", "-t", &pid_s, "-D", &img, "-o", "dump.log"]) {
                Ok((Some(0), ..)) => "; criu dump succeeded anyway".to_string(),
                Ok((code, _, errs)) => format!("; criu dump exited {code:?}: {errs}"),
                Err(e) => format!("; criu dump did not run: {e}"),
            }
        } else {
            String::new()
        };
        // SAFETY: killing our own child (CRIU leaves it running, or has
        // killed it after a dump).
        unsafe { libc::kill(pid, libc::SIGKILL) };
        reap(pid);
        return Err(format!(
            "the target had {up} workers after its write, {left} left {} after it closed its \
             ring; expected 1 or more, then 0{said}",
            ms(EXIT_BOUND)
        ));
    }
    let (code, took, errs) =
        criu_cmd(&["dump", "-t", &pid_s, "-D", &img, "-o", "dump.log", "-v4"])?;
    if code != Some(0) {
        // CRIU leaves a process it failed to dump running.
        // SAFETY: killing our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        reap(pid);
    }
    match code {
        Some(0) => {}
        Some(c) => {
            return Err(format!(
                "criu dump exited {c} ({version}; {left} iou-wrk in the target): {errs}"
            ))
        }
        None => {
            return Err(format!(
                "criu dump hung: killed after {} s",
                CRIU_DEADLINE.as_secs()
            ))
        }
    }
    // A dumped process is killed by CRIU (no --leave-running).
    let status = reap_checked(pid, "the dumped target")?;
    if !(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL) {
        return Err(format!(
            "the dumped target ended with status {status:#x}, not killed by CRIU"
        ));
    }
    let (code, rtook, errs) = criu_cmd(&["restore", "-d", "-D", &img, "-o", "restore.log", "-v4"])?;
    if code != Some(0) {
        return Err(format!("criu restore exited {code:?}: {errs}"));
    }
    fs::write(format!("{dir}/go"), b"").map_err(|e| e.to_string())?;
    let status = reap_checked(pid, "the restored process")?;
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!(
            "the restored process did not read back its data (status {status:#x})"
        ));
    }

    // Ring open: CRIU refuses, and does not hang.
    let _ = fs::remove_dir_all(format!("{dir}/img2"));
    fs::create_dir_all(format!("{dir}/img2")).map_err(|e| e.to_string())?;
    let _ = fs::remove_file(format!("{dir}/go"));
    let (pid2, _) = criu_target("open", dir)?;
    let img2 = format!("{dir}/img2");
    let pid2_s = pid2.to_string();
    let (code2, took2, errs2) = criu_cmd(&["dump", "-t", &pid2_s, "-D", &img2, "-o", "dump.log"])?;
    // SAFETY: killing our own child.
    unsafe { libc::kill(pid2, libc::SIGKILL) };
    reap_checked(pid2, "the target with its ring open")?;
    let open = match code2 {
        None => {
            return Err(format!(
                "criu dump of a process with an open ring hung ({} s)",
                CRIU_DEADLINE.as_secs()
            ))
        }
        Some(0) => {
            return Err("criu dump succeeded with the ring open; it must refuse io_uring".into())
        }
        // CRIU reads the ring's mapping in /proc/<pid>/map_files and
        // refuses its anon_inode.
        Some(c) if errs2.contains("anon_inode:[io_uring]") => format!(
            "dump with the ring open refused: exit {c} in {}: {errs2}",
            ms(took2)
        ),
        Some(c) => {
            return Err(format!(
                "criu dump with the ring open exited {c}, but not for the io_uring mapping: {errs2}"
            ))
        }
    };
    Ok(format!(
        "{version}: target had {up} worker(s), 0 left before the dump; dump exit 0 in {} \
         (deadline {} s), target killed by CRIU; restore exit 0 in {}, restored process read \
         back its data and exited 0; {open}",
        ms(took),
        CRIU_DEADLINE.as_secs(),
        ms(rtook)
    ))
}

/// Workers of another process.
fn workers_in(pid: libc::pid_t) -> usize {
    count_comms(format!("/proc/{pid}/task"), |c| c.starts_with("iou-wrk-"))
}

const SCENARIOS: &[Scenario] = &[
    ("lifecycle", lifecycle),
    ("two-rings", two_rings),
    ("threads", threads_scenario),
    ("sqpoll", sqpoll),
    ("fork-exec", fork_exec),
    ("busy-close", busy_close),
    ("defer-taskrun", uses::defer_taskrun),
    ("registered-fd", uses::registered_fd),
    ("classes", uses::classes),
    ("iowq-aff", uses::iowq_aff),
    ("thread-exit", uses::thread_exit),
    ("exec-keep", uses::exec_keep),
    ("scm-rights", uses::scm_rights),
    ("criu", criu),
];

/// The stress programs (`make stress`, scripts/stress.sh); run only when
/// named.
const STRESS: &[Scenario] = &[
    ("storm", stress::storm),
    ("races", stress::races),
    ("limits", stress::limits),
    ("signals", stress::signals),
    ("faults", stress::faults),
    ("kmemleak", stress::kmemleak),
];

/// The regression tests of the three fixes, which fail on the unpatched
/// kernel: fault injection by count (`faults.rs`; debug kernels only) and
/// the task_work order of fix 3 (`create_pending.rs`); run only when named.
const REGRESSIONS: &[Scenario] = &[
    ("fault-xa", faults::fault_xa),
    ("fault-install", faults::fault_install),
    ("create-pending", create_pending::create_pending),
];

/// The measurements (`make bench`, scripts/bench.sh); run only when named.
const BENCH: &[Scenario] = &[
    ("bench-exit", bench::exit_latency),
    ("bench-hot", bench::hot_path),
    ("bench-switch", bench::switch),
    ("bench-churn", bench::churn),
    ("bench-cycle", bench::cycle),
];

fn init_mode() -> Vec<String> {
    let _ = fs::create_dir_all("/proc");
    let _ = fs::create_dir_all("/tmp");
    let mount = |src: &str, dst: &str, ty: &str| {
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        // SAFETY: plain mount(2) with valid C strings.
        unsafe {
            libc::mount(
                c(src).as_ptr(),
                c(dst).as_ptr(),
                c(ty).as_ptr(),
                0,
                std::ptr::null(),
            )
        }
    };
    mount("proc", "/proc", "proc");
    mount("tmpfs", "/tmp", "tmpfs");
    let _ = fs::create_dir_all("/sys");
    mount("sysfs", "/sys", "sysfs");
    let _ = fs::create_dir_all("/dev");
    mount("devtmpfs", "/dev", "devtmpfs");
    // Fault injection and kmemleak (debug kernels only).
    mount("debugfs", "/sys/kernel/debug", "debugfs");
    // Booted: a task blocked for 20 s is a hang (debug kernels only; the
    // boot needs the default 120 s).
    let _ = fs::write("/proc/sys/kernel/hung_task_timeout_secs", "20");
    // CRIU's startup probe wants the loopback interface up.
    let _ = std::process::Command::new("/usr/sbin/ip")
        .args(["link", "set", "lo", "up"])
        .status();
    let cmdline = fs::read_to_string("/proc/cmdline").unwrap_or_default();
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("iowq.args="))
        .map(|a| {
            a.split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.len() == 5 && argv[1] == uses::EXEC_RING {
        std::process::exit(uses::exec_ring_main(&argv[2], &argv[3], &argv[4]));
    }
    if argv.len() == 2 && argv[1] == create_pending::EXIT0 {
        std::process::exit(0);
    }
    if argv.len() == 3 && argv[1] == "--child-exec" {
        std::process::exit(child_exec(&argv[2]));
    }
    if argv.len() == 4 && argv[1] == "--criu-target" {
        std::process::exit(criu_target_main(&argv[2], &argv[3]));
    }
    if argv.len() == 4 && argv[1] == "--stress-child" {
        std::process::exit(stress::child_main(&argv[2], &argv[3]));
    }
    let pid1 = std::process::id() == 1;
    let args: Vec<String> = if pid1 {
        init_mode()
    } else {
        std::env::args().skip(1).collect()
    };
    stress::parse_args(&args);
    bench::parse_args(&args);
    let expect_rust = args.iter().any(|a| a == "--expect-rust");
    let expect_c = args.iter().any(|a| a == "--expect-c");
    let names: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();

    let mut run: Vec<Scenario> = Vec::new();
    if expect_rust {
        run.push(("rust-path", implementation::rust_path));
    }
    if expect_c {
        run.push(("c-path", implementation::c_path));
    }
    for &name in &names {
        if let Some(&s) = SCENARIOS
            .iter()
            .chain(STRESS)
            .chain(REGRESSIONS)
            .chain(BENCH)
            .find(|(s, _)| *s == name)
        {
            run.push(s);
        }
    }
    if names.is_empty() {
        run.extend_from_slice(SCENARIOS);
    }
    // Last: the calls counted while the scenarios ran.
    if expect_rust {
        run.push(("rust-calls", implementation::rust_calls));
    }
    if expect_c {
        run.push(("c-calls", implementation::c_calls));
    }
    let known = |n: &&str| {
        SCENARIOS
            .iter()
            .chain(STRESS)
            .chain(REGRESSIONS)
            .chain(BENCH)
            .any(|(s, _)| s == n)
    };
    for n in names.iter().filter(|n| !known(n)) {
        println!("FAIL {n}: no such scenario");
    }

    let (mut passed, mut failed) = (0, names.iter().filter(|n| !known(n)).count());
    let mut report = |name: &str, result: Res| match result {
        Ok(msg) => {
            passed += 1;
            println!("PASS {name}: {msg}");
        }
        Err(msg) => {
            failed += 1;
            println!("FAIL {name}: {msg}");
        }
    };
    let stressed = run.iter().any(|(n, _)| STRESS.iter().any(|(s, _)| s == n));
    // --jobs=N: up to N of the scenarios at once (each counts only its own
    // process's workers; most of their time is waiting out the 5 s idle
    // timeout). The rest run alone, each once the scenarios started before
    // it have ended: rust-path before them; the regression tests (they
    // inject faults and pin CPUs), rust-calls, stress and the measurements
    // after them.
    let jobs: usize = args
        .iter()
        .find_map(|a| a.strip_prefix("--jobs="))
        .map_or(1, |n| n.parse().unwrap_or(1))
        .max(1);
    let mut running: Vec<(&str, isolate::Running)> = Vec::new();
    for (name, f) in run {
        if jobs > 1 && SCENARIOS.iter().any(|(s, _)| *s == name) {
            if running.len() == jobs {
                let fds: Vec<libc::c_int> = running.iter().map(|(_, r)| r.fd()).collect();
                let i = isolate::wait_any(&fds);
                let (n, r) = running.swap_remove(i);
                report(n, isolate::finish(r));
            }
            match isolate::start(f) {
                Ok(r) => running.push((name, r)),
                Err(e) => report(name, Err(e)),
            }
            continue;
        }
        for (n, r) in running.drain(..) {
            report(n, isolate::finish(r));
        }
        // The scenarios and regression tests each in a process of their
        // own; the implementation checks (they arm and read kprobes), the
        // stress programs (their counts are this process's) and the
        // measurements here.
        let own_process = SCENARIOS.iter().chain(REGRESSIONS).any(|(s, _)| *s == name);
        report(name, if own_process { isolate::run(f) } else { f() });
    }
    for (n, r) in running.drain(..) {
        report(n, isolate::finish(r));
    }
    if stressed {
        println!("STRESS {}", stress::COUNTS.line());
    }
    println!("iowq-test: {passed} passed, {failed} failed");

    if pid1 {
        // SAFETY: sync(2) and reboot(2) take no pointers.
        unsafe {
            libc::sync();
            libc::reboot(libc::RB_AUTOBOOT);
        }
    }
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
