// SPDX-License-Identifier: GPL-2.0

//! What must hold: in every state, in every step, and in every quiescent
//! state, one in which nothing happens any more without an idle timeout or
//! a new operation of the task.
//!
//! Timeouts are steps like any other, so the search goes through them; but a
//! property about waiting is about the quiescent states: a worker that only
//! its idle timeout gets going again is a 5 s stall. That is by design for
//! surplus workers while the task holds a ring (they exit after their
//! timeout), and for the kept worker (it times out and stays). It is a bug
//! for queued work, for a task with no ring, and for a teardown.

use crate::io_wq_idle_state::IdleState;
use crate::model::{State, TaskPc};
use std::fmt;

/// A property of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prop {
    /// No worker gives up its slot while its creation request is pending.
    CreatePendingExit,
    /// No queued work is left without a worker that will run it and without
    /// a pending creation: only an idle timeout would run it.
    Stranded,
    /// `nr_workers`, `nr_running` and the free list match the workers.
    Accounting,
    /// While the task holds a ring, the io-wq is in keepalive and its last
    /// worker does not exit.
    Keepalive,
    /// With no ring and no work, no worker waits for its idle timeout: all
    /// of them exit on wake-ups alone.
    ExitOnIdle,
    /// The teardown does not wait for an idle timeout.
    TeardownTimeout,
    /// No cycle of steps without timeouts and new operations: whatever
    /// happens on its own comes to an end.
    Livelock,
    /// The model ran out of room (a bound of the model, not a bug).
    ModelBound,
}

impl Prop {
    /// Every property, in report order.
    pub const ALL: [Prop; 8] = [
        Prop::CreatePendingExit,
        Prop::Stranded,
        Prop::Accounting,
        Prop::Keepalive,
        Prop::ExitOnIdle,
        Prop::TeardownTimeout,
        Prop::Livelock,
        Prop::ModelBound,
    ];
}

impl fmt::Display for Prop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Prop::CreatePendingExit => "create-pending-exit",
            Prop::Stranded => "stranded-work",
            Prop::Accounting => "accounting",
            Prop::Keepalive => "keepalive",
            Prop::ExitOnIdle => "exit-on-idle",
            Prop::TeardownTimeout => "teardown-timeout",
            Prop::Livelock => "livelock",
            Prop::ModelBound => "model-bound",
        })
    }
}

/// Checks what must hold in every state.
pub fn check_state(s: &State, max_workers: u8) -> Option<(Prop, String)> {
    accounting(s, max_workers)
        .map(|d| (Prop::Accounting, d))
        .or_else(|| keepalive(s).map(|d| (Prop::Keepalive, d)))
}

fn accounting(s: &State, max_workers: u8) -> Option<String> {
    let t = &s.task;
    let reserved = t.reserved as i8;
    let slots = s.alive().filter(|(_, w)| w.slot).count() as i8;
    let want_workers = slots + t.leaked as i8 + reserved;
    if s.nr_workers != want_workers {
        return Some(format!(
            "nr_workers={} but {slots} worker(s) hold a slot, {} kept by exited ones, \
             {reserved} reserved",
            s.nr_workers, t.leaked
        ));
    }
    if s.nr_workers > max_workers as i8 {
        return Some(format!("nr_workers={} > max_workers", s.nr_workers));
    }
    if t.leaked > 0 && !s.exiting() {
        return Some("an exited worker kept its nr_workers slot".into());
    }
    // Running: workers with IO_WORKER_F_UP and _RUNNING, creation requests
    // not resolved yet, and a reserved worker not created yet.
    let running = s.alive().filter(|(_, w)| w.up && w.running).count() as i8;
    let requests = s.w.iter().filter(|w| w.create_state).count() as i8 - s.cwc_resolved() as i8;
    let want_running = running + requests + reserved;
    if s.nr_running != want_running {
        return Some(format!(
            "nr_running={} but {running} running worker(s), {requests} pending request(s), \
             {reserved} reserved",
            s.nr_running
        ));
    }
    let listed = &s.free_list[..s.nfree as usize];
    for (i, w) in s.w.iter().enumerate() {
        if w.free != listed.contains(&(i as u8)) || (w.free && !w.alive()) {
            return Some(format!(
                "free list {listed:?} and W{i}'s IO_WORKER_F_FREE differ"
            ));
        }
    }
    None
}

fn keepalive(s: &State) -> Option<String> {
    let idle = s.task.pc == TaskPc::Idle;
    if idle && s.task.rings > 0 && !s.exiting() && s.idle_state() == IdleState::ExitOnIdle {
        return Some(format!(
            "the task holds {} ring(s), but the io-wq is in exit-on-idle",
            s.task.rings
        ));
    }
    None
}

/// Checks a quiescent state: nothing happens any more without an idle
/// timeout or a new operation of the task.
pub fn check_quiescent(s: &State) -> Option<(Prop, String)> {
    let asleep = || {
        s.alive()
            .map(|(i, w)| {
                let mut d = format!("W{i} {:?}", w.pc);
                if w.create_state {
                    d.push_str(" (create_state set)");
                }
                d
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if s.queued > 0 {
        return Some((
            Prop::Stranded,
            format!(
                "{} work item(s) queued, no worker awake, no creation pending; workers: [{}]",
                s.queued,
                asleep()
            ),
        ));
    }
    // With no worker left, there is nothing to wait for.
    s.alive().next()?;
    match s.task.pc {
        TaskPc::Idle if s.task.rings == 0 => Some((
            Prop::ExitOnIdle,
            format!(
                "no ring, no work, state {:?}, yet a worker waits for its idle timeout: [{}]",
                s.idle_state(),
                asleep()
            ),
        )),
        TaskPc::Idle => None,
        _ => Some((
            Prop::TeardownTimeout,
            format!(
                "the task ({:?}) waits for workers that wait for their idle timeout: [{}]",
                s.task.pc,
                asleep()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{successors, Bounds, Config, Pc};

    /// The accounting check sees a worker that `nr_running` forgot, and a
    /// free list that lost a free worker.
    #[test]
    fn accounting_catches_corruption() {
        let cfg = Config::tree(Bounds::DEFAULT);
        let mut s = State::initial(&cfg.bounds);
        let mut succ = Vec::new();
        // Enqueue and create the first worker: W0 appears.
        while !s.w[0].alive() {
            successors(&s, &cfg, &mut succ);
            s = succ.remove(0).state;
        }
        assert_eq!(s.w[0].pc, Pc::LoopTest);
        assert_eq!(check_state(&s, 3), None);

        let mut lost = s.clone();
        lost.nr_running -= 1;
        assert_eq!(check_state(&lost, 3).map(|v| v.0), Some(Prop::Accounting));

        let mut unlisted = s.clone();
        unlisted.nfree = 0;
        assert_eq!(
            check_state(&unlisted, 3).map(|v| v.0),
            Some(Prop::Accounting)
        );
    }
}
