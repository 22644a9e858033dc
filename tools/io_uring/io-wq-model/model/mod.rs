// SPDX-License-Identifier: GPL-2.0

//! The protocol: io-wq.c, tctx.c and io_uring.c, as this tree has them.
//!
//! One io-wq, one accounting class (the bound one: the classes only share
//! the state word and the wake-ups, which are modelled), one task with its
//! rings, task_work list and teardown, and up to [`MAX_THREADS`] worker
//! threads. Every lock-held section is one step; so is each wake-up, idle
//! timeout and task_work callback. An atomic operation directly followed by
//! a lock-held section is folded into it: splitting them only adds
//! interleavings in which both sides act (a second creation request), never
//! one in which neither does.
//!
//! Left out, as they do not touch exit-on-idle: hashed and linked work, the
//! unbound class, CPU affinity changes (`affinity_changed` is always false), failed
//! thread creation and its retries, the worker's own task_work (workers run
//! none here), and `TIF_NOTIFY_SIGNAL`: `io_run_task_work()` clears it before
//! every sleep, so only the `wake_up_process()` half of a wake-up counts.

use crate::io_wq_idle_state::{
    tctx_update, verdict, wake_on_set, IdleState, TctxEvent, Verdict, WorkerIdle, EXIT,
    EXIT_ON_IDLE,
};
use crate::props::Prop;
use std::fmt;

mod display;
mod task;
mod worker;

/// Worker threads that can exist at once: `max_workers` plus exiting ones.
pub const MAX_THREADS: usize = 4;
/// Capacity of the task's task_work lists: a `create_worker_cb()` per worker
/// (`create_state` allows one) and an `io_tctx_exit_cb()` per ring (at most 3).
pub const MAX_TW: usize = MAX_THREADS + 3;

/// A deliberate bug, to show that the checker catches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// (a) The verdict ignores a pending creation request (upstream bug 1).
    CreatePendingExit,
    /// (b) No `io_worker_retire()`: an exiting worker does not look at the
    /// work list again (upstream bug 2).
    NoRetire,
    /// (c) No last look at the work list before sleeping (upstream bug 3).
    NoLastLook,
    /// Leave exit-on-idle before the node install, which then fails (the
    /// order before "io_uring/tctx: leave exit-on-idle only once the tctx
    /// node is installed").
    LeaveBeforeInstall,
    /// "No ring left" is `xa_empty()`, which a failed `xa_store()` makes
    /// false for good (before "io_uring/tctx: enter exit-on-idle when no
    /// tctx node is left").
    XaEmpty,
    /// The last node removal does not enter exit-on-idle.
    NoEnterOnLastRemoval,
    /// Entering exit-on-idle wakes nobody.
    NoWakeOnEntry,
    /// Adding a node does not leave exit-on-idle.
    NoLeaveOnAdd,
}

impl Mutant {
    /// Every mutant, in the order of the report.
    pub const ALL: [Mutant; 8] = [
        Mutant::CreatePendingExit,
        Mutant::NoRetire,
        Mutant::NoLastLook,
        Mutant::LeaveBeforeInstall,
        Mutant::XaEmpty,
        Mutant::NoEnterOnLastRemoval,
        Mutant::NoWakeOnEntry,
        Mutant::NoLeaveOnAdd,
    ];

    /// A short name, for tables.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::CreatePendingExit => "(a) exit with creation pending",
            Mutant::NoRetire => "(b) no io_worker_retire() second look",
            Mutant::NoLastLook => "(c) no last look before sleeping",
            Mutant::LeaveBeforeInstall => "leave EOI before the node install",
            Mutant::XaEmpty => "xa_empty() as 'no ring left'",
            Mutant::NoEnterOnLastRemoval => "hook: no EOI on last removal",
            Mutant::NoWakeOnEntry => "no wake-up on EOI entry",
            Mutant::NoLeaveOnAdd => "hook: no leaving EOI on add",
        }
    }
}

/// How far the search goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// `acct->max_workers`.
    pub max_workers: u8,
    /// Work items the task enqueues, in all.
    pub work: u8,
    /// Rings the task opens (node installs that succeed), beyond its first;
    /// at most 2.
    pub opens: u8,
    /// Node installs that fail.
    pub fails: u8,
    /// Whether a running work item may block (the scheduler's sleeping hook).
    pub block: bool,
    /// Whether the task may tear its io-wq down (exit or exec).
    pub teardown: bool,
}

