// SPDX-License-Identifier: GPL-2.0

//! How steps and states read in a trace.

use super::{Act, Req, State, TAct, Tw, WAct};
use crate::io_wq_idle_state::{EXIT, EXIT_ON_IDLE};
use std::fmt;

fn word(w: u8) -> String {
    let w = w as usize;
    let mut s = String::from(if w & EXIT_ON_IDLE != 0 { "EOI" } else { "KA" });
    if w & EXIT != 0 {
        s.push_str("|EXIT");
    }
    s
}

fn opt_w(w: Option<u8>) -> String {
    w.map_or_else(|| "none".into(), |w| format!("W{w}"))
}

impl fmt::Display for WAct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WAct::LoopTest { exit } => write!(
                f,
                "io_wq_worker(): loop test, IO_WQ_BIT_EXIT {}",
                if exit { "set: leave the loop" } else { "clear" }
            ),
            WAct::Arm { took } => write!(
                f,
                "io_wq_worker(): TASK_INTERRUPTIBLE, io_acct_run_queue(): {}",
                if took { "takes a work item" } else { "no work" }
            ),
            WAct::Busy => write!(f, "io_worker_handle_work(): __io_worker_busy(), run"),
            WAct::Complete { took } => write!(
                f,
                "io_worker_handle_work(): item done, {}",
                if took {
                    "takes the next"
                } else {
                    "no more work"
                }
            ),
            WAct::Block { req } => write!(
                f,
                "work blocks: io_wq_worker_sleeping() -> io_wq_dec_running(): {}",
                match req {
                    Req::None => "nothing to ask",
                    Req::Queued => "create_state set, create_worker_cb queued on the task",
                    Req::Refused => "io_queue_worker_create() refuses",
                }
            ),
            WAct::Unblock => write!(f, "work wakes: io_wq_worker_running()"),
            WAct::Verdict {
                exit,
                eoi,
                create,
                timeout,
                nr,
            } => write!(
                f,
                "io_worker_should_exit() -> verdict(state={}, create_pending={create}, \
                 last_timeout={timeout}, nr_workers={nr}) = {}",
                if eoi { "ExitOnIdle" } else { "KeepAlive" },
                if exit {
                    "Exit: nr_workers--"
                } else {
                    "Stay: __io_worker_idle()"
                }
            ),
            WAct::Retire { work } => write!(
                f,
                "io_worker_retire(): leave nr_running, {}",
                if work { "work queued" } else { "no work: exit" }
            ),
            WAct::Retire2 { stay } => write!(
                f,
                "io_worker_retire(): {}",
                if stay {
                    "takes its slot back, stays"
                } else {
                    "no slot left: exit"
                }
            ),
            WAct::LastLook { took } => write!(
                f,
                "io_wq_worker(): leave nr_running, last look: {}",
                if took { "takes a work item" } else { "no work" }
            ),
            WAct::Sleep { blocked } => write!(
                f,
                "schedule_timeout(5 s): {}",
                if blocked {
                    "ASLEEP"
                } else {
                    "not TASK_INTERRUPTIBLE any more (woken, or ran work): returns at once"
                }
            ),
            WAct::AfterLoop { drained } => {
                write!(f, "io_wq_worker(): after the loop, {drained} item(s) run")
            }
            WAct::Exit { cancelled, wait } => write!(
                f,
                "io_worker_exit(){}{}",
                if cancelled {
                    ": cancels its create_worker_cb"
                } else {
                    ""
                },
                if wait {
                    ", waits for ref_done"
                } else {
                    ": gone"
                }
            ),
            WAct::ExitFinish => write!(f, "io_worker_exit(): ref_done, gone"),
        }
    }
}

