// SPDX-License-Identifier: GPL-2.0
//! `create-pending`: the regression test of fix 3 (create_worker_cb() wakes
//! the worker in exit-on-idle). It builds, in the guest, the ordering the
//! model checker found:
//!
//! 1. Task P has one ring, `SINGLE_ISSUER | DEFER_TASKRUN`, one worker W
//!    allowed per class, W bound to P's CPU and SCHED_FIFO, so that a
//!    wake-up of W runs W at once, before P goes on.
//! 2. P queues three FIFO opens; W blocks in the first. P closes its ring
//!    fd (a forked helper Q keeps the ring) and calls posix_spawn(), whose
//!    child blocks opening a FIFO before it execs: P sleeps killably in
//!    vfork(), where task_work does not run.
//! 3. Q opens the FIFOs one by one: W runs the second open and blocks with
//!    the third queued, so io_wq_dec_running() queues create_worker_cb(W)
//!    on P; W runs the third and goes idle, its creation request pending.
//! 4. Q closes the ring. Its exit work frees the requests itself (a
//!    DEFER_TASKRUN ring's task_work is local to the ring) and queues
//!    io_tctx_exit_cb() on P, on top of create_worker_cb().
//! 5. Q lets the spawned child exec. P returns to user space and runs its
//!    task_work newest first: io_tctx_exit_cb() enters exit-on-idle and
//!    wakes W, which stays (its request is pending); create_worker_cb()
//!    wakes W again through io_acct_activate_free_worker() and only then
//!    clears create_state. Without the fix nothing wakes W after that, and
//!    it sleeps until its 5 s idle timeout.
//!
//! W must be gone within [`EXIT_BOUND`] after P resumes. Kprobes on
//! io_tctx_exit_cb() and create_worker_cb() show that P ran them in that
//! order; if it did not, the path was not provoked and the test fails.
//!
//! With a normal ring the path does not exist: its requests are freed
//! through P's task_work, which runs create_worker_cb() too, before the
//! ring's exit work can queue io_tctx_exit_cb().

use std::ffi::CString;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

use io_uring::IoUring;

use crate::implementation::{add_probe, kallsyms_has, mount_tracefs, write, TRACING};
use crate::uses::{errno, open_writer, push_open, Fifos};
use crate::{clean_start, ms, wait_for, workers, Res, EXIT_BOUND};

/// Long enough for any step of the helper under TCG.
const STEP: Duration = Duration::from_secs(10);
/// The ring's exit work runs within this after the last close (it polls
/// every 50 ms; 60-120 ms on the debug kernel).
const EXIT_WORK: Duration = Duration::from_millis(1500);

/// Kprobe events (group `iowqcp`): event name, function. The first two
/// are the order the test checks; the others explain a failure, and are
/// left out where the kernel has no such function.
const PROBES: [(&str, &str); 5] = [
    ("exit_cb", "io_tctx_exit_cb"),
    ("create_cb", "create_worker_cb"),
    ("queue_create", "io_queue_worker_create"),
    ("exit_work", "io_ring_exit_work"),
    ("cancel_local", "io_cancel_local_task_work"),
];

/// `argv[1]` of the spawned child: exit at once (see main()).
pub const EXIT0: &str = "--exit0";

pub fn create_pending() -> Res {
    clean_start()?;
    // x, y, z: the three opens; 3: the spawned child's.
    let fifos = Fifos::new("cp", 4)?;
    mount_tracefs()?;
    for (i, (event, func)) in PROBES.iter().enumerate() {
        match add_probe(&format!("p:iowqcp/{event} {func}")) {
            // The explaining probes are optional: a kernel may not have
            // their function (6.12 has no io_cancel_local_task_work()).
            Err(_) if i >= 2 && !kallsyms_has(func) => {}
            r => r?,
        }
    }
    write("events/iowqcp/enable", "1")?;

    let mut fds = [0; 2];
    // SAFETY: pipe(2) into a two-element array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: {}", errno()));
    }
    // SAFETY: this process has no other threads now (clean_start: no
    // workers); the child only runs task_p() and exits.
    let p = unsafe { libc::fork() };
    if p == 0 {
        // SAFETY: the read end is ours to close.
        unsafe { libc::close(fds[0]) };
        let r = task_p(fds[1], &fifos.1);
        report(fds[1], &r);
        // SAFETY: leave without running the parent's exit handlers.
        unsafe { libc::_exit(i32::from(r.is_err())) };
    }
    // SAFETY: the write end is the children's.
    unsafe { libc::close(fds[1]) };
    let mut out = String::new();
    // SAFETY: fds[0] is ours; File closes it.
    let _ = unsafe { fs::File::from_raw_fd(fds[0]) }.read_to_string(&mut out);
    let status = crate::reap(p);
    let order = traced_order(p);
    let lines: Vec<&str> = out.lines().collect();
    if let Some(e) = lines.iter().find_map(|l| l.strip_prefix("FAIL ")) {
        return Err(format!("{e}; traced: {}", order.unwrap_or_else(|e| e)));
    }
    let msg = lines
        .iter()
        .find_map(|l| l.strip_prefix("OK "))
        .ok_or_else(|| format!("task P (exit status {status}) reported nothing"))?;
    if status != 0 {
        return Err(format!("task P exited with {status}: {msg}"));
    }
    let order = order?;
    Ok(format!("{msg}; {order}"))
}