impl Bounds {
    /// What `make test` runs.
    pub const DEFAULT: Bounds = Bounds {
        max_workers: 3,
        work: 3,
        opens: 1,
        fails: 1,
        block: true,
        teardown: true,
    };
    /// Larger bounds, for the report.
    pub const LARGE: Bounds = Bounds {
        max_workers: 3,
        work: 4,
        opens: 2,
        fails: 1,
        block: true,
        teardown: true,
    };
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "max_workers={} work={} opens=1+{} failed_installs={} block={} teardown={}",
            self.max_workers, self.work, self.opens, self.fails, self.block, self.teardown
        )
    }
}

/// The protocol variant to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The bounds of the search.
    pub bounds: Bounds,
    /// A deliberate bug, if any.
    pub mutant: Option<Mutant>,
    /// `create_worker_cb()` wakes its worker when it clears `create_state`
    /// in exit-on-idle ("io_uring/io-wq: wake a worker whose creation
    /// request ran in exit-on-idle", a bug this model found; v7.3.4 does
    /// not wake it).
    pub fix_cwc_wake: bool,
    /// Run task_work oldest first, unlike the kernel (to show that the
    /// missed wake-up needs the LIFO order).
    pub tw_fifo: bool,
}

impl Config {
    /// The protocol as this tree has it, with the `create_worker_cb()`
    /// wake-up.
    pub fn tree(bounds: Bounds) -> Config {
        Config {
            bounds,
            mutant: None,
            fix_cwc_wake: true,
            tw_fifo: false,
        }
    }

    /// Without the `create_worker_cb()` wake-up, as in v7.3.4.
    pub fn without_cwc_wake(bounds: Bounds) -> Config {
        Config {
            fix_cwc_wake: false,
            ..Config::tree(bounds)
        }
    }

    fn is(&self, m: Mutant) -> bool {
        self.mutant == Some(m)
    }

    /// `io_worker_should_exit()` -> the Rust `verdict()`, or a mutant of it.
    fn verdict(&self, w: &WorkerIdle) -> Verdict {
        if self.is(Mutant::CreatePendingExit) {
            return verdict(&WorkerIdle {
                create_pending: false,
                ..*w
            });
        }
        verdict(w)
    }

    /// The Rust `tctx_update()`, or a mutant of it.
    fn tctx_update(&self, ev: TctxEvent, no_rings: bool) -> Option<IdleState> {
        match ev {
            TctxEvent::NodeRemoved if self.is(Mutant::NoEnterOnLastRemoval) => None,
            TctxEvent::NodeAdded if self.is(Mutant::NoLeaveOnAdd) => None,
            _ => tctx_update(ev, no_rings, true),
        }
    }

    /// The Rust `wake_on_set()`, or a mutant of it.
    fn wake_on_set(&self, old: usize, to: IdleState) -> bool {
        !self.is(Mutant::NoWakeOnEntry) && wake_on_set(old, to)
    }
}

/// Where a worker thread is in `io_wq_worker()` and what it calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Pc {
    /// No thread in this slot.
    #[default]
    Free,
    /// At the loop condition, `!test_bit(IO_WQ_BIT_EXIT)`.
    LoopTest,
    /// `set_current_state(TASK_INTERRUPTIBLE)`, `io_acct_run_queue()`.
    Arm,
    /// Took a work item; `__io_worker_busy()` next.
    Busy,
    /// Running a work item.
    Exec,
    /// Blocked inside a work item.
    Blocked,
    /// Running a work item again after blocking; it completes.
    Resume,
    /// Under `workers_lock`, about to decide.
    Decide,
    /// `io_worker_retire()`: the look at the work list.
    Retire,
    /// `io_worker_retire()`: taking the slot back.
    Retire2,
    /// Leave `nr_running`, take the last look at the work list.
    LastLook,
    /// `schedule_timeout()`.
    Sleep,
    /// Asleep in `schedule_timeout()`: a wake-up or the idle timeout ends it.
    Asleep,
    /// After the loop: run work left while the io-wq exits.
    AfterLoop,
    /// `io_worker_exit()`.
    Exit,
    /// `io_worker_exit()`: waiting for `ref_done` (a `create_worker_cb()` runs).
    ExitWait,
}