impl fmt::Display for TAct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TAct::Enqueue => write!(f, "io_wq_enqueue(): io_wq_insert_work()"),
            TAct::Activate { woke } => write!(
                f,
                "io_wq_enqueue(): io_acct_activate_free_worker() wakes {}",
                opt_w(woke)
            ),
            TAct::Create { reserved } => write!(
                f,
                "io_wq_enqueue(): {}",
                if reserved {
                    "none running: io_wq_create_worker() reserves a worker"
                } else {
                    "no creation"
                }
            ),
            TAct::Spawn { worker } => {
                write!(f, "create_io_worker(): new worker {}", opt_w(worker))
            }
            TAct::Install { ok } => write!(
                f,
                "__io_uring_add_tctx_node(): io_tctx_install_node() {}",
                if ok { "succeeds" } else { "FAILS (-ENOMEM)" }
            ),
            TAct::Hook { word: w } => write!(
                f,
                "__io_uring_add_tctx_node(): hook NodeAdded -> state {}",
                word(w)
            ),
            TAct::HookFirst { word: w } => write!(
                f,
                "__io_uring_add_tctx_node() (unpatched): leave EOI first -> state {}",
                word(w)
            ),
            TAct::Close => write!(
                f,
                "close(ring), DEFER_TASKRUN: io_ring_exit_work() frees the requests, queues io_tctx_exit_cb on the task"
            ),
            TAct::TwGrab { n } => write!(f, "task_work_run(): takes {n} item(s), newest first"),
            TAct::TctxExit {
                skipped,
                word: w,
                woke,
            } => {
                if skipped {
                    write!(f, "io_tctx_exit_cb(): in_cancel, skipped")
                } else {
                    write!(
                        f,
                        "io_tctx_exit_cb() -> io_uring_del_tctx_node(): hook NodeRemoved -> \
                         state {}{}",
                        word(w),
                        if woke { ", wakes all workers" } else { "" }
                    )
                }
            }
            TAct::CwcActivate { worker, woke } => write!(
                f,
                "create_worker_cb(W{worker}): io_acct_activate_free_worker() wakes {}",
                opt_w(woke)
            ),
            TAct::CwcReserve { worker, spawned } => write!(
                f,
                "create_worker_cb(W{worker}): {}",
                match spawned {
                    Some(j) => format!("create_io_worker(): new worker W{j}"),
                    None => "no slot: no_need_create".into(),
                }
            ),
            TAct::CwcClear { worker, woke } => write!(
                f,
                "create_worker_cb(W{worker}): clear_bit_unlock(create_state){}",
                if woke { ", wakes W (fix)" } else { "" }
            ),
            TAct::ExitStart { cancelled } => write!(
                f,
                "io_uring_cancel_generic(): io_wq_exit_start() sets EXIT, cancels \
                 {cancelled} create_worker_cb; requests cancelled"
            ),
            TAct::CleanTctx => write!(f, "io_uring_clean_tctx()"),
            TAct::DelNode { word: w } => write!(
                f,
                "io_uring_clean_tctx() -> io_uring_del_tctx_node(): state {}",
                word(w)
            ),
            TAct::ExitWorkers => write!(
                f,
                "io_wq_exit_workers(): io_wq_cancel_tw_create(), wakes all workers"
            ),
            TAct::Destroy => write!(f, "worker_done: io_wq_destroy()"),
        }
    }
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Act::Worker(i, a) => write!(f, "W{i}    {a}"),
            Act::Timeout(i) => write!(f, "W{i}    idle timeout (5 s) expires"),
            Act::Task(a) => write!(f, "task  {a}"),
        }
    }
}

impl fmt::Display for State {
    /// One line: the io-wq, the task, the workers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.task;
        write!(
            f,
            "[{} q={} nr_workers={} nr_running={} rings={}",
            word(self.wq_state),
            self.queued,
            self.nr_workers,
            self.nr_running,
            t.rings
        )?;
        let tw = |list: &[Tw]| {
            list.iter()
                .map(|x| match x {
                    Tw::Cwc(j) => format!("cwc(W{j})"),
                    Tw::TctxExit => "tctx_exit".into(),
                    Tw::None => String::new(),
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        if t.npending > 0 {
            // Newest first, as task->task_works lists them.
            let mut p = t.pending[..t.npending as usize].to_vec();
            p.reverse();
            write!(f, " tw=[{}]", tw(&p))?;
        }
        if t.nrun > 0 {
            write!(f, " running=[{}]", tw(&t.run[..t.nrun as usize]))?;
        }
        write!(f, "]")?;
        for (i, w) in self.alive() {
            write!(f, " W{i}:{:?}", w.pc)?;
            if w.create_state {
                write!(f, "+create")?;
            }
        }
        Ok(())
    }
}
