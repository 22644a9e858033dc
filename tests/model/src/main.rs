// SPDX-License-Identifier: GPL-2.0

//! Runs the model checker and prints what it found.

use iowq_model::check::Options;
use iowq_model::{explore, Bounds, Config, Mutant};
use std::process::ExitCode;

const USAGE: &str = "\
usage: iowq-model [--large] [--traces] [WHAT...]
  Explores every interleaving of io-wq's exit-on-idle protocol within bounds.
  WHAT: series (the series as it is), nowake (without its fix 3, the
  create_worker_cb() wake-up, as v7.3.4), fifo (nowake, task_work run
  oldest first), mutants (each mutant, on top of series); default: series
  nowake fifo.
  --large   larger bounds
  --traces  print the counterexample traces";

fn main() -> ExitCode {
    let mut bounds = Bounds::DEFAULT;
    let mut traces = false;
    let mut what = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--large" => bounds = Bounds::LARGE,
            b if b.starts_with("--bounds=") => {
                let v: Vec<u8> = b["--bounds=".len()..]
                    .split(',')
                    .map(|x| x.parse().unwrap_or(0))
                    .collect();
                if let [mw, work, opens, fails] = v[..] {
                    bounds = Bounds {
                        max_workers: mw,
                        work,
                        opens,
                        fails,
                        ..bounds
                    };
                }
            }
            "--traces" => traces = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "series" | "nowake" | "fifo" | "mutants" => what.push(arg),
            m if m.starts_with("mutant=") => what.push(arg),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    if what.is_empty() {
        what = vec!["series".into(), "nowake".into(), "fifo".into()];
    }

    println!("bounds: {bounds}");
    let mut runs: Vec<(String, Config)> = Vec::new();
    for w in &what {
        match w.as_str() {
            "series" => runs.push(("series".into(), Config::series(bounds))),
            "nowake" => runs.push((
                "series without the create_worker_cb wake (v7.3.4)".into(),
                Config::without_cwc_wake(bounds),
            )),
            "fifo" => runs.push((
                "series without the create_worker_cb wake, task_work FIFO".into(),
                Config {
                    tw_fifo: true,
                    ..Config::without_cwc_wake(bounds)
                },
            )),
            m if m.starts_with("mutant=") => {
                let k: usize = m["mutant=".len()..].parse().unwrap_or(0);
                let m = Mutant::ALL[k.min(Mutant::ALL.len() - 1)];
                let cfg = Config {
                    mutant: Some(m),
                    ..Config::series(bounds)
                };
                runs.push((format!("mutant {}", m.name()), cfg));
            }
            _ => {
                for m in Mutant::ALL {
                    let cfg = Config {
                        mutant: Some(m),
                        ..Config::series(bounds)
                    };
                    runs.push((format!("mutant {}", m.name()), cfg));
                }
            }
        }
    }
    for (name, cfg) in runs {
        let out = explore(&cfg, Options::default());
        let v: Vec<String> = out.violated().iter().map(|p| p.to_string()).collect();
        println!("{name}: {}", out.summary());
        println!(
            "  violated: {}",
            if v.is_empty() {
                "none".into()
            } else {
                v.join(", ")
            }
        );
        for f in &out.found {
            println!("  {}: {} ({} steps)", f.prop, f.detail, f.trace.len());
            if traces {
                print!("{}", f.render());
            }
        }
    }
    ExitCode::SUCCESS
}