/// One worker thread (`struct io_worker` and its task's state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Worker {
    /// Where it is.
    pub pc: Pc,
    /// `TASK_INTERRUPTIBLE` since `set_current_state()`, and not woken since.
    pub interruptible: bool,
    /// `IO_WORKER_F_UP`.
    pub up: bool,
    /// `IO_WORKER_F_RUNNING`.
    pub running: bool,
    /// `IO_WORKER_F_FREE`: on `acct->free_list`.
    pub free: bool,
    /// Bit 0 of `create_state`: a creation request of this worker is pending.
    pub create_state: bool,
    /// The last sleep ended with the idle timeout.
    pub last_timeout: bool,
    /// Running work found by the last look: `continue` after it.
    pub via_last_look: bool,
    /// Ghost: the worker holds one of `acct->nr_workers`.
    pub slot: bool,
}

impl Worker {
    /// A thread exists in this slot.
    pub fn alive(&self) -> bool {
        self.pc != Pc::Free
    }

    /// `io_worker_get()` succeeds: the worker has not dropped its own ref.
    fn gettable(&self) -> bool {
        !matches!(self.pc, Pc::Free | Pc::ExitWait)
    }

    /// Has taken a work item and not finished it.
    fn has_work(&self) -> bool {
        matches!(self.pc, Pc::Busy | Pc::Exec | Pc::Blocked | Pc::Resume)
    }
}

/// A task_work item on the task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Tw {
    /// No item.
    #[default]
    None,
    /// `create_worker_cb()` of worker N.
    Cwc(u8),
    /// `io_tctx_exit_cb()` of a closed ring.
    TctxExit,
}

/// The stage of the `create_worker_cb()` being run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CwcStage {
    /// `io_acct_activate_free_worker()` next.
    #[default]
    Activate,
    /// The `nr_workers` check and `create_io_worker()` next.
    Reserve,
    /// `clear_bit_unlock(0, &worker->create_state)` next.
    Clear,
}

/// What the task is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TaskPc {
    /// In user space: may start an operation or run task_work.
    #[default]
    Idle,
    /// `io_wq_enqueue()`: `io_acct_activate_free_worker()` next.
    EnqActivate,
    /// `io_wq_enqueue()`: `io_wq_create_worker()` next.
    EnqCreate,
    /// `io_wq_enqueue()`: `create_io_worker()` next.
    EnqSpawn,
    /// `__io_uring_add_tctx_node()`: node installed, the hook next.
    AddHook,
    /// [`Mutant::LeaveBeforeInstall`]: hook done, node install next.
    AddInstall,
    /// `task_work_run()`: running the items it took.
    TwRun,
    /// `io_uring_cancel_generic()`: waiting for the running requests.
    Cancelling,
    /// `io_uring_clean_tctx()`: removing the nodes.
    DelNodes,
    /// `io_wq_put_and_exit()`: `io_wq_exit_workers()` next.
    ExitWorkers,
    /// `io_wq_exit_workers()`: waiting for `worker_done`.
    WaitWorkers,
    /// The io-wq is destroyed.
    Done,
}

/// The task that owns the io-wq.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Task {
    /// Where it is.
    pub pc: TaskPc,
    /// `task->task_works`, oldest first (the newest is the list head).
    pub pending: [Tw; MAX_TW],
    /// Entries in `pending`.
    pub npending: u8,
    /// The items `task_work_run()` took, in the order it runs them.
    pub run: [Tw; MAX_TW],
    /// Entries in `run`.
    pub nrun: u8,
    /// Stage of `run[0]` when it is a `create_worker_cb()`.
    pub cwc: CwcStage,
    /// Where `task_work_run()` returns to.
    pub after_tw: TaskPc,
    /// Installed tctx nodes: the task's rings.
    pub rings: u8,
    /// Rings closed whose `io_tctx_exit_cb()` has not run yet.
    pub closing: u8,
    /// A failed `xa_store()` left empty internal nodes in `tctx->xa`.
    pub xa_dirty: bool,
    /// `tctx->in_cancel`.
    pub in_cancel: bool,
    /// `io_wq_create_worker()` reserved a worker it has not created yet.
    pub reserved: bool,
    /// Work items left to enqueue.
    pub work_left: u8,
    /// Successful node installs left.
    pub opens_left: u8,
    /// Failing node installs left.
    pub fails_left: u8,
    /// The teardown has not happened yet.
    pub teardown_left: bool,
    /// Ghost: `nr_workers` slots that exiting workers kept (only on EXIT).
    pub leaked: u8,
}

