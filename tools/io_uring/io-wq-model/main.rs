// SPDX-License-Identifier: GPL-2.0

//! io-wq-model: an explicit-state model checker of io-wq's exit-on-idle
//! protocol.
//!
//! The decisions are the kernel's own: `io_uring/io_wq_idle_state.rs` is
//! compiled into this program from its place in the tree, not copied.
//! Around them, [`model`] rebuilds what io-wq.c, tctx.c and io_uring.c do,
//! one atomic step per lock-held section, wake-up, idle timeout and
//! task_work callback. [`check`] explores every interleaving within the
//! [`model::Bounds`] by breadth-first search, and [`props`] says what must
//! hold in each state and step. See README.
//!
//! Without arguments it runs every check and exits non-zero if any result is
//! not the expected one:
//!
//! - `tree`: the protocol as this tree has it; no property is violated;
//! - `nowake`: without the `create_worker_cb()` wake-up (as v7.3.4 has it):
//!   exit-on-idle is violated, and only by the missed wake-up, through
//!   task_work run newest first;
//! - `fifo`: the same, with task_work run oldest first; nothing violated;
//! - `mutants`: each [`Mutant`] on top of `tree`; each must violate its
//!   property, with a counterexample trace.

#[path = "../../../io_uring/io_wq_idle_state.rs"]
mod io_wq_idle_state;

mod check;
mod model;
mod pack;
mod props;

use check::{explore, Found, Options, Outcome};
use io_wq_idle_state::EXIT_ON_IDLE;
use model::{Act, Bounds, Config, Mutant, Pc, TAct, Tw};
use props::Prop;
use std::process::ExitCode;

const USAGE: &str = "\
usage: io-wq-model [--large] [--bounds=W,N,O,F] [--traces] [CHECK...]
  Explores every interleaving of io-wq's exit-on-idle protocol within the
  bounds, around the decisions of io_uring/io_wq_idle_state.rs, and checks
  that each result is the expected one (exit status 1 if not).
  CHECK: tree, nowake, fifo, mutants, or mutant=<n> (0-7); default: all.
  --large           larger bounds (minutes, about 2 GB of memory)
  --bounds=W,N,O,F  max_workers, work items, extra rings, failed installs
  --traces          print every counterexample trace";

/// The property each mutant must violate.
fn expected(m: Mutant) -> Prop {
    match m {
        Mutant::CreatePendingExit => Prop::CreatePendingExit,
        Mutant::NoRetire | Mutant::NoLastLook => Prop::Stranded,
        Mutant::LeaveBeforeInstall
        | Mutant::XaEmpty
        | Mutant::NoEnterOnLastRemoval
        | Mutant::NoWakeOnEntry => Prop::ExitOnIdle,
        Mutant::NoLeaveOnAdd => Prop::Keepalive,
    }
}

