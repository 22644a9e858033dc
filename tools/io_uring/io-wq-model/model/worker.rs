// SPDX-License-Identifier: GPL-2.0

//! The worker threads: `io_wq_worker()` and what it calls, in io-wq.c.

use super::{push, Act, Config, Kind, Mutant, Pc, State, Succ, WAct};
use crate::io_wq_idle_state::{IdleState, Verdict, WorkerIdle};
use crate::props::Prop;

pub(super) fn steps(s: &State, cfg: &Config, i: usize, out: &mut Vec<Succ>) {
    let w = s.w[i];
    let id = i as u8;
    let mut n = s.clone();
    let act = match w.pc {
        Pc::Free => return,
        Pc::LoopTest => {
            // io_wq_worker(): io_wq_worker_running() after a schedule(), then
            // the loop condition.
            n.running_hook(i);
            let exit = n.exiting();
            n.w[i].pc = if exit { Pc::AfterLoop } else { Pc::Arm };
            WAct::LoopTest { exit }
        }
        Pc::Arm => {
            // io_wq_worker(): set_current_state(TASK_INTERRUPTIBLE), then
            // io_acct_run_queue() + io_get_next_work() under acct->lock.
            n.w[i].interruptible = true;
            let took = n.queued > 0;
            if took {
                n.queued -= 1;
                n.w[i].pc = Pc::Busy;
            } else {
                n.w[i].pc = Pc::Decide;
            }
            WAct::Arm { took }
        }
        Pc::Busy => {
            // io_worker_handle_work(): __io_worker_busy() under workers_lock,
            // __set_current_state(TASK_RUNNING).
            if n.w[i].free {
                n.free_remove(i);
            }
            n.w[i].interruptible = false;
            n.w[i].pc = Pc::Exec;
            WAct::Busy
        }
        Pc::Exec | Pc::Resume => {
            if w.pc == Pc::Exec && cfg.bounds.block {
                // io_wq_submit_work() blocks: schedule() calls
                // io_wq_worker_sleeping(), which may ask for a worker.
                let mut b = s.clone();
                let req = b.sleeping_hook(i);
                b.w[i].pc = Pc::Blocked;
                push(out, b, Act::Worker(id, WAct::Block { req }), Kind::Internal);
            }
            // io_wq_submit_work() returns; io_worker_handle_work() goes on.
            let took = n.complete(i);
            WAct::Complete { took }
        }
        Pc::Blocked => {
            // The work item is woken: io_wq_worker_running().
            n.running_hook(i);
            n.w[i].pc = Pc::Resume;
            WAct::Unblock
        }
        Pc::Decide => return decide(s, cfg, i, out),
        Pc::Retire => {
            // io_worker_retire(): clear IO_WORKER_F_UP, leave nr_running,
            // io_acct_run_queue().
            n.w[i].up = false;
            n.nr_running -= 1;
            let work = n.queued > 0;
            n.w[i].pc = if work { Pc::Retire2 } else { Pc::AfterLoop };
            WAct::Retire { work }
        }
        Pc::Retire2 => {
            // io_worker_retire(): take the slot back under workers_lock,
            // unless a worker was created in ours.
            let stay = n.nr_workers < cfg.bounds.max_workers as i8;
            if stay {
                n.nr_workers += 1;
                n.nr_running += 1;
                let w = &mut n.w[i];
                w.slot = true;
                w.up = true;
                w.last_timeout = false;
                w.pc = Pc::LoopTest;
            } else {
                n.w[i].pc = Pc::AfterLoop;
            }
            WAct::Retire2 { stay }
        }
        Pc::LastLook => {
            // io_wq_worker(): clear IO_WORKER_F_RUNNING, leave nr_running,
            // then the last look, io_acct_run_queue().
            n.w[i].running = false;
            n.nr_running -= 1;
            let took = !cfg.is(Mutant::NoLastLook) && n.queued > 0;
            if took {
                // io_wq_worker_running(), io_worker_handle_work().
                n.running_hook(i);
                n.queued -= 1;
                n.w[i].via_last_look = true;
                n.w[i].pc = Pc::Busy;
            } else {
                n.w[i].pc = Pc::Sleep;
            }
            WAct::LastLook { took }
        }
        Pc::Sleep => {
            // schedule_timeout(WORKER_IDLE_TIMEOUT): returns at once if woken
            // since set_current_state(). The sleeping hook is a no-op here.
            let blocked = w.interruptible;
            if blocked {
                n.w[i].pc = Pc::Asleep;
            } else {
                n.w[i].last_timeout = false;
                n.w[i].pc = Pc::LoopTest;
            }
            WAct::Sleep { blocked }
        }
        Pc::Asleep => {
            // schedule_timeout() returns 0: last_timeout = true.
            let wk = &mut n.w[i];
            wk.last_timeout = true;
            wk.interruptible = false;
            wk.pc = Pc::LoopTest;
            push(out, n, Act::Timeout(id), Kind::Timeout);
            return;
        }
        Pc::AfterLoop => {
            // io_wq_worker(): if IO_WQ_BIT_EXIT, run (cancel) what is queued.
            let drained = if n.exiting() { n.queued } else { 0 };
            n.queued -= drained;
            n.w[i].pc = Pc::Exit;
            WAct::AfterLoop { drained }
        }
        Pc::Exit => {
            // io_worker_exit(): cancel our create_worker_cb(), drop our ref,
            // wait for ref_done: a create_worker_cb() already taken off the
            // list by task_work_run() holds a ref until it is done.
            let cancelled = n.cancel_cwc(Some(i)) > 0;
            let wait = n.w[i].create_state;
            if wait {
                n.w[i].pc = Pc::ExitWait;
            } else {
                n.exit_finish(i);
            }
            WAct::Exit { cancelled, wait }
        }
        Pc::ExitWait => {
            // io_worker_exit(): ref_done once create_worker_cb() is done.
            if w.create_state {
                return;
            }
            n.exit_finish(i);
            WAct::ExitFinish
        }
    };
    push(out, n, Act::Worker(id, act), Kind::Internal);
}

