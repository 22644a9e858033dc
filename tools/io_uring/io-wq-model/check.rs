// SPDX-License-Identifier: GPL-2.0

//! Breadth-first search over every interleaving, with state hashing.
//!
//! Breadth-first, so the first violation of a property found is one with the
//! shortest trace. Each state is stored once, packed, in the order found;
//! the hash table holds indices into that list, and each state its parent.
//! A trace is rebuilt by replaying the steps from the initial state.

use crate::model::{successors, Act, Config, Kind, State, Succ};
use crate::pack::{key, unpack, Key};
use crate::props::{check_quiescent, check_state, Prop};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn hash(k: &Key) -> usize {
    let h =
        (k[0] ^ k[1].rotate_left(21) ^ k[2].rotate_left(42)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h ^ h >> 32) as usize
}

/// Open addressing over indices into the key list; 0 is an empty slot.
struct Table {
    slots: Vec<u32>,
    len: usize,
}

impl Table {
    fn new() -> Table {
        Table {
            slots: vec![0; 1 << 16],
            len: 0,
        }
    }

    /// Returns the key's index, and whether it is new.
    fn insert(&mut self, keys: &mut Vec<Key>, k: Key) -> (u32, bool) {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow(keys);
        }
        let mask = self.slots.len() - 1;
        let mut h = hash(&k) & mask;
        loop {
            match self.slots[h] {
                0 => break,
                v if keys[v as usize - 1] == k => return (v - 1, false),
                _ => h = (h + 1) & mask,
            }
        }
        keys.push(k);
        self.slots[h] = keys.len() as u32;
        self.len += 1;
        (keys.len() as u32 - 1, true)
    }

    fn grow(&mut self, keys: &[Key]) {
        let size = self.slots.len() * 2;
        self.slots = vec![0; size];
        for (i, k) in keys.iter().enumerate() {
            let mut h = hash(k) & (size - 1);
            while self.slots[h] != 0 {
                h = (h + 1) & (size - 1);
            }
            self.slots[h] = i as u32 + 1;
        }
    }
}

/// How to search.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Stop once this property is violated.
    pub stop_at: Option<Prop>,
    /// Look for cycles of internal steps (keeps the internal edges).
    pub livelock: bool,
    /// Give up beyond this many states.
    pub max_states: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            stop_at: None,
            livelock: true,
            max_states: 200_000_000,
        }
    }
}

/// A violation with its shortest trace.
pub struct Found {
    /// The property violated.
    pub prop: Prop,
    /// What is wrong, in the last state.
    pub detail: String,
    /// The initial state.
    pub initial: State,
    /// The steps from the initial state, each with the state it leads to.
    pub trace: Vec<(Act, State)>,
    /// For a livelock, where the cycle starts in the trace.
    pub cycle_from: Option<usize>,
}

impl Found {
    /// The trace, one numbered step a line, each with the state after it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "violation of {}: {}", self.prop, self.detail);
        let _ = writeln!(out, "  0. initial {}", self.initial);
        for (k, (act, state)) in self.trace.iter().enumerate() {
            if self.cycle_from == Some(k) {
                let _ = writeln!(out, "  -- the cycle starts here --");
            }
            let _ = writeln!(out, "{:>3}. {act}", k + 1);
            let _ = writeln!(out, "       {state}");
        }
        let _ = writeln!(out, "  ({} steps)", self.trace.len());
        out
    }
}

/// What a search found.
pub struct Outcome {
    /// Distinct states reached.
    pub states: usize,
    /// Steps taken (successors generated).
    pub transitions: u64,
    /// The longest shortest path, in steps.
    pub depth: usize,
    /// Quiescent states: only a timeout or a new operation moves on.
    pub quiescent: usize,
    /// Quiescent states in which the one worker left sleeps while the task
    /// holds a ring: the keepalive, by design.
    pub kept_waits: usize,
    /// Quiescent states in which surplus workers sleep while the task holds
    /// a ring: they exit after their idle timeout, by design.
    pub surplus_waits: usize,
    /// The search went through every reachable state.
    pub complete: bool,
    /// How long it took.
    pub elapsed: Duration,
    /// The first (shortest) violation of each property violated.
    pub found: Vec<Found>,
}

impl Outcome {
    /// The violation of `p`, if found.
    pub fn get(&self, p: Prop) -> Option<&Found> {
        self.found.iter().find(|f| f.prop == p)
    }

    /// The properties violated.
    pub fn violated(&self) -> Vec<Prop> {
        self.found.iter().map(|f| f.prop).collect()
    }

    /// One line of numbers.
    pub fn summary(&self) -> String {
        format!(
            "{} states, {} transitions, depth {}, {} quiescent ({} with the kept worker, \
             {} with surplus workers waiting for their timeout), {:.2} s{}",
            self.states,
            self.transitions,
            self.depth,
            self.quiescent,
            self.kept_waits,
            self.surplus_waits,
            self.elapsed.as_secs_f64(),
            if self.complete {
                ""
            } else {
                " (stopped early)"
            }
        )
    }
}

/// Where a violation was seen, until its trace is built.
struct Seen {
    detail: String,
    /// The state, or the source of the step, that violates.
    at: u32,
    /// For a step: the key it leads to.
    step: Option<Key>,
}

/// Replays the steps from `s` through the states `path`, then through the
/// step `last` violates, if any. The replay keeps each worker's number.
fn follow(
    cfg: &Config,
    mut s: State,
    path: &[Key],
    last: Option<(Key, Prop)>,
) -> (State, Vec<(Act, State)>) {
    let mut succ = Vec::new();
    let mut trace = Vec::new();
    let wanted = path
        .iter()
        .map(|k| (*k, None))
        .chain(last.map(|(k, p)| (k, Some(p))));
    for (k, prop) in wanted {
        successors(&s, cfg, &mut succ);
        let x = succ
            .drain(..)
            .find(|x| key(&x.state) == k && (prop.is_none() || x.bad.as_ref().map(|b| b.0) == prop))
            .expect("a stored step replays");
        trace.push((x.act, x.state.clone()));
        s = x.state;
    }
    (s, trace)
}

