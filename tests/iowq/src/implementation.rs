// SPDX-License-Identifier: GPL-2.0
//! Which implementation of the exit-on-idle decisions runs, proven by the
//! kernel's own tracing: kprobe events on the Rust interface's functions
//! (and on the C function both paths go through) count their calls while
//! the scenarios run, and the counts must fit what the scenarios did.
//!
//! `rust-path` / `c-path` check the config and the symbols and arm the
//! probes; `rust-calls` / `c-calls`, run after the scenarios, read them.

use std::fs;

use crate::Res;

/// The functions the Rust implementation exports to C: the worker's verdict,
/// the tctx decisions after a ring is added and removed, and one of
/// [`STATE_FNS`].
const RUST_SYMS: [&str; 3] = [
    "io_wq_idle_verdict",
    "io_tctx_idle_node_added",
    "io_tctx_idle_node_removed",
];

/// What sets the state, by base: v7.3.4's Rust updates the state word itself
/// (`io_wq_idle_set_state(wq_state, exit_on_idle)`); 6.12's has no kernel
/// atomics, so C updates the bit and Rust decides the wake-up
/// (`io_wq_idle_wake_on_set(was_exit_on_idle, exit_on_idle)`). Both take
/// the new state second (%si) and return whether the workers are woken.
const STATE_FNS: [&str; 2] = ["io_wq_idle_set_state", "io_wq_idle_wake_on_set"];

pub const TRACING: &str = "/sys/kernel/tracing";

/// The probes, as `kprobe_events` lines (x86_64: arguments in %di, %si,
/// %dx), with `state_fn` the function of [`STATE_FNS`] the kernel has.
/// `set_exit_on_idle` is io-wq.c's `io_wq_set_exit_on_idle()`, which both
/// paths call to set the state.
fn rust_probes(state_fn: &str) -> Vec<String> {
    vec![
        "p:iowq/verdict io_wq_idle_verdict".into(),
        "r:iowq/verdict_ret io_wq_idle_verdict ret=$retval:u32".into(),
        format!("p:iowq/set_state {state_fn} enter=%si:u8"),
        format!("r:iowq/set_state_ret {state_fn} wake=$retval:u8"),
        "p:iowq/tctx_added io_tctx_idle_node_added has_wq=%di:u8".into(),
        "p:iowq/tctx_removed io_tctx_idle_node_removed no_rings=%di:u8 has_wq=%si:u8".into(),
        "p:iowq/set_exit_on_idle io_wq_set_exit_on_idle enable=%si:u8".into(),
    ]
}
const C_PROBES: &[&str] = &["p:iowq/set_exit_on_idle io_wq_set_exit_on_idle enable=%si:u8"];

/// Only the events the checks count are recorded; `kprobe_profile` counts
/// every hit anyway.  A stress run on a kernel without KASAN makes
/// millions of calls, more than the buffer holds (a lost event fails
/// [`recorded()`]); the calls it counts are few.  `verdict`'s entries are
/// counted by their hits alone: `common_pid < 0` records none.
const FILTERS: &[(&str, &str)] = &[
    ("verdict", "common_pid < 0"),
    ("verdict_ret", "ret == 1"),
    ("set_state", "enter == 1"),
    ("set_state_ret", "wake == 1"),
    ("tctx_added", "common_pid < 0"),
    ("tctx_removed", "no_rings == 1 && has_wq == 1"),
    ("set_exit_on_idle", "enable == 1"),
];

/// The running kernel's config line for `CONFIG_IO_WQ_IDLE_RUST`, and the
/// series' Rust symbols found in /proc/kallsyms.
fn implementation() -> Result<(String, Vec<&'static str>), String> {
    use std::io::Read;
    let gz = fs::read("/proc/config.gz").map_err(|e| format!("/proc/config.gz: {e}"))?;
    let mut config = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut config)
        .map_err(|e| format!("/proc/config.gz: {e}"))?;
    let line = config
        .lines()
        .find(|l| {
            l.contains("CONFIG_IO_WQ_IDLE_RUST is not set")
                || l.starts_with("CONFIG_IO_WQ_IDLE_RUST=")
        })
        .unwrap_or("CONFIG_IO_WQ_IDLE_RUST absent")
        .to_string();
    let syms = fs::read_to_string("/proc/kallsyms").map_err(|e| format!("/proc/kallsyms: {e}"))?;
    let found = RUST_SYMS
        .into_iter()
        .chain(STATE_FNS)
        .filter(|s| syms.lines().any(|l| l.split_whitespace().nth(2) == Some(s)))
        .collect();
    Ok((line, found))
}

