// SPDX-License-Identifier: GPL-2.0

//! io-wq's exit-on-idle state, in Rust (`CONFIG_IO_WQ_IDLE_RUST`).
//!
//! The last worker of an io-wq is kept after its idle timeout, for the next
//! request. When its task has no io_uring instance left, the io-wq enters the
//! exit-on-idle state: every idle worker is woken and exits. The next io_uring
//! use by the task leaves that state, and the keepalive is back.
//!
//! The decisions are plain functions in [`io_wq_idle_state`]. This file holds
//! what C calls: the update of the `state` word of `struct io_wq`, the worker's
//! exit verdict, and the decision on a task's io-wq when the task adds or
//! removes an io_uring instance. C collects the inputs under the locks it
//! holds and acts on the answers: it wakes the workers, retires a worker, and
//! sets the state.

use kernel::{
    bindings,
    ffi::{
        c_uint,
        c_ulong, //
    },
    prelude::*,
    static_assert,
    sync::atomic::{
        Atomic,
        Full,
        Relaxed, //
    },
};

pub mod io_wq_idle_state;

use io_wq_idle_state::{
    tctx_update,
    verdict,
    IdleState,
    TctxEvent,
    Verdict,
    WorkerIdle, //
};

// The C enum and the Rust constants name the same bits.
static_assert!(bindings::io_wq_state_bit_IO_WQ_BIT_EXIT == io_wq_idle_state::IO_WQ_BIT_EXIT);
static_assert!(
    bindings::io_wq_state_bit_IO_WQ_BIT_EXIT_ON_IDLE == io_wq_idle_state::IO_WQ_BIT_EXIT_ON_IDLE
);

// The decisions are `const fn`s, so their defining cases are checked at build time; the KUnit
// suite `io_wq_idle_c` compares every input combination with the C expressions they replace.
const fn idle(last_timeout: bool, nr_workers: u32, state: IdleState, pending: bool) -> WorkerIdle {
    WorkerIdle {
        last_timeout,
        affinity_changed: false,
        nr_workers,
        state,
        create_pending: pending,
    }
}
// The last worker of its class, timed out on a CPU it may run on, is kept alive...
static_assert!(matches!(
    verdict(&idle(true, 1, IdleState::KeepAlive, false)),
    Verdict::Stay
));
// ... but not in the exit-on-idle state, where an idle worker exits without a timeout...
static_assert!(matches!(
    verdict(&idle(false, 1, IdleState::ExitOnIdle, false)),
    Verdict::Exit
));
// ... and never while a request of its own for another worker is pending.
static_assert!(matches!(
    verdict(&idle(true, 2, IdleState::ExitOnIdle, true)),
    Verdict::Stay
));
// A task without an io-wq has no state to change; with one, an added ring always leaves the
// state, and a removed one enters it only when it was the task's last.
static_assert!(tctx_update(TctxEvent::NodeAdded, true, false).is_none());
static_assert!(tctx_update(TctxEvent::NodeRemoved, true, false).is_none());
static_assert!(matches!(
    tctx_update(TctxEvent::NodeAdded, false, true),
    Some(IdleState::KeepAlive)
));
static_assert!(tctx_update(TctxEvent::NodeRemoved, false, true).is_none());
static_assert!(matches!(
    tctx_update(TctxEvent::NodeRemoved, true, true),
    Some(IdleState::ExitOnIdle)
));

/// Brings `state` into `to`, and returns whether every worker has to be woken.
///
/// Only the io-wq's task changes the state, but the teardown sets `IO_WQ_BIT_EXIT` in the same
/// word, so the bit is changed with an atomic read-modify-write.
///
/// Leaving the state is one relaxed `andnot()`, as `clear_bit()` is in C: it never wakes anyone,
/// so the old value is not needed. It runs whenever the task submits to a ring that was not the
/// last one it used.
///
/// Entering it is a fully ordered `fetch_or()`, as `test_and_set_bit()` is in C: a worker that
/// sees the state must also see what the task did before, and the old value tells whether this
/// call entered the state and has the workers woken. It runs once per last ring closed.
fn update(state: &Atomic<usize>, to: IdleState) -> bool {
    match to {
        IdleState::KeepAlive => {
            state.andnot(io_wq_idle_state::EXIT_ON_IDLE, Relaxed);
            false
        }
        IdleState::ExitOnIdle => {
            let old = state.fetch_or(io_wq_idle_state::EXIT_ON_IDLE, Full);

            io_wq_idle_state::wake_on_set(old, to)
        }
    }
}

/// Sets (`exit_on_idle`) or clears the exit-on-idle state of an io-wq.
///
/// Returns `true` if the state was entered just now and the workers are not
/// exiting anyway; the caller then wakes every worker, so that idle ones exit.
///
/// # Safety
///
/// `wq_state` points to the `state` word of a live `struct io_wq`, which is
/// only ever accessed atomically while this function runs.
#[export]
pub unsafe extern "C" fn io_wq_idle_set_state(wq_state: *mut c_ulong, exit_on_idle: bool) -> bool {
    // SAFETY: `Atomic::from_ptr()` requires, for the duration of this call:
    // - alignment to `align_of::<usize>()`: `wq_state` points to the `state` word of a `struct
    //   io_wq` (the safety requirements), an `unsigned long` field, which C aligns as `usize`;
    // - validity for reads and writes: that `struct io_wq` is live (the safety requirements);
    // - no data race with the atomic operations: every access to the word is atomic while this
    //   call runs (the safety requirements).
    // `c_ulong` is `usize` on every architecture the kernel supports.
    let state = unsafe { Atomic::<usize>::from_ptr(wq_state) };
    let to = if exit_on_idle {
        IdleState::ExitOnIdle
    } else {
        IdleState::KeepAlive
    };

    update(state, to)
}

