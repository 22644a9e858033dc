// SPDX-License-Identifier: GPL-2.0

//! The task: `io_wq_enqueue()` (io-wq.c), node add and removal (tctx.c),
//! closing a ring and task_work (io_uring.c), and the teardown.

use super::{
    push, Act, Config, CwcStage, Kind, Mutant, State, Succ, TAct, TaskPc, Tw, MAX_THREADS, MAX_TW,
};
use crate::io_wq_idle_state::{TctxEvent, EXIT, EXIT_ON_IDLE};
use crate::props::Prop;

pub(super) fn steps(s: &State, cfg: &Config, out: &mut Vec<Succ>) {
    let t = &s.task;
    let mut n = s.clone();
    let act = match t.pc {
        TaskPc::Idle => return task_idle(s, cfg, out),
        TaskPc::EnqActivate => {
            // io_wq_enqueue(): io_acct_activate_free_worker().
            let woke = n.activate_free_worker();
            n.task.pc = if woke.is_some() {
                TaskPc::Idle
            } else {
                TaskPc::EnqCreate
            };
            TAct::Activate { woke }
        }
        TaskPc::EnqCreate => {
            // io_wq_enqueue(): no free worker and none running ->
            // io_wq_create_worker() reserves one under workers_lock.
            let reserved = n.nr_running == 0 && n.nr_workers < cfg.bounds.max_workers as i8;
            if reserved {
                n.nr_workers += 1;
                n.nr_running += 1;
                n.task.reserved = true;
                n.task.pc = TaskPc::EnqSpawn;
            } else {
                n.task.pc = TaskPc::Idle;
            }
            TAct::Create { reserved }
        }
        TaskPc::EnqSpawn => {
            // create_io_worker(): the thread, io_init_new_worker().
            let worker = n.spawn();
            n.task.reserved = false;
            n.task.pc = TaskPc::Idle;
            let act = Act::Task(TAct::Spawn { worker });
            return push_spawn(out, n, act, worker);
        }
        TaskPc::AddHook => {
            // __io_uring_add_tctx_node(): node installed, so leave
            // exit-on-idle.
            n.tctx_hook(cfg, TctxEvent::NodeAdded);
            n.task.pc = TaskPc::Idle;
            TAct::Hook { word: n.wq_state }
        }
        TaskPc::AddInstall => {
            // Mutant::LeaveBeforeInstall: io_tctx_install_node() after
            // the hook.
            return install(s, TaskPc::Idle, Kind::Internal, out);
        }
        TaskPc::TwRun => return task_work(s, cfg, out),
        TaskPc::Cancelling => {
            if t.npending > 0 {
                // io_uring_cancel_generic(): io_run_task_work() while waiting.
                push(
                    out,
                    grab(s, cfg, TaskPc::Cancelling),
                    grab_act(s),
                    Kind::Internal,
                );
            }
            if s.work_in_flight() {
                return;
            }
            // io_uring_clean_tctx(): the requests are done.
            n.task.pc = if t.rings > 0 {
                TaskPc::DelNodes
            } else {
                TaskPc::ExitWorkers
            };
            TAct::CleanTctx
        }
        TaskPc::DelNodes => {
            // io_uring_clean_tctx() -> io_uring_del_tctx_node(): the hook
            // enters exit-on-idle on the last one; EXIT is set, no wake-up.
            n.task.rings -= 1;
            n.tctx_hook(cfg, TctxEvent::NodeRemoved);
            if n.task.rings == 0 {
                n.task.pc = TaskPc::ExitWorkers;
            }
            TAct::DelNode { word: n.wq_state }
        }
        TaskPc::ExitWorkers => {
            // io_wq_exit_workers(): io_wq_cancel_tw_create(), wake everyone.
            n.cancel_cwc(None);
            n.wake_all();
            n.task.pc = TaskPc::WaitWorkers;
            TAct::ExitWorkers
        }
        TaskPc::WaitWorkers => {
            // wait_for_completion(&wq->worker_done), then io_wq_destroy()
            // cancels what is left.
            if s.alive().next().is_some() || t.reserved {
                return;
            }
            n.queued = 0;
            n.task.pc = TaskPc::Done;
            TAct::Destroy
        }
        TaskPc::Done => return,
    };
    push(out, n, Act::Task(act), Kind::Internal);
}

fn push_spawn(out: &mut Vec<Succ>, state: State, act: Act, worker: Option<u8>) {
    let bad = worker
        .is_none()
        .then(|| (Prop::ModelBound, format!("more than {MAX_THREADS} threads")));
    out.push(Succ {
        state,
        act,
        kind: Kind::Internal,
        bad,
    });
}

/// `io_tctx_install_node()`: succeeds or fails (`-ENOMEM`, and then a failed
/// `xa_store()` may leave empty internal nodes behind).
fn install(s: &State, next_ok: TaskPc, kind: Kind, out: &mut Vec<Succ>) {
    if s.task.opens_left > 0 {
        let mut n = s.clone();
        n.task.opens_left -= 1;
        n.task.rings += 1;
        n.task.pc = next_ok;
        push(out, n, Act::Task(TAct::Install { ok: true }), kind);
    }
    if s.task.fails_left > 0 {
        let mut n = s.clone();
        n.task.fails_left -= 1;
        n.task.xa_dirty = true;
        n.task.pc = TaskPc::Idle;
        push(out, n, Act::Task(TAct::Install { ok: false }), kind);
    }
}