/// A state of the whole system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// `wq->state`: `EXIT` and `EXIT_ON_IDLE`.
    pub wq_state: u8,
    /// Items on `acct->work_list`.
    pub queued: u8,
    /// `acct->nr_workers`.
    pub nr_workers: i8,
    /// `acct->nr_running`.
    pub nr_running: i8,
    /// `acct->free_list`, head first.
    pub free_list: [u8; MAX_THREADS],
    /// Entries in `free_list`.
    pub nfree: u8,
    /// The worker threads, by slot.
    pub w: [Worker; MAX_THREADS],
    /// The task.
    pub task: Task,
}

/// What drives a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The system itself: it will happen without a timeout or a new request.
    Internal,
    /// A new operation of the task (enqueue, open, close, exit).
    External,
    /// An idle timeout.
    Timeout,
}

/// How `io_wq_dec_running()` ended, in the sleeping hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Req {
    /// Nothing to ask for.
    None,
    /// Queued a `create_worker_cb()`.
    Queued,
    /// `io_queue_worker_create()` refused (exiting, or one pending).
    Refused,
}

/// A worker's step, for traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WAct {
    LoopTest {
        exit: bool,
    },
    Arm {
        took: bool,
    },
    Busy,
    Complete {
        took: bool,
    },
    Block {
        req: Req,
    },
    Unblock,
    Verdict {
        exit: bool,
        eoi: bool,
        create: bool,
        timeout: bool,
        nr: i8,
    },
    Retire {
        work: bool,
    },
    Retire2 {
        stay: bool,
    },
    LastLook {
        took: bool,
    },
    Sleep {
        blocked: bool,
    },
    AfterLoop {
        drained: u8,
    },
    Exit {
        cancelled: bool,
        wait: bool,
    },
    ExitFinish,
}

/// A task's step, for traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TAct {
    Enqueue,
    Activate { woke: Option<u8> },
    Create { reserved: bool },
    Spawn { worker: Option<u8> },
    Install { ok: bool },
    Hook { word: u8 },
    HookFirst { word: u8 },
    Close,
    TwGrab { n: u8 },
    TctxExit { skipped: bool, word: u8, woke: bool },
    CwcActivate { worker: u8, woke: Option<u8> },
    CwcReserve { worker: u8, spawned: Option<u8> },
    CwcClear { worker: u8, woke: bool },
    ExitStart { cancelled: u8 },
    CleanTctx,
    DelNode { word: u8 },
    ExitWorkers,
    Destroy,
}

/// A step, for traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// Worker N ran.
    Worker(u8, WAct),
    /// Worker N's idle timeout expired.
    Timeout(u8),
    /// The task ran.
    Task(TAct),
}

/// A successor of a state.
pub struct Succ {
    pub state: State,
    pub act: Act,
    pub kind: Kind,
    /// A property that this step itself violates.
    pub bad: Option<(Prop, String)>,
}

impl State {
    /// The task has one ring and an io-wq with no worker, in keepalive.
    pub fn initial(b: &Bounds) -> State {
        State {
            wq_state: 0,
            queued: 0,
            nr_workers: 0,
            nr_running: 0,
            free_list: [0; MAX_THREADS],
            nfree: 0,
            w: [Worker::default(); MAX_THREADS],
            task: Task {
                rings: 1,
                work_left: b.work,
                opens_left: b.opens,
                fails_left: b.fails,
                teardown_left: b.teardown,
                ..Task::default()
            },
        }
    }

    /// The io-wq's idle state, as the Rust decodes it.
    pub fn idle_state(&self) -> IdleState {
        IdleState::from_word(self.wq_state as usize)
    }

    /// `IO_WQ_BIT_EXIT` is set.
    pub fn exiting(&self) -> bool {
        self.wq_state as usize & EXIT != 0
    }