/// Decides whether an idle worker exits; see [`io_wq_idle_state::verdict`].
///
/// Called by `io_wq_worker()` under `acct->workers_lock`, with `wq_state` a
/// snapshot of `wq->state`.
///
/// # Safety
///
/// None: any arguments are valid. The function is `unsafe` only because
/// `#[export]` compares it with the C prototype's binding, which is `unsafe`.
#[export]
pub unsafe extern "C" fn io_wq_idle_verdict(
    last_timeout: bool,
    affinity_changed: bool,
    nr_workers: c_uint,
    wq_state: c_ulong,
    create_pending: bool,
) -> bindings::io_wq_worker_verdict {
    let idle = WorkerIdle {
        last_timeout,
        affinity_changed,
        nr_workers,
        state: IdleState::from_word(wq_state),
        create_pending,
    };

    match verdict(&idle) {
        Verdict::Stay => bindings::io_wq_worker_verdict_IO_WQ_WORKER_STAY,
        Verdict::Exit => bindings::io_wq_worker_verdict_IO_WQ_WORKER_EXIT,
    }
}

/// The C value of a decision of [`tctx_update`].
fn idle_change(change: Option<IdleState>) -> bindings::io_wq_idle_change {
    match change {
        None => bindings::io_wq_idle_change_IO_WQ_IDLE_UNCHANGED,
        Some(IdleState::KeepAlive) => bindings::io_wq_idle_change_IO_WQ_IDLE_KEEPALIVE,
        Some(IdleState::ExitOnIdle) => bindings::io_wq_idle_change_IO_WQ_IDLE_EXIT_ON_IDLE,
    }
}

/// Decides the state of a task's io-wq after the task added an io_uring instance (a tctx node);
/// see [`io_wq_idle_state::tctx_update`].
///
/// Called by the task itself from `tctx.c`, once the node is installed, with `has_wq` telling
/// whether the task has an io-wq. C then sets the state it is told, if any. C does not call it
/// when the io-wq is out of the exit-on-idle state: then there is nothing to leave.
///
/// # Safety
///
/// None: any arguments are valid. The function is `unsafe` only because
/// `#[export]` compares it with the C prototype's binding, which is `unsafe`.
#[export]
pub unsafe extern "C" fn io_tctx_idle_node_added(has_wq: bool) -> bindings::io_wq_idle_change {
    // Whether a node is left only matters for a removal.
    idle_change(tctx_update(TctxEvent::NodeAdded, false, has_wq))
}

/// Decides the state of a task's io-wq after the task removed an io_uring instance (a tctx
/// node); see [`io_wq_idle_state::tctx_update`].
///
/// Called by the task itself from `tctx.c`, with `no_rings` telling whether it has no io_uring
/// instance left and `has_wq` whether it has an io-wq. C then sets the state it is told, if any.
///
/// # Safety
///
/// None: any arguments are valid. The function is `unsafe` only because
/// `#[export]` compares it with the C prototype's binding, which is `unsafe`.
#[export]
pub unsafe extern "C" fn io_tctx_idle_node_removed(
    no_rings: bool,
    has_wq: bool,
) -> bindings::io_wq_idle_change {
    idle_change(tctx_update(TctxEvent::NodeRemoved, no_rings, has_wq))
}

#[cfg(CONFIG_IO_WQ_IDLE_RUST_KUNIT_TEST)]
#[kunit_tests(io_wq_idle)]
mod tests {
    use super::{
        io_wq_idle_state::{
            wake_on_set,
            IdleState,
            EXIT,
            EXIT_ON_IDLE as EOI, //
        },
        update, //
    };
    use kernel::sync::atomic::{
        Atomic,
        Relaxed, //
    };

    use IdleState::{
        ExitOnIdle as Eoi,
        KeepAlive as Ka, //
    };

    #[test]
    fn state_words() {
        // Every transition, from every state, with and without the exit bit
        // and with unrelated bits set, which must survive.
        for other in [0, EXIT, !(EXIT | EOI), usize::MAX & !EOI] {
            let ka = other & !EOI;
            let eoi = other | EOI;

            assert_eq!(IdleState::from_word(ka), Ka);
            assert_eq!(IdleState::from_word(eoi), Eoi);
            assert_eq!(Ka.encode(eoi), ka);
            assert_eq!(Eoi.encode(ka), eoi);
            assert_eq!(Ka.encode(ka), ka);
            assert_eq!(Eoi.encode(eoi), eoi);
            assert!(!wake_on_set(ka, Ka));
            assert!(!wake_on_set(eoi, Ka));
            assert!(!wake_on_set(eoi, Eoi));
            assert!(wake_on_set(ka, Eoi));
        }
    }

    #[test]
    fn wake_once_per_entry() {
        let state = Atomic::new(0usize);
        let mut wakes = 0;

        // Set twice, clear twice, set twice: two entries, two wake-ups.
        for (to, entered) in [
            (Eoi, true),
            (Eoi, false),
            (Ka, false),
            (Ka, false),
            (Eoi, true),
            (Eoi, false),
        ] {
            let woke = update(&state, to);
            assert_eq!(woke, entered);
            wakes += usize::from(woke);
            assert_eq!(IdleState::from_word(state.load(Relaxed)), to);
        }
        assert_eq!(wakes, 2);

        // The exit bit, and every other bit of the word, survive both
        // updates; the wake-ups are the same with them set.
        for others in [EXIT, !EOI] {
            state.store(others, Relaxed);
            assert!(update(&state, Eoi));
            assert_eq!(state.load(Relaxed), others | EOI);
            assert!(!update(&state, Eoi));
            assert!(!update(&state, Ka));
            assert_eq!(state.load(Relaxed), others);
        }
    }
}