pub fn write(file: &str, what: &str) -> Result<(), String> {
    fs::write(format!("{TRACING}/{file}"), what)
        .map_err(|e| format!("{TRACING}/{file} <- {what:?}: {e}"))
}

/// Mounts tracefs on [`TRACING`] unless it is there.
pub fn mount_tracefs() -> Result<(), String> {
    let _ = fs::create_dir_all(TRACING);
    if fs::metadata(format!("{TRACING}/kprobe_events")).is_err() {
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        // SAFETY: plain mount(2) with valid C strings.
        let rc = unsafe {
            libc::mount(
                c("tracefs").as_ptr(),
                c(TRACING).as_ptr(),
                c("tracefs").as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        if rc != 0 {
            return Err(format!(
                "mount tracefs on {TRACING}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// Adds `probe`, a `kprobe_events` line, to the probes already defined.
pub fn add_probe(probe: &str) -> Result<(), String> {
    // Appending: open with O_APPEND, as `echo >>` does.
    use std::io::Write;
    fs::OpenOptions::new()
        .append(true)
        .open(format!("{TRACING}/kprobe_events"))
        .and_then(|mut f| f.write_all(probe.as_bytes()))
        .map_err(|e| format!("kprobe_events <- {probe:?}: {e} (CONFIG_KPROBE_EVENTS?)"))
}

/// Mounts tracefs and arms `probes`, recording into an empty buffer.
fn arm<S: AsRef<str>>(probes: &[S]) -> Result<(), String> {
    mount_tracefs()?;
    write("kprobe_events", "")?;
    for p in probes {
        add_probe(p.as_ref())?;
    }
    for (event, filter) in FILTERS {
        if probes
            .iter()
            .any(|p| p.as_ref().contains(&format!("/{event} ")))
        {
            write(&format!("events/iowq/{event}/filter"), filter)?;
        }
    }
    write("buffer_size_kb", "4096")?;
    write("trace", "")?;
    write("events/iowq/enable", "1")
}

/// Whether /proc/kallsyms names function `func`.
pub fn kallsyms_has(func: &str) -> bool {
    fs::read_to_string("/proc/kallsyms")
        .map(|k| k.lines().any(|l| l.split_whitespace().nth(2) == Some(func)))
        .unwrap_or(false)
}

/// Hits per probe, from `kprobe_profile`.
fn hits() -> Result<Vec<(String, u64)>, String> {
    let profile = fs::read_to_string(format!("{TRACING}/kprobe_profile"))
        .map_err(|e| format!("{TRACING}/kprobe_profile: {e}"))?;
    Ok(profile
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.parse().ok()?))
        })
        .collect())
}

fn hit(hits: &[(String, u64)], name: &str) -> u64 {
    hits.iter().find(|(n, _)| n == name).map_or(0, |(_, h)| *h)
}

/// Stops recording and returns the recorded events, failing if any was
/// lost: the counts below are only right if the buffer held them all.
fn recorded() -> Result<Vec<String>, String> {
    write("events/iowq/enable", "0")?;
    for cpu in fs::read_dir(format!("{TRACING}/per_cpu")).map_err(|e| format!("per_cpu: {e}"))? {
        let stats = cpu.map_err(|e| e.to_string())?.path().join("stats");
        let text = fs::read_to_string(&stats).map_err(|e| format!("{}: {e}", stats.display()))?;
        if let Some(l) = text
            .lines()
            .find(|l| l.starts_with("overrun:") && l.trim() != "overrun: 0")
        {
            return Err(format!("{}: {l}: events were lost", stats.display()));
        }
    }
    let trace =
        fs::read_to_string(format!("{TRACING}/trace")).map_err(|e| format!("trace: {e}"))?;
    Ok(trace
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect())
}

/// Events of `name` whose fields include every `field=value` of `with`.
fn count(events: &[String], name: &str, with: &[&str]) -> usize {
    events
        .iter()
        .filter(|l| l.contains(&format!(" {name}: ")))
        .filter(|l| with.iter().all(|f| l.split_whitespace().any(|w| w == *f)))
        .count()
}

/// The Rust implementation is what runs: option set, symbols present; arms
/// the probes that `rust_calls()` reads.
pub fn rust_path() -> Res {
    let (line, found) = implementation()?;
    let state_fns: Vec<_> = STATE_FNS.iter().filter(|f| found.contains(f)).collect();
    if line != "CONFIG_IO_WQ_IDLE_RUST=y"
        || RUST_SYMS.iter().any(|f| !found.contains(f))
        || state_fns.len() != 1
    {
        return Err(format!(
            "Rust path not running: {line}; symbols in /proc/kallsyms: {found:?} \
             (want {RUST_SYMS:?} and one of {STATE_FNS:?})"
        ));
    }
    arm(&rust_probes(state_fns[0]))?;
    Ok(format!(
        "{line}; /proc/kallsyms has {}; kprobes armed",
        found.join(", ")
    ))
}

/// The C implementation is what runs: option unset, no Rust symbols; arms
/// the probe that `c_calls()` reads.
pub fn c_path() -> Res {
    let (line, found) = implementation()?;
    if line == "CONFIG_IO_WQ_IDLE_RUST=y" || !found.is_empty() {
        return Err(format!(
            "expected the C path: {line}; symbols in /proc/kallsyms: {found:?}"
        ));
    }
    if let Err(e) = arm(C_PROBES) {
        if !kallsyms_has("io_wq_set_exit_on_idle") {
            return Err(format!(
                "{line}; this kernel has no io_wq_set_exit_on_idle(): no exit-on-idle state"
            ));
        }
        return Err(e);
    }
    Ok(format!(
        "{line}; no Rust exit-on-idle symbols in /proc/kallsyms; kprobe armed"
    ))
}

/// After the scenarios: every exported Rust function ran, and the calls fit
/// together the way the C shims are written.
pub fn rust_calls() -> Res {
    let state_fn = STATE_FNS
        .into_iter()
        .find(|f| kallsyms_has(f))
        .unwrap_or(STATE_FNS[0]);
    let h = hits()?;
    let ev = recorded()?;
    let (verdicts, set_states, added, removed, set_exits) = (
        hit(&h, "verdict"),
        hit(&h, "set_state"),
        hit(&h, "tctx_added"),
        hit(&h, "tctx_removed"),
        hit(&h, "set_exit_on_idle"),
    );
    let exits = count(&ev, "verdict_ret", &[]);
    let wakes = count(&ev, "set_state_ret", &[]);
    let entries = count(&ev, "set_state", &["enter=1"]);
    // A removal that leaves no ring, in a task with an io-wq: tctx.c must
    // then enter exit-on-idle, through io_wq_set_exit_on_idle() and Rust.
    let last_closes = count(&ev, "tctx_removed", &["no_rings=1", "has_wq=1"]);
    let enables = count(&ev, "set_exit_on_idle", &["enable=1"]);
    let line = format!(
        "calls: io_wq_idle_verdict {verdicts} ({exits} exit), {state_fn} {set_states} \
         ({entries} entering, {wakes} waking), io_tctx_idle_node_added {added}, \
         io_tctx_idle_node_removed {removed} ({last_closes} last close), \
         io_wq_set_exit_on_idle {set_exits} ({enables} entering)"
    );
    let checks = [
        (
            verdicts > 0 && set_states > 0 && added > 0 && removed > 0,
            "every exported function was called",
        ),
        (exits > 0, "some idle worker was told to exit"),
        (
            last_closes > 0,
            "some ring removal left the task with no ring",
        ),
        (
            enables == last_closes,
            "one io_wq_set_exit_on_idle(wq, true) per last close",
        ),
        (
            entries == enables,
            "each of those went to the Rust state function",
        ),
        (
            set_exits <= added + removed,
            "io_wq_set_exit_on_idle only after a tctx decision",
        ),
        (
            set_states <= set_exits,
            "the Rust state function only from io_wq_set_exit_on_idle",
        ),
        (wakes > 0 && wakes <= entries, "wake-ups only on entering"),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, what)) => Err(format!("expected: {what}; {line}")),
        None => Ok(line),
    }
}

/// After the scenarios: the C path set the state on every last close.
pub fn c_calls() -> Res {
    if !kallsyms_has("io_wq_set_exit_on_idle") {
        return Err("this kernel has no io_wq_set_exit_on_idle(): no exit-on-idle state".into());
    }
    let h = hits()?;
    let ev = recorded()?;
    let set_exits = hit(&h, "set_exit_on_idle");
    let enables = count(&ev, "set_exit_on_idle", &["enable=1"]);
    let line = format!("calls: io_wq_set_exit_on_idle {set_exits} ({enables} entering)");
    if enables == 0 {
        return Err(format!("expected the C path to enter exit-on-idle; {line}"));
    }
    Ok(line)
}
