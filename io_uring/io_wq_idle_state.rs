// SPDX-License-Identifier: GPL-2.0

//! The decisions of io-wq's exit-on-idle state, as plain functions.
//!
//! An io-wq keeps its last worker after the worker's idle timeout, so that the
//! next request does not pay for creating a thread. Once the task has closed
//! its last io_uring instance there is no next request, and the kept worker is
//! only in the way: checkpoint/restore, for one, cannot dump a process that
//! still has an `iou-wrk` thread. So the io-wq then enters the exit-on-idle
//! state, in which every worker exits as soon as it is idle, and leaves it on
//! the next io_uring use by the task.
//!
//! This file holds only decisions, over plain values. It depends on nothing
//! but `core`, so that the same source builds outside the kernel too (for
//! example into a host-side model checker). The atomic update of the state
//! word and the interface to C are in `io_wq_idle.rs`.

/// Bit number of "io-wq is exiting" in the `state` word of `struct io_wq`.
pub const IO_WQ_BIT_EXIT: u32 = 0;
/// Bit number of the exit-on-idle state in the `state` word of `struct io_wq`.
pub const IO_WQ_BIT_EXIT_ON_IDLE: u32 = 1;

/// The bit of the `state` word that is set while the io-wq is exiting.
pub const EXIT: usize = 1 << IO_WQ_BIT_EXIT;
/// The bit of the `state` word that is set in the exit-on-idle state.
pub const EXIT_ON_IDLE: usize = 1 << IO_WQ_BIT_EXIT_ON_IDLE;

/// The exit-on-idle state of an io-wq.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleState {
    /// The task uses io_uring: the last worker stays after its idle timeout.
    KeepAlive,
    /// The task has no io_uring instance left: every worker exits once idle.
    ExitOnIdle,
}

impl IdleState {
    /// Decodes the state from a snapshot of the `state` word of `struct io_wq`.
    #[inline]
    pub const fn from_word(word: usize) -> Self {
        if word & EXIT_ON_IDLE != 0 {
            Self::ExitOnIdle
        } else {
            Self::KeepAlive
        }
    }

    /// Returns `word` with this state encoded, and every other bit unchanged.
    #[inline]
    pub const fn encode(self, word: usize) -> usize {
        match self {
            Self::KeepAlive => word & !EXIT_ON_IDLE,
            Self::ExitOnIdle => word | EXIT_ON_IDLE,
        }
    }
}

/// Decides whether the workers are woken when the state is set to `to`.
///
/// `old` is the `state` word as it was right before `to` was stored in it.
/// Entering exit-on-idle wakes the workers, so that the ones asleep in their
/// idle timeout see the new state and exit. Requesting the current state
/// changes nothing, so that happens once per entry, however often the state
/// is requested.
#[inline]
pub const fn wake_on_set(old: usize, to: IdleState) -> bool {
    matches!(to, IdleState::ExitOnIdle) && old & EXIT_ON_IDLE == 0
}

/// What an idle worker does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Stay: go idle, take a last look at the work list, then sleep.
    Stay,
    /// Exit: give up the worker's slot. `io_worker_retire()` then looks at the
    /// work list once more, and keeps the worker if work was left to it.
    Exit,
}

/// What an idle worker knows when it decides, under `acct->workers_lock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerIdle {
    /// The worker's last sleep ended with its idle timeout.
    pub last_timeout: bool,
    /// The worker runs on a CPU outside the io-wq's CPU mask.
    pub affinity_changed: bool,
    /// Workers in the worker's accounting class, the worker included.
    pub nr_workers: u32,
    /// The io-wq's exit-on-idle state.
    pub state: IdleState,
    /// A request of this worker for another worker is pending.
    pub create_pending: bool,
}

/// Decides whether an idle worker exits.
///
/// A worker whose idle timeout expired exits unless it is the last of its
/// class on a CPU it may run on: that one is kept alive for the next request.
/// In the exit-on-idle state every idle worker exits. Never while a creation
/// request of the worker is pending, though: that request is accounted as a
/// running worker, which others rely on, and exiting would cancel it.
#[inline]
pub const fn verdict(w: &WorkerIdle) -> Verdict {
    if w.create_pending {
        return Verdict::Stay;
    }
    if matches!(w.state, IdleState::ExitOnIdle)
        || (w.last_timeout && (w.affinity_changed || w.nr_workers > 1))
    {
        return Verdict::Exit;
    }
    Verdict::Stay
}

/// A change to the set of io_uring instances of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TctxEvent {
    /// The task started to use an io_uring instance (a tctx node was added).
    NodeAdded,
    /// The task stopped using an io_uring instance (a tctx node was removed).
    NodeRemoved,
}

/// Decides which state the task's io-wq has to be in after `event`.
///
/// `no_rings` tells whether the task has no io_uring instance left after the
/// event, `has_wq` whether the task has an io-wq. Returns `None` when there is
/// nothing to change.
#[inline]
pub const fn tctx_update(event: TctxEvent, no_rings: bool, has_wq: bool) -> Option<IdleState> {
    if !has_wq {
        return None;
    }
    match event {
        TctxEvent::NodeAdded => Some(IdleState::KeepAlive),
        TctxEvent::NodeRemoved if no_rings => Some(IdleState::ExitOnIdle),
        TctxEvent::NodeRemoved => None,
    }
}
