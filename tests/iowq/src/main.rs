// SPDX-License-Identifier: GPL-2.0
//! Userspace checks of io-wq's exit-on-idle state, as a user sees it: the
//! `iou-wrk-<pid>` threads in `/proc/<pid>/task/*/comm`.
//!
//! `iowq-test [--expect-rust] [scenario...]` runs the scenarios (default: all)
//! and prints a PASS/FAIL line with the measured numbers for each, then
//! "N passed, N failed". As PID 1 (the guest's /init) it mounts /proc, takes
//! its arguments from `iowq.args=` on the kernel command line, and reboots
//! when done, which ends QEMU.

use io_uring::{opcode, squeue, types, IoUring};
use std::fs;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// io-wq's idle timeout (WORKER_IDLE_TIMEOUT) is 5 s; wait this long for it.
const IDLE_WAIT: Duration = Duration::from_millis(6500);
/// Every worker must be gone this long after the last ring was closed. The
/// same bound as liburing's test/io-wq-unused-exit.c.
const EXIT_BOUND: Duration = Duration::from_secs(2);
/// A forced worker must show up within this long.
const APPEAR_BOUND: Duration = Duration::from_secs(2);

type Res = Result<String, String>;

/// Number of threads of this process whose comm starts with `prefix`.
fn threads(prefix: &str) -> usize {
    let Ok(dir) = fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            fs::read_to_string(e.path().join("comm"))
                .map(|c| c.starts_with(prefix))
                .unwrap_or(false)
        })
        .count()
}

fn workers() -> usize {
    threads("iou-wrk-")
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
    ring.submit_and_wait(1).map_err(|e| format!("io_uring_enter: {e}"))?;
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
    if workers() != 0 {
        return Err(format!("{} iou-wrk threads before the test", workers()));
    }
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
    let gone2 = wait_for(EXIT_BOUND, || workers() == 0).ok_or("workers left after closing the second ring")?;
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

/// Is the running kernel's io-wq exit-on-idle state the Rust one?
fn rust_path() -> Res {
    let syms = fs::read_to_string("/proc/kallsyms").map_err(|e| format!("/proc/kallsyms: {e}"))?;
    let found: Vec<&str> = ["io_wq_idle_set_state", "io_wq_idle_verdict", "io_tctx_idle_node_removed"]
        .into_iter()
        .filter(|s| syms.lines().any(|l| l.split_whitespace().nth(2) == Some(s)))
        .collect();
    if found.len() == 3 {
        Ok(format!("exported Rust symbols in /proc/kallsyms: {}", found.join(", ")))
    } else {
        Err(format!("Rust path not running: /proc/kallsyms has only {found:?}"))
    }
}

const SCENARIOS: &[(&str, fn() -> Res)] = &[("lifecycle", lifecycle)];

fn init_mode() -> Vec<String> {
    let _ = fs::create_dir_all("/proc");
    let _ = fs::create_dir_all("/tmp");
    let mount = |src: &str, dst: &str, ty: &str| {
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        // SAFETY: plain mount(2) with valid C strings.
        unsafe {
            libc::mount(c(src).as_ptr(), c(dst).as_ptr(), c(ty).as_ptr(), 0, std::ptr::null())
        }
    };
    mount("proc", "/proc", "proc");
    mount("tmpfs", "/tmp", "tmpfs");
    let cmdline = fs::read_to_string("/proc/cmdline").unwrap_or_default();
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("iowq.args="))
        .map(|a| a.split(',').filter(|s| !s.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}

fn main() {
    let pid1 = std::process::id() == 1;
    let args: Vec<String> = if pid1 {
        init_mode()
    } else {
        std::env::args().skip(1).collect()
    };
    let expect_rust = args.iter().any(|a| a == "--expect-rust");
    let names: Vec<&str> = args.iter().map(String::as_str).filter(|a| !a.starts_with("--")).collect();

    let mut run: Vec<(&str, fn() -> Res)> = Vec::new();
    if expect_rust {
        run.push(("rust-path", rust_path));
    }
    for &(name, f) in SCENARIOS {
        if names.is_empty() || names.contains(&name) {
            run.push((name, f));
        }
    }
    for n in &names {
        if !SCENARIOS.iter().any(|(s, _)| s == n) {
            println!("FAIL {n}: no such scenario");
        }
    }

    let (mut passed, mut failed) = (0, names.iter().filter(|n| !SCENARIOS.iter().any(|(s, _)| s == *n)).count());
    for (name, f) in run {
        match f() {
            Ok(msg) => {
                passed += 1;
                println!("PASS {name}: {msg}");
            }
            Err(msg) => {
                failed += 1;
                println!("FAIL {name}: {msg}");
            }
        }
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
