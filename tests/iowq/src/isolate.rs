// SPDX-License-Identifier: GPL-2.0
//! Each scenario in a process of its own. A worker a scenario leaves behind
//! (on a kernel without exit-on-idle, every one that used io-wq leaves one)
//! ends with that process, instead of being counted against the scenarios
//! after it.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};

use crate::Res;

/// A scenario running in a child of its own (see [`start`]).
pub struct Running {
    pid: libc::pid_t,
    read: std::fs::File,
}

impl Running {
    /// The read end of the child's result pipe, for poll(2).
    pub fn fd(&self) -> libc::c_int {
        self.read.as_raw_fd()
    }
}

/// Runs `f` in a forked child and returns its result. The caller must be
/// single-threaded (the runner is: every scenario runs in a child).
pub fn run(f: fn() -> Res) -> Res {
    finish(start(f)?)
}

/// Starts `f` in a forked child; [`finish`] collects its result. Several
/// may run at once (`--jobs`). The caller must be single-threaded.
pub fn start(f: fn() -> Res) -> Result<Running, String> {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) writes two descriptors into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fork(2); the child only runs `f`, writes and exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: the read end is ours to close.
        unsafe { libc::close(fds[0]) };
        let (tag, msg) = match f() {
            Ok(m) => ('P', m),
            Err(m) => ('F', m),
        };
        // SAFETY: the write end is a pipe descriptor we own.
        let mut w = unsafe { std::fs::File::from_raw_fd(fds[1]) };
        let _ = write!(w, "{tag}{msg}");
        drop(w);
        let _ = std::io::stdout().flush();
        // SAFETY: _exit(2) ends the child without running the parent's
        // exit handlers a second time.
        unsafe { libc::_exit(0) };
    }
    // SAFETY: the write end is the child's; the read end is ours.
    unsafe { libc::close(fds[1]) };
    // SAFETY: as above.
    let read = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    Ok(Running { pid, read })
}

/// Waits for the child's result (it writes it as it ends) and reaps it.
pub fn finish(mut r: Running) -> Res {
    let mut out = String::new();
    let read = r.read.read_to_string(&mut out);
    let status = crate::reap(r.pid);
    if let Err(e) = read {
        return Err(format!("reading the scenario's result: {e}"));
    }
    match out.chars().next() {
        Some('P') => Ok(out[1..].to_string()),
        Some('F') => Err(out[1..].to_string()),
        _ => Err(format!(
            "the scenario's process ended without a result (status {status:#x})"
        )),
    }
}

/// Of `fds` (the [`Running::fd`] of running scenarios), the index of one
/// whose child has written its result or ended: waits in poll(2) until
/// there is one.
pub fn wait_any(fds: &[libc::c_int]) -> usize {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `pfds` is a valid array of `pfds.len()` pollfd entries.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, -1) };
        if n > 0 {
            if let Some(i) = pfds.iter().position(|p| p.revents != 0) {
                return i;
            }
        }
    }
}
