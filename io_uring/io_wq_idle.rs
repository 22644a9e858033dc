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

/// Brings `state` into `to`, and returns whether every worker has to be woken.
///
/// Only the io-wq's task changes the state, but the teardown sets
/// `IO_WQ_BIT_EXIT` in the same word, so the bit is changed with an atomic
/// read-modify-write. Entering the state is fully ordered, as
/// `test_and_set_bit()` is: a worker that sees it must also see what the task
/// did before. Leaving it is relaxed, as `clear_bit()` is.
fn update(state: &Atomic<usize>, to: IdleState) -> bool {
    let old = match to {
        IdleState::ExitOnIdle => state.fetch_or(io_wq_idle_state::EXIT_ON_IDLE, Full),
        IdleState::KeepAlive => state.fetch_andnot(io_wq_idle_state::EXIT_ON_IDLE, Relaxed),
    };

    io_wq_idle_state::wake_on_set(old, to)
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
    // SAFETY: By the safety requirements `wq_state` is valid and only accessed
    // atomically; it is aligned, being a `c_ulong`, which is `usize`.
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
    exit_mask: bool,
    nr_workers: c_uint,
    wq_state: c_ulong,
    create_pending: bool,
) -> bindings::io_wq_idle_verdict {
    let idle = WorkerIdle {
        last_timeout,
        affinity_changed: exit_mask,
        nr_workers,
        state: IdleState::from_word(wq_state),
        create_pending,
    };

    match io_wq_idle_state::verdict(&idle) {
        Verdict::Stay => bindings::io_wq_idle_verdict_IO_WQ_IDLE_STAY,
        Verdict::Exit => bindings::io_wq_idle_verdict_IO_WQ_IDLE_EXIT,
    }
}

/// Decides the state of a task's io-wq after the task added or removed an
/// io_uring instance; see [`io_wq_idle_state::tctx_update`].
///
/// Called by the task itself from `tctx.c`, with `no_rings` telling whether it
/// has no io_uring instance left after a removal and `has_wq` whether it has an
/// io-wq. C then sets the state it is told, if any.
///
/// # Safety
///
/// None: any arguments are valid. The function is `unsafe` only because
/// `#[export]` compares it with the C prototype's binding, which is `unsafe`.
#[export]
pub unsafe extern "C" fn io_tctx_idle_update(
    event: bindings::io_tctx_idle_event,
    no_rings: bool,
    has_wq: bool,
) -> bindings::io_wq_idle_change {
    let event = if event == bindings::io_tctx_idle_event_IO_TCTX_NODE_ADDED {
        TctxEvent::NodeAdded
    } else {
        TctxEvent::NodeRemoved
    };

    match io_wq_idle_state::tctx_update(event, no_rings, has_wq) {
        None => bindings::io_wq_idle_change_IO_WQ_IDLE_UNCHANGED,
        Some(IdleState::KeepAlive) => bindings::io_wq_idle_change_IO_WQ_IDLE_KEEPALIVE,
        Some(IdleState::ExitOnIdle) => bindings::io_wq_idle_change_IO_WQ_IDLE_EXIT_ON_IDLE,
    }
}

#[cfg(CONFIG_IO_WQ_IDLE_RUST_KUNIT_TEST)]
#[kunit_tests(io_wq_idle)]
mod tests {
    use super::{
        io_wq_idle_state::{
            tctx_update,
            verdict,
            wake_on_set,
            IdleState,
            TctxEvent,
            Verdict,
            WorkerIdle,
            EXIT,
            EXIT_ON_IDLE as EOI, //
        },
        update, //
    };
    use kernel::{
        bindings,
        sync::atomic::{
            Atomic,
            Relaxed, //
        },
    };

    use IdleState::{
        ExitOnIdle as Eoi,
        KeepAlive as Ka, //
    };
    use Verdict::{
        Exit,
        Stay, //
    };