fn report(fd: i32, r: &Result<String, String>) {
    let line = match r {
        Ok(m) => format!("OK {m}\n"),
        Err(e) => format!("FAIL {e}\n"),
    };
    // SAFETY: fd is the pipe's write end, open in this process.
    let mut f = std::mem::ManuallyDrop::new(unsafe { fs::File::from_raw_fd(fd) });
    let _ = f.write_all(line.as_bytes());
}

/// The order in which task `p` ran the two task_work callbacks, from the
/// trace; Err if io_tctx_exit_cb() did not run before a create_worker_cb().
/// Removes the probes.
fn traced_order(p: libc::pid_t) -> Result<String, String> {
    // Disabled, not removed: removing an event empties the trace buffer,
    // which rust-calls reads later.
    let _ = write("events/iowqcp/enable", "0");
    let trace =
        fs::read_to_string(format!("{TRACING}/trace")).map_err(|e| format!("trace: {e}"))?;
    // "comm-pid [cpu] flags time: event: (func+off/size)" -> "comm-pid time: event:"
    let all: Vec<String> = trace
        .lines()
        .filter(|l| PROBES.iter().any(|(e, _)| l.contains(&format!(" {e}: "))))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let at = w.iter().position(|x| x.ends_with(':')).unwrap_or(0);
            format!(
                "{} {}",
                w[0],
                w[at..]
                    .iter()
                    .take(2)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        })
        .collect();
    let me = format!("-{p}");
    let events: Vec<&str> = trace
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|t| t.ends_with(&me))
        })
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| *w == "exit_cb:" || *w == "create_cb:")
        })
        .map(|w| w.trim_end_matches(':'))
        .collect();
    let exit = events.iter().position(|e| *e == "exit_cb");
    match exit {
        Some(i) if events[i..].contains(&"create_cb") => Ok(format!(
            "P ran io_tctx_exit_cb() before create_worker_cb() (traced: {})",
            events.join(" ")
        )),
        _ => Err(format!(
            "the path was not provoked: P ran {:?}, not io_tctx_exit_cb() before a \
             create_worker_cb(); all probes: {}",
            events,
            all.join(" | ")
        )),
    }
}

/// A SCHED_FIFO priority for a thread of this process.
fn set_fifo(tid: libc::pid_t, prio: i32) -> Result<(), String> {
    let param = libc::sched_param {
        sched_priority: prio,
    };
    // SAFETY: a valid sched_param.
    if unsafe { libc::sched_setscheduler(tid, libc::SCHED_FIFO, &param) } != 0 {
        return Err(format!(
            "sched_setscheduler({tid}, SCHED_FIFO): {}",
            errno()
        ));
    }
    Ok(())
}