/// One search and what its result must be.
enum Check {
    /// A full search that finds nothing.
    Holds(&'static str, Config),
    /// Without the `create_worker_cb()` wake-up: exactly the missed one.
    MissedWake(Config),
    /// A mutant: its property violated.
    Killed(Mutant, Config),
}

/// Why the missed wake-up's trace is the one of the fix: task_work_run()
/// took io_tctx_exit_cb() ahead of an older create_worker_cb() of worker
/// w, which cleared create_state without a wake-up, and w sleeps in
/// exit-on-idle with nothing pending. `Err` says which part is missing.
fn lifo_path(f: &Found) -> Result<(), String> {
    let w = f
        .trace
        .iter()
        .find_map(|(act, s)| match (act, s.task.run) {
            (Act::Task(TAct::TwGrab { .. }), [Tw::TctxExit, Tw::Cwc(w), ..]) => Some(w),
            _ => None,
        })
        .ok_or("no io_tctx_exit_cb() run before a create_worker_cb()")?;
    let cleared = f.trace.iter().any(|(act, _)| {
        *act == Act::Task(TAct::CwcClear {
            worker: w,
            woke: false,
        })
    });
    if !cleared {
        return Err(format!("create_worker_cb(W{w}) did not clear create_state"));
    }
    let (_, last) = f.trace.last().ok_or("an empty trace")?;
    let worker = last.w[w as usize];
    if last.wq_state as usize & EXIT_ON_IDLE == 0 || worker.pc != Pc::Asleep || worker.create_state
    {
        return Err(format!(
            "W{w} does not end asleep in exit-on-idle with nothing pending"
        ));
    }
    Ok(())
}

/// Runs one check; prints its block; returns whether it came out as it must.
fn run(c: &Check, traces: bool) -> bool {
    let (name, cfg, opts) = match c {
        Check::Holds(name, cfg) => (name.to_string(), *cfg, Options::default()),
        Check::MissedWake(cfg) => (
            "nowake: without the create_worker_cb() wake-up".to_string(),
            *cfg,
            Options::default(),
        ),
        Check::Killed(m, cfg) => (
            format!("mutant {}", m.name()),
            *cfg,
            Options {
                stop_at: Some(expected(*m)),
                livelock: false,
                ..Options::default()
            },
        ),
    };
    let out: Outcome = explore(&cfg, opts);
    let violated = out.violated();
    let verdict = match c {
        Check::Holds(..) if !out.complete => Err("the search did not finish".to_string()),
        Check::Holds(..) if !violated.is_empty() => Err(format!("violated: {violated:?}")),
        Check::Holds(..) => Ok("holds".to_string()),
        Check::MissedWake(_) if !out.complete => Err("the search did not finish".to_string()),
        Check::MissedWake(_) if violated != [Prop::ExitOnIdle] => Err(format!(
            "violated {violated:?}, where only exit-on-idle must be"
        )),
        Check::MissedWake(_) => out
            .get(Prop::ExitOnIdle)
            .ok_or_else(|| "no exit-on-idle trace".to_string())
            .and_then(lifo_path)
            .map(|()| "exit-on-idle violated by the missed wake-up, as it must be".to_string()),
        Check::Killed(m, _) => match out.get(expected(*m)) {
            Some(f) => Ok(format!(
                "killed: {} violated, counterexample of {} steps",
                expected(*m),
                f.trace.len()
            )),
            None => Err(format!("not killed: {} not violated", expected(*m))),
        },
    };
    println!("{name}: {}", out.summary());
    for f in &out.found {
        println!("  {}: {} ({} steps)", f.prop, f.detail, f.trace.len());
        if traces {
            print!("{}", f.render());
        }
    }
    match &verdict {
        Ok(msg) => println!("  PASS: {msg}"),
        Err(msg) => println!("  FAIL: {msg}"),
    }
    verdict.is_ok()
}

fn main() -> ExitCode {
    let mut bounds = Bounds::DEFAULT;
    let mut traces = false;
    let mut what: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--large" => bounds = Bounds::LARGE,
            b if b.starts_with("--bounds=") => {
                let v: Vec<Option<u8>> = b["--bounds=".len()..]
                    .split(',')
                    .map(|x| x.parse().ok())
                    .collect();
                let [Some(max_workers), Some(work), Some(opens), Some(fails)] = v[..] else {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                };
                bounds = Bounds {
                    max_workers,
                    work,
                    opens,
                    fails,
                    ..bounds
                };
            }
            "--traces" => traces = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "tree" | "nowake" | "fifo" | "mutants" => what.push(arg),
            m if m
                .strip_prefix("mutant=")
                .and_then(|k| k.parse::<usize>().ok())
                .is_some_and(|k| k < Mutant::ALL.len()) =>
            {
                what.push(arg)
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if what.is_empty() {
        what = ["tree", "nowake", "fifo", "mutants"]
            .map(String::from)
            .to_vec();
    }

    let mut checks = Vec::new();
    for w in &what {
        let mutant = |m| {
            Check::Killed(
                m,
                Config {
                    mutant: Some(m),
                    ..Config::tree(bounds)
                },
            )
        };
        match w.as_str() {
            "tree" => checks.push(Check::Holds("tree", Config::tree(bounds))),
            "nowake" => checks.push(Check::MissedWake(Config::without_cwc_wake(bounds))),
            "fifo" => checks.push(Check::Holds(
                "fifo: without the wake-up, task_work run oldest first",
                Config {
                    tw_fifo: true,
                    ..Config::without_cwc_wake(bounds)
                },
            )),
            "mutants" => checks.extend(Mutant::ALL.map(mutant)),
            m => {
                let k: usize = m["mutant=".len()..].parse().unwrap_or(0);
                checks.push(mutant(Mutant::ALL[k]));
            }
        }
    }

    println!("bounds: {bounds}");
    println!(
        "properties: {}",
        Prop::ALL.map(|p| p.to_string()).join(", ")
    );
    let start = std::time::Instant::now();
    let failed = checks.iter().filter(|c| !run(c, traces)).count();
    println!(
        "io-wq-model: {} checks, {} as expected, {failed} not, {:.1} s",
        checks.len(),
        checks.len() - failed,
        start.elapsed().as_secs_f64()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