    /// Some worker has taken a work item and not finished it.
    pub fn work_in_flight(&self) -> bool {
        self.w.iter().any(Worker::has_work)
    }

    /// Worker threads that exist.
    pub fn alive(&self) -> impl Iterator<Item = (usize, &Worker)> {
        self.w.iter().enumerate().filter(|(_, w)| w.alive())
    }

    /// The `create_worker_cb()` being run, if it is past its decrement.
    pub fn cwc_resolved(&self) -> bool {
        self.task.pc == TaskPc::TwRun
            && matches!(self.task.run[0], Tw::Cwc(_))
            && self.task.cwc == CwcStage::Clear
    }

    /// The task holds a ring, outside the window of an add.
    pub fn holds_ring(&self) -> bool {
        self.task.rings > 0 && self.task.pc != TaskPc::AddHook
    }

    fn free_push(&mut self, i: usize) {
        // hlist_nulls_add_head_rcu(): the most recent idle worker comes first.
        let n = self.nfree as usize;
        self.free_list.copy_within(0..n, 1);
        self.free_list[0] = i as u8;
        self.nfree += 1;
        self.w[i].free = true;
    }

    fn free_remove(&mut self, i: usize) {
        let n = self.nfree as usize;
        if let Some(p) = self.free_list[..n].iter().position(|&x| x as usize == i) {
            self.free_list.copy_within(p + 1..n, p);
            self.free_list[n - 1] = 0;
            self.nfree -= 1;
        }
        self.w[i].free = false;
    }

    /// `io_acct_activate_free_worker()`: wake the first free worker that
    /// `io_worker_get()` accepts.
    fn activate_free_worker(&mut self) -> Option<u8> {
        let n = self.nfree as usize;
        let j = *self.free_list[..n]
            .iter()
            .find(|&&j| self.w[j as usize].gettable())?;
        self.wake(j as usize);
        Some(j)
    }

    /// `wake_up_process()`: ends a sleep, or makes the next one return at
    /// once if the worker set `TASK_INTERRUPTIBLE` and has not slept yet.
    fn wake(&mut self, i: usize) {
        let w = &mut self.w[i];
        if w.pc == Pc::Asleep {
            w.pc = Pc::LoopTest;
            w.last_timeout = false;
        }
        w.interruptible = false;
    }

    /// `io_wq_for_each_worker(wq, io_wq_worker_wake, NULL)`.
    fn wake_all(&mut self) {
        for i in 0..MAX_THREADS {
            if self.w[i].gettable() {
                self.wake(i);
            }
        }
    }

    /// `create_io_thread()` + `io_init_new_worker()`: the new worker inherits
    /// the `nr_workers` and `nr_running` its creator accounted for it.
    fn spawn(&mut self) -> Option<u8> {
        let i = self.w.iter().position(|w| !w.alive())?;
        self.w[i] = Worker {
            pc: Pc::LoopTest,
            up: true,
            running: true,
            slot: true,
            ..Worker::default()
        };
        self.free_push(i);
        Some(i as u8)
    }

    /// `io_wq_worker_running()`, the scheduler's hook after `schedule()`.
    fn running_hook(&mut self, i: usize) {
        let w = &mut self.w[i];
        if w.up && !w.running {
            w.running = true;
            self.nr_running += 1;
        }
    }

    /// `io_wq_worker_sleeping()` -> `io_wq_dec_running()` ->
    /// `io_queue_worker_create()`, for a worker blocking in a work item.
    fn sleeping_hook(&mut self, i: usize) -> Req {
        let w = self.w[i];
        if !(w.up && w.running) {
            return Req::None;
        }
        self.w[i].running = false;
        self.nr_running -= 1;
        if self.nr_running != 0 || self.queued == 0 {
            return Req::None;
        }
        // The request is accounted as a running worker until it is resolved.
        self.nr_running += 1;
        if self.exiting() || w.create_state {
            self.nr_running -= 1;
            return Req::Refused;
        }
        self.w[i].create_state = true;
        self.tw_push(Tw::Cwc(i as u8));
        Req::Queued
    }

    fn tw_push(&mut self, tw: Tw) {
        // task_work_add(): the new item becomes the list head.
        let t = &mut self.task;
        assert!((t.npending as usize) < MAX_TW, "task_work list full");
        t.pending[t.npending as usize] = tw;
        t.npending += 1;
    }