/// Explores every interleaving of `cfg` within its bounds.
pub fn explore(cfg: &Config, opts: Options) -> Outcome {
    let start = Instant::now();
    let mut keys: Vec<Key> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    let mut table = Table::new();
    let mut seen: BTreeMap<Prop, Seen> = BTreeMap::new();
    // Internal edges, by source, for the livelock check.
    let mut edge_at: Vec<u32> = Vec::new();
    let mut edges: Vec<u32> = Vec::new();
    let max = cfg.bounds.max_workers;
    let note = |seen: &mut BTreeMap<Prop, Seen>, (p, detail): (Prop, String), at, step| {
        seen.entry(p).or_insert(Seen { detail, at, step });
    };

    let init = State::initial(&cfg.bounds);
    table.insert(&mut keys, key(&init));
    parent.push(0);
    if let Some(v) = check_state(&init, max) {
        note(&mut seen, v, 0, None);
    }

    let mut succ: Vec<Succ> = Vec::new();
    let (mut transitions, mut quiescent) = (0u64, 0);
    let (mut kept_waits, mut surplus_waits) = (0, 0);
    let (mut depth, mut level_end) = (0, 1);
    let mut i = 0;
    let stopped = |seen: &BTreeMap<Prop, Seen>| opts.stop_at.is_some_and(|p| seen.contains_key(&p));
    while i < keys.len() && !stopped(&seen) && keys.len() <= opts.max_states {
        if i == level_end {
            depth += 1;
            level_end = keys.len();
        }
        let s = unpack(&keys[i]);
        successors(&s, cfg, &mut succ);
        edge_at.push(edges.len() as u32);
        let mut internal = false;
        for x in succ.drain(..) {
            transitions += 1;
            let k = key(&x.state);
            if let Some(v) = x.bad {
                note(&mut seen, v, i as u32, Some(k));
            }
            let is_internal = x.kind == Kind::Internal;
            internal |= is_internal;
            let (j, new) = table.insert(&mut keys, k);
            if new {
                parent.push(i as u32);
                if let Some(v) = check_state(&x.state, max) {
                    note(&mut seen, v, j, None);
                }
            }
            if is_internal && opts.livelock {
                edges.push(j);
            }
        }
        if !internal {
            quiescent += 1;
            match check_quiescent(&s) {
                Some(v) => note(&mut seen, v, i as u32, None),
                None => match s.alive().count() {
                    0 => {}
                    1 => kept_waits += 1,
                    _ => surplus_waits += 1,
                },
            }
        }
        i += 1;
    }
    let complete = i == keys.len();
    edge_at.push(edges.len() as u32);

    let path = |mut k: u32| {
        let mut p = Vec::new();
        while k != 0 {
            p.push(keys[k as usize]);
            k = parent[k as usize];
        }
        p.reverse();
        p
    };
    let mut found: Vec<Found> = seen
        .into_iter()
        .map(|(prop, v)| {
            let last = v.step.map(|k| (k, prop));
            let (_, trace) = follow(cfg, init.clone(), &path(v.at), last);
            Found {
                prop,
                detail: v.detail,
                initial: init.clone(),
                trace,
                cycle_from: None,
            }
        })
        .collect();
    if complete && opts.livelock {
        if let Some(cycle) = find_cycle(&edge_at, &edges) {
            let (s, mut trace) = follow(cfg, init.clone(), &path(cycle[0]), None);
            let cycle_from = trace.len();
            let around: Vec<Key> = cycle[1..].iter().map(|&j| keys[j as usize]).collect();
            trace.extend(follow(cfg, s, &around, None).1);
            found.push(Found {
                prop: Prop::Livelock,
                detail: "a cycle of steps with no timeout and no new operation".into(),
                initial: init.clone(),
                trace,
                cycle_from: Some(cycle_from),
            });
        }
    }

    Outcome {
        states: keys.len(),
        transitions,
        depth,
        quiescent,
        kept_waits,
        surplus_waits,
        complete,
        elapsed: start.elapsed(),
        found,
    }
}

/// A cycle in the graph of internal steps, as state indices with the first
/// repeated at the end; iterative depth-first search with three colours.
fn find_cycle(edge_at: &[u32], edges: &[u32]) -> Option<Vec<u32>> {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let n = edge_at.len() - 1;
    let mut colour = vec![WHITE; n];
    // (node, next edge to follow)
    let mut stack: Vec<(u32, u32)> = Vec::new();
    for root in 0..n as u32 {
        if colour[root as usize] != WHITE {
            continue;
        }
        colour[root as usize] = GREY;
        stack.push((root, edge_at[root as usize]));
        while let Some(top) = stack.last_mut() {
            let (v, e) = *top;
            if e == edge_at[v as usize + 1] {
                colour[v as usize] = BLACK;
                stack.pop();
                continue;
            }
            top.1 += 1;
            let w = edges[e as usize];
            match colour[w as usize] {
                WHITE => {
                    colour[w as usize] = GREY;
                    stack.push((w, edge_at[w as usize]));
                }
                GREY => {
                    let from = stack
                        .iter()
                        .position(|&(x, _)| x == w)
                        .expect("grey on stack");
                    let mut cycle: Vec<u32> = stack[from..].iter().map(|&(x, _)| x).collect();
                    cycle.push(w);
                    return Some(cycle);
                }
                _ => {}
            }
        }
    }
    None
}
