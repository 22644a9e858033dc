// SPDX-License-Identifier: GPL-2.0

//! io-wq's exit-on-idle state, in Rust (`CONFIG_IO_WQ_IDLE_RUST`).
//!
//! The last worker of an io-wq is kept after its idle timeout, for the next
//! request. When its task has no io_uring instance left, the io-wq enters the
//! exit-on-idle state: every idle worker is woken and exits. The next io_uring
//! use by the task leaves that state, and the keepalive is back.
//!
//! The decisions are plain functions in [`io_wq_idle_state`]. This file holds
//! what C calls: the atomic update of the `state` word of `struct io_wq`, the
//! worker's exit verdict, and the hooks run when a task adds or removes an
//! io_uring instance. C keeps what only C can do: it collects the inputs under
//! the locks it holds and wakes the workers.

use kernel::{
    bindings,
    ffi::{c_uint, c_ulong},
    prelude::*,
    sync::atomic::{Atomic, Full, Relaxed},
};

pub mod io_wq_idle_state;

use io_wq_idle_state::{IdleState, Step, TctxEvent, Verdict, WorkerIdle};

// The C enum and the Rust constants name the same bits.
const _: () = {
    assert!(bindings::io_wq_state_bit_IO_WQ_BIT_EXIT == io_wq_idle_state::IO_WQ_BIT_EXIT);
    assert!(
        bindings::io_wq_state_bit_IO_WQ_BIT_EXIT_ON_IDLE
            == io_wq_idle_state::IO_WQ_BIT_EXIT_ON_IDLE
    );
};