    /// The verdict for every combination of the booleans and the state, each
    /// with `nr_workers` at 0, 1 (the last worker), 2 and `u32::MAX`:
    /// (last_timeout, affinity_changed, nr_workers, state, create_pending).
    #[rustfmt::skip]
    const VERDICTS: [(bool, bool, u32, IdleState, bool, Verdict); 64] = [
        // A creation request is pending: always stay.
        (false, false, 0, Ka, true, Stay), (false, false, 1, Ka, true, Stay),
        (false, false, 2, Ka, true, Stay), (false, false, u32::MAX, Ka, true, Stay),
        (false, true, 0, Ka, true, Stay), (false, true, 1, Ka, true, Stay),
        (false, true, 2, Ka, true, Stay), (false, true, u32::MAX, Ka, true, Stay),
        (true, false, 0, Ka, true, Stay), (true, false, 1, Ka, true, Stay),
        (true, false, 2, Ka, true, Stay), (true, false, u32::MAX, Ka, true, Stay),
        (true, true, 0, Ka, true, Stay), (true, true, 1, Ka, true, Stay),
        (true, true, 2, Ka, true, Stay), (true, true, u32::MAX, Ka, true, Stay),
        (false, false, 0, Eoi, true, Stay), (false, false, 1, Eoi, true, Stay),
        (false, false, 2, Eoi, true, Stay), (false, false, u32::MAX, Eoi, true, Stay),
        (false, true, 0, Eoi, true, Stay), (false, true, 1, Eoi, true, Stay),
        (false, true, 2, Eoi, true, Stay), (false, true, u32::MAX, Eoi, true, Stay),
        (true, false, 0, Eoi, true, Stay), (true, false, 1, Eoi, true, Stay),
        (true, false, 2, Eoi, true, Stay), (true, false, u32::MAX, Eoi, true, Stay),
        (true, true, 0, Eoi, true, Stay), (true, true, 1, Eoi, true, Stay),
        (true, true, 2, Eoi, true, Stay), (true, true, u32::MAX, Eoi, true, Stay),
        // Keepalive: no timeout, stay; timed out, exit unless the last worker
        // on an allowed CPU.
        (false, false, 0, Ka, false, Stay), (false, false, 1, Ka, false, Stay),
        (false, false, 2, Ka, false, Stay), (false, false, u32::MAX, Ka, false, Stay),
        (false, true, 0, Ka, false, Stay), (false, true, 1, Ka, false, Stay),
        (false, true, 2, Ka, false, Stay), (false, true, u32::MAX, Ka, false, Stay),
        (true, false, 0, Ka, false, Stay), (true, false, 1, Ka, false, Stay),
        (true, false, 2, Ka, false, Exit), (true, false, u32::MAX, Ka, false, Exit),
        (true, true, 0, Ka, false, Exit), (true, true, 1, Ka, false, Exit),
        (true, true, 2, Ka, false, Exit), (true, true, u32::MAX, Ka, false, Exit),
        // Exit-on-idle: every idle worker exits, timed out or not.
        (false, false, 0, Eoi, false, Exit), (false, false, 1, Eoi, false, Exit),
        (false, false, 2, Eoi, false, Exit), (false, false, u32::MAX, Eoi, false, Exit),
        (false, true, 0, Eoi, false, Exit), (false, true, 1, Eoi, false, Exit),
        (false, true, 2, Eoi, false, Exit), (false, true, u32::MAX, Eoi, false, Exit),
        (true, false, 0, Eoi, false, Exit), (true, false, 1, Eoi, false, Exit),
        (true, false, 2, Eoi, false, Exit), (true, false, u32::MAX, Eoi, false, Exit),
        (true, true, 0, Eoi, false, Exit), (true, true, 1, Eoi, false, Exit),
        (true, true, 2, Eoi, false, Exit), (true, true, u32::MAX, Eoi, false, Exit),
    ];

