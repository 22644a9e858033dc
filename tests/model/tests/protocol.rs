// SPDX-License-Identifier: GPL-2.0

//! The protocol holds for the series, misses one wake-up without its fix 3
//! (`create_worker_cb()` waking the worker), and every
//! mutant is caught with a counterexample trace.
//!
//! `IOWQ_MODEL_BOUNDS=large` runs with [`Bounds::LARGE`].

use iowq_model::check::{Found, Options};
use iowq_model::io_wq_idle_state::EXIT_ON_IDLE;
use iowq_model::model::{Act, Pc, TAct, Tw};
use iowq_model::{explore, Bounds, Config, Mutant, Outcome, Prop};

fn bounds() -> Bounds {
    match std::env::var("IOWQ_MODEL_BOUNDS").as_deref() {
        Ok("large") => Bounds::LARGE,
        _ => Bounds::DEFAULT,
    }
}

/// Explores and prints one block: what, bounds, numbers, violations, traces.
fn run(name: &str, cfg: Config, opts: Options) -> Outcome {
    let out = explore(&cfg, opts);
    let mut report = format!(
        "\n=== {name}\n  bounds: {}\n  {}\n  violated: {:?}\n",
        cfg.bounds,
        out.summary(),
        out.violated()
    );
    for f in &out.found {
        report.push_str(&f.render());
    }
    print!("{report}");
    out
}

fn full(name: &str, cfg: Config) -> Outcome {
    let out = run(name, cfg, Options::default());
    assert!(out.complete, "{name}: the search did not finish");
    out
}

#[test]
fn series_holds() {
    let out = full("series", Config::series(bounds()));
    assert!(out.found.is_empty(), "violated: {:?}", out.violated());
}

/// The question: with task_work run newest first, `io_tctx_exit_cb()` runs
/// before an older `create_worker_cb()`; the worker stays for its request,
/// and nothing wakes it once the request is done.
#[test]
fn without_fix3_misses_the_create_worker_cb_wakeup() {
    let out = full(
        "series without the create_worker_cb() wake-up (v7.3.4)",
        Config::without_cwc_wake(bounds()),
    );
    assert_eq!(out.violated(), vec![Prop::ExitOnIdle]);
    let f = out.get(Prop::ExitOnIdle).unwrap();
    assert_lifo_path(f);
}

fn assert_lifo_path(f: &Found) {
    // task_work_run() took io_tctx_exit_cb() ahead of an older
    // create_worker_cb() of worker w ...
    let w = f
        .trace
        .iter()
        .find_map(|(act, s)| match (act, s.task.run) {
            (Act::Task(TAct::TwGrab { .. }), [Tw::TctxExit, Tw::Cwc(w), ..]) => Some(w),
            _ => None,
        })
        .expect("io_tctx_exit_cb() run before create_worker_cb()");
    // ... which cleared create_state without a wake-up, and w sleeps in
    // exit-on-idle with nothing pending.
    let cleared = f.trace.iter().any(|(act, _)| {
        *act == Act::Task(TAct::CwcClear {
            worker: w,
            woke: false,
        })
    });
    assert!(cleared, "create_worker_cb(W{w}) cleared create_state");
    let (_, last) = f.trace.last().unwrap();
    let worker = last.w[w as usize];
    assert!(last.wq_state as usize & EXIT_ON_IDLE != 0);
    assert_eq!(worker.pc, Pc::Asleep);
    assert!(!worker.create_state);
}

/// Without the wake-up but with task_work run oldest first, nothing is
/// missed: the missed wake-up comes from the LIFO order.
#[test]
fn without_fix3_fifo_task_work_holds() {
    let cfg = Config {
        tw_fifo: true,
        ..Config::without_cwc_wake(bounds())
    };
    let out = full("without the wake-up, task_work run oldest first", cfg);
    assert!(out.found.is_empty(), "violated: {:?}", out.violated());
}

/// Each mutant goes on top of the series, so that what it breaks is
/// its own doing.
fn mutant(m: Mutant, want: Prop) {
    let cfg = Config {
        mutant: Some(m),
        ..Config::series(bounds())
    };
    let opts = Options {
        stop_at: Some(want),
        livelock: false,
        ..Options::default()
    };
    let out = run(&format!("mutant {}", m.name()), cfg, opts);
    let f = out
        .get(want)
        .unwrap_or_else(|| panic!("{}: {want} not violated", m.name()));
    println!(
        "mutant {} -> {want}: counterexample of {} steps",
        m.name(),
        f.trace.len()
    );
}

#[test]
fn mutant_a_exit_with_creation_pending() {
    mutant(Mutant::CreatePendingExit, Prop::CreatePendingExit);
}

#[test]
fn mutant_b_no_retire() {
    mutant(Mutant::NoRetire, Prop::Stranded);
}

#[test]
fn mutant_c_no_last_look() {
    mutant(Mutant::NoLastLook, Prop::Stranded);
}

#[test]
fn mutant_patch1_leave_before_install() {
    mutant(Mutant::LeaveBeforeInstall, Prop::ExitOnIdle);
}

#[test]
fn mutant_patch2_xa_empty() {
    mutant(Mutant::XaEmpty, Prop::ExitOnIdle);
}

#[test]
fn mutant_no_enter_on_last_removal() {
    mutant(Mutant::NoEnterOnLastRemoval, Prop::ExitOnIdle);
}

#[test]
fn mutant_no_wake_on_entry() {
    mutant(Mutant::NoWakeOnEntry, Prop::ExitOnIdle);
}

#[test]
fn mutant_no_leave_on_add() {
    mutant(Mutant::NoLeaveOnAdd, Prop::Keepalive);
}