/// The task in user space: a new operation, or task_work on the way back.
fn task_idle(s: &State, cfg: &Config, out: &mut Vec<Succ>) {
    let t = &s.task;
    if t.npending > 0 {
        push(out, grab(s, cfg, TaskPc::Idle), grab_act(s), Kind::Internal);
    }
    let open_rings = t.rings - t.closing;
    if t.work_left > 0 && open_rings > 0 {
        // io_wq_enqueue(): io_wq_insert_work() under acct->lock.
        let mut n = s.clone();
        n.task.work_left -= 1;
        n.queued += 1;
        n.task.pc = TaskPc::EnqActivate;
        push(out, n, Act::Task(TAct::Enqueue), Kind::External);
    }
    if t.opens_left > 0 || t.fails_left > 0 {
        if cfg.is(Mutant::LeaveBeforeInstall) {
            // The old order: leave exit-on-idle, then install the node.
            let mut n = s.clone();
            n.tctx_hook(cfg, TctxEvent::NodeAdded);
            n.task.pc = TaskPc::AddInstall;
            let act = TAct::HookFirst { word: n.wq_state };
            push(out, n, Act::Task(act), Kind::External);
        } else {
            // __io_uring_add_tctx_node(): io_tctx_install_node() first.
            install(s, TaskPc::AddHook, Kind::External, out);
        }
    }
    if open_rings > 0 && s.queued == 0 && !s.work_in_flight() {
        // close(): io_ring_exit_work() waits for the ring's requests, then
        // queues io_tctx_exit_cb() on the task. The requests' frees are not
        // modelled: this is a SINGLE_ISSUER | DEFER_TASKRUN ring, whose
        // exit work frees them itself (io_cancel_local_task_work()). A
        // normal ring's requests are freed through the task's task_work,
        // which would run a pending create_worker_cb() first.
        let mut n = s.clone();
        n.task.closing += 1;
        n.tw_push(Tw::TctxExit);
        push(out, n, Act::Task(TAct::Close), Kind::External);
    }
    if t.teardown_left {
        // io_uring_cancel_generic(): io_wq_exit_start() sets EXIT and
        // cancels the pending create_worker_cb(); the queued requests are
        // cancelled (io_wq_cancel_cb()).
        let mut n = s.clone();
        n.wq_state |= EXIT as u8;
        let cancelled = n.cancel_cwc(None);
        n.queued = 0;
        n.task.in_cancel = true;
        n.task.teardown_left = false;
        n.task.pc = TaskPc::Cancelling;
        push(
            out,
            n,
            Act::Task(TAct::ExitStart { cancelled }),
            Kind::External,
        );
    }
}

fn grab_act(s: &State) -> Act {
    Act::Task(TAct::TwGrab { n: s.task.npending })
}

/// `task_work_run()` takes the whole list: it runs the newest item first.
fn grab(s: &State, cfg: &Config, after: TaskPc) -> State {
    let mut n = s.clone();
    let k = s.task.npending as usize;
    let mut order = s.task.pending;
    if !cfg.tw_fifo {
        order[..k].reverse();
    }
    n.task.run = order;
    n.task.nrun = k as u8;
    n.task.pending = [Tw::None; MAX_TW];
    n.task.npending = 0;
    n.task.cwc = CwcStage::Activate;
    n.task.after_tw = after;
    n.task.pc = TaskPc::TwRun;
    n
}

fn task_work(s: &State, cfg: &Config, out: &mut Vec<Succ>) {
    let mut n = s.clone();
    let act = match s.task.run[0] {
        Tw::None => unreachable!("task_work_run() with nothing to run"),
        Tw::TctxExit => {
            // io_tctx_exit_cb(): io_uring_del_tctx_node() unless cancelling.
            n.task.closing -= 1;
            let skipped = n.task.in_cancel;
            let mut woke = false;
            if !skipped {
                n.task.rings -= 1;
                woke = n.tctx_hook(cfg, TctxEvent::NodeRemoved);
            }
            n.pop_run();
            TAct::TctxExit {
                skipped,
                word: n.wq_state,
                woke,
            }
        }
        Tw::Cwc(worker) => match s.task.cwc {
            CwcStage::Activate => {
                // create_worker_cb(): io_acct_activate_free_worker(); if it
                // woke one, no_need_create: atomic_dec(&acct->nr_running).
                let woke = n.activate_free_worker();
                if woke.is_some() {
                    n.nr_running -= 1;
                    n.task.cwc = CwcStage::Clear;
                } else {
                    n.task.cwc = CwcStage::Reserve;
                }
                TAct::CwcActivate { worker, woke }
            }
            CwcStage::Reserve => {
                // create_worker_cb(): nr_workers < max_workers under
                // workers_lock, then create_io_worker(); else no_need_create.
                let mut spawned = None;
                n.task.cwc = CwcStage::Clear;
                if n.nr_workers < cfg.bounds.max_workers as i8 {
                    n.nr_workers += 1;
                    spawned = n.spawn();
                    let act = Act::Task(TAct::CwcReserve { worker, spawned });
                    return push_spawn(out, n, act, spawned);
                }
                n.nr_running -= 1;
                TAct::CwcReserve { worker, spawned }
            }
            CwcStage::Clear => {
                // create_worker_cb(): clear_bit_unlock(0, &worker->create_state),
                // io_worker_release(). The fix: wake the worker if the io-wq is
                // in exit-on-idle, as it stayed for this request.
                let w = worker as usize;
                n.w[w].create_state = false;
                let woke = cfg.fix_cwc_wake && s.wq_state as usize & EXIT_ON_IDLE != 0;
                if woke {
                    n.wake(w);
                }
                n.pop_run();
                TAct::CwcClear { worker, woke }
            }
        },
    };
    push(out, n, Act::Task(act), Kind::Internal);
}