    #[test]
    fn verdict_table() {
        // The table holds each combination exactly once.
        for (i, a) in VERDICTS.iter().enumerate() {
            for b in &VERDICTS[i + 1..] {
                assert!((a.0, a.1, a.2, a.3, a.4) != (b.0, b.1, b.2, b.3, b.4));
            }
        }
        for &(last_timeout, affinity_changed, nr_workers, state, create_pending, want) in &VERDICTS
        {
            let idle = WorkerIdle {
                last_timeout,
                affinity_changed,
                nr_workers,
                state,
                create_pending,
            };
            assert_eq!(verdict(&idle), want);
        }
    }

    #[test]
    fn verdict_ffi_decodes_state_word() {
        use bindings::{
            io_wq_idle_verdict_IO_WQ_IDLE_EXIT as EXIT_V,
            io_wq_idle_verdict_IO_WQ_IDLE_STAY as STAY_V, //
        };

        #[rustfmt::skip]
        let table = [
            // (last_timeout, nr_workers, state word, create_pending, verdict)
            (false, 1, 0, false, STAY_V),
            (false, 1, EOI, false, EXIT_V),
            (false, 1, EXIT, false, STAY_V),
            (false, 1, EOI | EXIT, false, EXIT_V),
            (false, 1, EOI, true, STAY_V),
            (true, 2, 0, false, EXIT_V),
            (true, 2, !EOI, false, EXIT_V),
            (true, 1, !EOI, false, STAY_V),
        ];
        for (last_timeout, nr_workers, word, create_pending, want) in table {
            // SAFETY: Any arguments are valid.
            let got = unsafe {
                super::io_wq_idle_verdict(last_timeout, false, nr_workers, word, create_pending)
            };
            assert_eq!(got, want);
        }
    }

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

    #[test]
    fn state_ffi() {
        let mut word: usize = EXIT;

        // SAFETY: `word` is a live `usize`, and only accessed through the
        // pointer while the calls run.
        unsafe {
            assert!(super::io_wq_idle_set_state(&raw mut word, true));
            assert_eq!(word, EXIT | EOI);
            assert!(!super::io_wq_idle_set_state(&raw mut word, true));
            assert!(!super::io_wq_idle_set_state(&raw mut word, false));
        }
        assert_eq!(word, EXIT);
    }

    #[test]
    fn tctx_ffi() {
        use bindings::{
            io_tctx_idle_event_IO_TCTX_NODE_ADDED as ADDED,
            io_tctx_idle_event_IO_TCTX_NODE_REMOVED as REMOVED,
            io_wq_idle_change_IO_WQ_IDLE_EXIT_ON_IDLE as EOI_C,
            io_wq_idle_change_IO_WQ_IDLE_KEEPALIVE as KA_C,
            io_wq_idle_change_IO_WQ_IDLE_UNCHANGED as NONE_C, //
        };

        #[rustfmt::skip]
        let table = [
            // (event, no_rings, has_wq, change)
            (ADDED, false, false, NONE_C), (ADDED, true, false, NONE_C),
            (ADDED, false, true, KA_C), (ADDED, true, true, KA_C),
            (REMOVED, false, false, NONE_C), (REMOVED, true, false, NONE_C),
            (REMOVED, false, true, NONE_C), (REMOVED, true, true, EOI_C),
        ];
        for (event, no_rings, has_wq, want) in table {
            // SAFETY: Any arguments are valid.
            let got = unsafe { super::io_tctx_idle_update(event, no_rings, has_wq) };
            assert_eq!(got, want);
        }
    }

    #[test]
    fn tctx_events() {
        use TctxEvent::{NodeAdded, NodeRemoved};

        #[rustfmt::skip]
        let table = [
            // (event, no_rings, has_wq, wanted state)
            (NodeAdded, false, false, None), (NodeAdded, true, false, None),
            (NodeAdded, false, true, Some(Ka)), (NodeAdded, true, true, Some(Ka)),
            (NodeRemoved, false, false, None), (NodeRemoved, true, false, None),
            (NodeRemoved, false, true, None), (NodeRemoved, true, true, Some(Eoi)),
        ];
        for (event, no_rings, has_wq, want) in table {
            assert_eq!(tctx_update(event, no_rings, has_wq), want);
        }
    }
}