    /// `task_work_cancel_match()` for `create_worker_cb()` items, each
    /// undone by `io_worker_cancel_cb()`. Returns how many.
    fn cancel_cwc(&mut self, only: Option<usize>) -> u8 {
        let mut cancelled = 0;
        let mut k = 0;
        while k < self.task.npending as usize {
            match self.task.pending[k] {
                Tw::Cwc(j) if only.is_none_or(|o| o == j as usize) => {
                    let n = self.task.npending as usize;
                    self.task.pending.copy_within(k + 1..n, k);
                    self.task.pending[n - 1] = Tw::None;
                    self.task.npending -= 1;
                    self.nr_running -= 1;
                    self.w[j as usize].create_state = false;
                    cancelled += 1;
                }
                _ => k += 1,
            }
        }
        cancelled
    }

    /// `io_wq_set_exit_on_idle()` -> `io_wq_idle_set_state()`: the state word
    /// with `fetch_or(EXIT_ON_IDLE)` or `andnot(EXIT_ON_IDLE)`, and every
    /// worker woken if `wake_on_set()` says so for the old word (never on
    /// leaving the state, where the kernel does not ask it).
    fn set_exit_on_idle(&mut self, cfg: &Config, to: IdleState) -> bool {
        let old = self.wq_state as usize;
        let new = match to {
            IdleState::ExitOnIdle => old | EXIT_ON_IDLE,
            IdleState::KeepAlive => old & !EXIT_ON_IDLE,
        };
        debug_assert_eq!(new, to.encode(old));
        self.wq_state = new as u8;
        let wake = cfg.wake_on_set(old, to);
        if wake {
            self.wake_all();
        }
        wake
    }

    /// The tctx.c hook after a node was added or removed: `no_rings` from
    /// the installed nodes (`xa_find(XA_PRESENT)`), then `tctx_update()`.
    fn tctx_hook(&mut self, cfg: &Config, ev: TctxEvent) -> bool {
        let mut no_rings = self.task.rings == 0;
        if cfg.is(Mutant::XaEmpty) {
            no_rings &= !self.task.xa_dirty;
        }
        match cfg.tctx_update(ev, no_rings) {
            Some(to) => self.set_exit_on_idle(cfg, to),
            None => false,
        }
    }

    /// `io_worker_exit()` once no reference is left: off the lists,
    /// `io_wq_dec_running()`, gone. A creation that `io_wq_dec_running()`
    /// asks for here fails, as the worker's own reference is gone.
    fn exit_finish(&mut self, i: usize) {
        if self.w[i].free {
            self.free_remove(i);
        }
        if self.w[i].up {
            self.nr_running -= 1;
        }
        if self.w[i].slot {
            self.task.leaked += 1;
        }
        self.w[i] = Worker::default();
    }

    /// After a work item: `io_worker_handle_work()` takes the next one under
    /// `acct->lock`, or returns; after the last look's work, `continue`.
    fn complete(&mut self, i: usize) -> bool {
        if self.queued > 0 {
            self.queued -= 1;
            self.w[i].pc = Pc::Exec;
            return true;
        }
        let w = &mut self.w[i];
        w.pc = if w.via_last_look {
            Pc::LoopTest
        } else {
            Pc::Decide
        };
        w.via_last_look = false;
        false
    }

    fn pop_run(&mut self) {
        let t = &mut self.task;
        let n = t.nrun as usize;
        t.run.copy_within(1..n, 0);
        t.run[n - 1] = Tw::None;
        t.nrun -= 1;
        t.cwc = CwcStage::Activate;
        if t.nrun == 0 {
            t.pc = t.after_tw;
        }
    }
}

/// Every step enabled in `s`.
pub fn successors(s: &State, cfg: &Config, out: &mut Vec<Succ>) {
    out.clear();
    for i in 0..MAX_THREADS {
        worker::steps(s, cfg, i, out);
    }
    task::steps(s, cfg, out);
}

fn push(out: &mut Vec<Succ>, state: State, act: Act, kind: Kind) {
    out.push(Succ {
        state,
        act,
        kind,
        bad: None,
    });
}