/// The task whose io-wq is tested; see the module doc.
fn task_p(out: i32, fifos: &[CString]) -> Result<String, String> {
    let cpu0 = crate::faults::pin_cpu0()?;
    let mut ring = IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(8)
        .map_err(|e| format!("io_uring_setup(SINGLE_ISSUER|DEFER_TASKRUN): {e}"))?;
    ring.submitter()
        .register_iowq_aff(&cpu0)
        .map_err(|e| format!("IORING_REGISTER_IOWQ_AFF: {e}"))?;
    ring.submitter()
        .register_iowq_max_workers(&mut [1, 1])
        .map_err(|e| format!("IORING_REGISTER_IOWQ_MAX_WORKERS: {e}"))?;
    let me = crate::gettid();

    // SAFETY: single-threaded (no worker yet); the child runs task_q().
    let q = unsafe { libc::fork() };
    if q == 0 {
        let r = task_q(me, ring, fifos);
        if let Err(e) = &r {
            report(out, &Err(format!("helper Q: {e}")));
        }
        // SAFETY: leave without running destructors (task_q() closed
        // the ring).
        unsafe { libc::_exit(i32::from(r.is_err())) };
    }

    push_open(&mut ring, &fifos[0], 1)?;
    ring.submit().map_err(|e| format!("io_uring_enter: {e}"))?;
    let w = wait_for(STEP, || state(me, worker_of(me)) == Some('S'))
        .and_then(|_| worker_of(me))
        .ok_or("no worker blocked in the first FIFO open")?;
    set_fifo(w, 10)?;
    push_open(&mut ring, &fifos[1], 2)?;
    push_open(&mut ring, &fifos[2], 3)?;
    ring.submit().map_err(|e| format!("io_uring_enter: {e}"))?;
    drop(ring);

    // The child opens the FIFO on its stdin before it execs; until Q opens
    // the other end, posix_spawn() sleeps in vfork().
    let exe = CString::new("/proc/self/exe").unwrap();
    let argv0 = CString::new("iowq-test").unwrap();
    let arg1 = CString::new(EXIT0).unwrap();
    let argv = [argv0.as_ptr(), arg1.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let mut pid = 0;
    // SAFETY: posix_spawn_file_actions_t is initialised before use and
    // destroyed after; every pointer is valid for the call.
    let rc = unsafe {
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut fa);
        libc::posix_spawn_file_actions_addopen(&mut fa, 0, fifos[3].as_ptr(), libc::O_RDONLY, 0);
        let rc = libc::posix_spawn(
            &mut pid,
            exe.as_ptr(),
            &fa,
            std::ptr::null(),
            argv.as_ptr() as *const *mut libc::c_char,
            envp.as_ptr() as *const *mut libc::c_char,
        );
        libc::posix_spawn_file_actions_destroy(&mut fa);
        rc
    };
    // P ran its task_work on the way out of the kernel; with the fix the
    // worker, SCHED_FIFO on this CPU, may be gone already.
    let resumed = Instant::now();
    let left = workers();
    let gone = wait_for(STEP, || workers() == 0).map(|_| resumed.elapsed());
    if rc != 0 {
        return Err(format!(
            "posix_spawn: {}",
            std::io::Error::from_raw_os_error(rc)
        ));
    }
    let spawned = crate::reap(pid);
    let helper = crate::reap(q);
    if helper != 0 {
        return Err(format!("helper Q failed ({helper})"));
    }
    if spawned != 0 {
        return Err(format!("the spawned child exited with {spawned}"));
    }
    match gone {
        Some(d) if d <= EXIT_BOUND => Ok(format!(
            "the worker left {} after the task ran its task_work (bound {}; {left} left when \
             posix_spawn() returned)",
            ms(d),
            ms(EXIT_BOUND)
        )),
        Some(d) => Err(format!(
            "the worker left {} after the task ran its task_work, not within {}: it waited for its idle timeout",
            ms(d),
            ms(EXIT_BOUND)
        )),
        None => Err(format!("the worker is still there {} later", ms(STEP))),
    }
}

/// The worker of task `p` (`iou-wrk-<p>`), if it has one.
fn worker_of(p: libc::pid_t) -> Option<libc::pid_t> {
    let name = format!("iou-wrk-{p}");
    crate::task_comms(format!("/proc/{p}/task"))
        .into_iter()
        .find(|(_, c)| *c == name)
        .and_then(|(t, _)| t.parse().ok())
}

fn proc_file(p: libc::pid_t, tid: libc::pid_t, f: &str) -> Option<String> {
    fs::read_to_string(format!("/proc/{p}/task/{tid}/{f}")).ok()
}

/// The scheduler state letter of thread `tid` of process `p`.
fn state(p: libc::pid_t, tid: Option<libc::pid_t>) -> Option<char> {
    let stat = proc_file(p, tid?, "stat")?;
    stat.rsplit_once(") ")?.1.chars().next()
}

fn voluntary_switches(p: libc::pid_t, tid: libc::pid_t) -> u64 {
    proc_file(p, tid, "status")
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Waits until worker `w` of `p` slept again after `since` voluntary
/// switches; returns the new count.
fn slept_again(p: libc::pid_t, w: libc::pid_t, since: u64, what: &str) -> Result<u64, String> {
    let mut n = since;
    wait_for(STEP, || {
        n = voluntary_switches(p, w);
        n > since && state(p, Some(w)) == Some('S')
    })
    .ok_or_else(|| format!("the worker did not block {what}"))?;
    Ok(n)
}

/// Helper Q, a fork of P holding the ring; see the module doc.
fn task_q(p: libc::pid_t, ring: IoUring, fifos: &[CString]) -> Result<(), String> {
    // Off P's CPU, if there is another.
    // SAFETY: cpu_set_t is plain data; CPU_SET writes into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU 1 is within the set.
    unsafe { libc::CPU_SET(1, &mut set) };
    // SAFETY: a valid cpu_set_t; failure (one CPU) is fine.
    unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };

    // P in vfork(): 'D', killable.
    wait_for(STEP, || state(p, Some(p)) == Some('D'))
        .ok_or("task P did not go to sleep in posix_spawn()")?;
    let w = worker_of(p).ok_or("task P has no worker")?;
    let n = voluntary_switches(p, w);
    open_writer(&fifos[0], STEP, "the first FIFO")?;
    let n = slept_again(p, w, n, "in the second FIFO open")?;
    open_writer(&fifos[1], STEP, "the second FIFO")?;
    let n = slept_again(p, w, n, "in the third FIFO open")?;
    open_writer(&fifos[2], STEP, "the third FIFO")?;
    slept_again(p, w, n, "idle")?;
    // The last references to the ring: the fd and the mappings of the
    // rings, which Q inherited.
    drop(ring);
    std::thread::sleep(EXIT_WORK);
    if state(p, Some(p)) != Some('D') {
        return Err("task P left vfork() before the ring's exit work ran".into());
    }
    open_writer(&fifos[3], STEP, "the spawn FIFO")
}