/// Brings `state` into `to`. Returns whether every worker has to be woken.
///
/// A compare-and-exchange loop, so that concurrent updates of this state and
/// the teardown's `IO_WQ_BIT_EXIT` (set with `set_bit()` on the same word) are
/// never lost. Fully ordered when it changes the state, like the
/// `test_and_set_bit()` it replaces; a request for the current state stores
/// nothing.
fn update(state: &Atomic<usize>, to: IdleState) -> bool {
    let mut word = state.load(Relaxed);

    loop {
        match io_wq_idle_state::step(word, to) {
            Step::Done => return false,
            Step::Store { new, wake } => match state.cmpxchg(word, new, Full) {
                Ok(_) => return wake,
                Err(current) => word = current,
            },
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
/// only ever accessed atomically.
#[export]
pub unsafe extern "C" fn io_wq_idle_set_state(wq_state: *mut c_ulong, exit_on_idle: bool) -> bool {
    // SAFETY: `wq_state` is valid, aligned, and only accessed atomically, by the
    // safety requirements; `c_ulong` is `usize`.
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
#[export]
pub extern "C" fn io_wq_idle_verdict(
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

/// Returns whether the task of `tctx` has no io_uring instance left.
///
/// Not `xa_empty()`: a failed `xa_store()` can leave internal nodes with no
/// entry in the xarray, which then never reads as empty again.
///
/// # Safety
///
/// `tctx` is the `io_uring` task context of the current task.
unsafe fn no_rings(tctx: *mut bindings::io_uring_task) -> bool {
    let mut index: c_ulong = 0;

    // SAFETY: `tctx` is valid by the safety requirements, so is its xarray.
    // `xa_find()` takes the RCU read lock itself, and `index` is a valid
    // place for it to store the index it found.
    let entry = unsafe {
        bindings::xa_find(
            &raw mut (*tctx).xa,
            &mut index,
            c_ulong::MAX,
            bindings::XA_PRESENT,
        )
    };
    entry.is_null()
}

/// Applies `event` to the io-wq of `tctx`.
///
/// # Safety
///
/// `tctx` is the `io_uring` task context of the current task.
unsafe fn tctx_event(tctx: *mut bindings::io_uring_task, event: TctxEvent) {
    // SAFETY: `tctx` is valid by the safety requirements. Only its task changes
    // `->io_wq` and `->xa`, and that is the current one.
    let wq = unsafe { (*tctx).io_wq };
    // Only a removal depends on what is left.
    // SAFETY: By the safety requirements.
    let no_rings = event == TctxEvent::NodeRemoved && unsafe { no_rings(tctx) };

    if let Some(to) = io_wq_idle_state::tctx_update(event, no_rings, !wq.is_null()) {
        // SAFETY: `wq` is the task's live io-wq, it is not NULL here.
        unsafe { bindings::io_wq_set_exit_on_idle(wq, to == IdleState::ExitOnIdle) };
    }
}

/// Leaves the exit-on-idle state, on any new io_uring use by the task.
///
/// # Safety
///
/// `tctx` is the `io_uring` task context of the current task.
#[export]
pub unsafe extern "C" fn io_tctx_idle_node_added(tctx: *mut bindings::io_uring_task) {
    // SAFETY: By the safety requirements.
    unsafe { tctx_event(tctx, TctxEvent::NodeAdded) };
}

/// Enters the exit-on-idle state once the task has no io_uring instance left.
///
/// # Safety
///
/// `tctx` is the `io_uring` task context of the current task.
#[export]
pub unsafe extern "C" fn io_tctx_idle_node_removed(tctx: *mut bindings::io_uring_task) {
    // SAFETY: By the safety requirements.
    unsafe { tctx_event(tctx, TctxEvent::NodeRemoved) };
}

#[cfg(CONFIG_IO_WQ_IDLE_RUST_KUNIT_TEST)]
#[kunit_tests(io_wq_idle)]
mod tests {
    use super::io_wq_idle_state::{
        step, tctx_update, verdict, IdleState, Step, TctxEvent, Verdict, WorkerIdle,
        IO_WQ_BIT_EXIT, IO_WQ_BIT_EXIT_ON_IDLE,
    };
    use super::update;
    use kernel::sync::atomic::{Atomic, Relaxed};

    use IdleState::{ExitOnIdle as Eoi, KeepAlive as Ka};
    use Verdict::{Exit, Stay};

    const EXIT: usize = 1 << IO_WQ_BIT_EXIT;
    const EOI: usize = 1 << IO_WQ_BIT_EXIT_ON_IDLE;

    /// Every combination of the verdict's inputs, with the expected verdict:
    /// (last_timeout, affinity_changed, nr_workers, state, create_pending).
    /// `nr_workers` takes 0, 1 (the last worker), 2 and `u32::MAX`.
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
        use kernel::bindings::{
            io_wq_idle_verdict_IO_WQ_IDLE_EXIT as EXIT_V,
            io_wq_idle_verdict_IO_WQ_IDLE_STAY as STAY_V,
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
            let got =
                super::io_wq_idle_verdict(last_timeout, false, nr_workers, word, create_pending);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn state_steps() {
        let store = |new, wake| Step::Store { new, wake };

        // Every transition, from every state, with and without the exit bit
        // and with unrelated bits set, which must survive.
        for other in [0, EXIT, !(EXIT | EOI), usize::MAX & !EOI] {
            let ka = other & !EOI;
            let eoi = other | EOI;
            let exiting = other & EXIT != 0;

            assert_eq!(IdleState::from_word(ka), Ka);
            assert_eq!(IdleState::from_word(eoi), Eoi);
            assert_eq!(step(ka, Ka), Step::Done);
            assert_eq!(step(eoi, Eoi), Step::Done);
            assert_eq!(step(eoi, Ka), store(ka, false));
            assert_eq!(step(ka, Eoi), store(eoi, !exiting));
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

        // While exiting, the teardown wakes the workers: the state still
        // changes, but no wake-up is asked for, and the exit bit survives.
        state.store(EXIT, Relaxed);
        assert!(!update(&state, Eoi));
        assert_eq!(state.load(Relaxed), EXIT | EOI);
        assert!(!update(&state, Ka));
        assert_eq!(state.load(Relaxed), EXIT);
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