/// io_wq_worker(): `io_worker_should_exit()` -> Rust `verdict()` under
/// `acct->workers_lock`, and what follows it.
fn decide(s: &State, cfg: &Config, i: usize, out: &mut Vec<Succ>) {
    let w = s.w[i];
    let idle = WorkerIdle {
        last_timeout: w.last_timeout,
        affinity_changed: false,
        nr_workers: s.nr_workers.max(0) as u32,
        state: s.idle_state(),
        create_pending: w.create_state,
    };
    let exit = cfg.verdict(&idle) == Verdict::Exit;
    let mut n = s.clone();
    let mut bad = None;
    if exit {
        if w.create_state {
            bad = Some((
                Prop::CreatePendingExit,
                format!("W{i} gives up its slot with its create_worker_cb() pending"),
            ));
        } else if s.holds_ring() && !s.exiting() && s.nr_workers == 1 {
            bad = Some((
                Prop::Keepalive,
                format!("W{i}, the last worker, exits while the task holds a ring"),
            ));
        }
        n.nr_workers -= 1;
        if n.w[i].free {
            n.free_remove(i);
        }
        let wk = &mut n.w[i];
        wk.slot = false;
        wk.interruptible = false;
        wk.pc = if cfg.is(Mutant::NoRetire) {
            Pc::AfterLoop
        } else {
            Pc::Retire
        };
    } else {
        // __io_worker_idle(); io_run_task_work() has nothing to run.
        n.w[i].last_timeout = false;
        if !n.w[i].free {
            n.free_push(i);
        }
        n.w[i].pc = Pc::LastLook;
    }
    let act = WAct::Verdict {
        exit,
        eoi: idle.state == IdleState::ExitOnIdle,
        create: w.create_state,
        timeout: w.last_timeout,
        nr: s.nr_workers,
    };
    out.push(Succ {
        state: n,
        act: Act::Worker(i as u8, act),
        kind: Kind::Internal,
        bad,
    });
}
