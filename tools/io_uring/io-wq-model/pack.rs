// SPDX-License-Identifier: GPL-2.0

//! States as the search stores them: bit-packed, with the worker slots in a
//! canonical order.
//!
//! Worker threads are interchangeable: which slot a thread has tells nothing
//! the kernel knows. Sorting the slots by what is in them (and by where the
//! free list and the task_work lists name them) maps every state to one
//! representative, which makes the search several times smaller. The
//! properties do not depend on a worker's number, and traces are rebuilt by
//! replaying the steps, so that each worker keeps its number along a trace.

use crate::model::{CwcStage, Pc, State, Task, TaskPc, Tw, Worker, MAX_THREADS, MAX_TW};

/// A packed state: 3 x 64 bits.
pub type Key = [u64; 3];

const PCS: [Pc; 16] = [
    Pc::Free,
    Pc::LoopTest,
    Pc::Arm,
    Pc::Busy,
    Pc::Exec,
    Pc::Blocked,
    Pc::Resume,
    Pc::Decide,
    Pc::Retire,
    Pc::Retire2,
    Pc::LastLook,
    Pc::Sleep,
    Pc::Asleep,
    Pc::AfterLoop,
    Pc::Exit,
    Pc::ExitWait,
];

const TASK_PCS: [TaskPc; 12] = [
    TaskPc::Idle,
    TaskPc::EnqActivate,
    TaskPc::EnqCreate,
    TaskPc::EnqSpawn,
    TaskPc::AddHook,
    TaskPc::AddInstall,
    TaskPc::TwRun,
    TaskPc::Cancelling,
    TaskPc::DelNodes,
    TaskPc::ExitWorkers,
    TaskPc::WaitWorkers,
    TaskPc::Done,
];

const STAGES: [CwcStage; 3] = [CwcStage::Activate, CwcStage::Reserve, CwcStage::Clear];

fn index<T: PartialEq>(all: &[T], x: &T) -> u64 {
    all.iter().position(|y| y == x).expect("listed") as u64
}

struct Bits {
    w: Key,
    pos: u32,
}

impl Bits {
    fn put(&mut self, v: u64, n: u32) {
        assert!(v < 1 << n, "{v} does not fit in {n} bits: raise the bound");
        let (i, off) = ((self.pos / 64) as usize, self.pos % 64);
        self.w[i] |= v << off;
        if off + n > 64 {
            self.w[i + 1] |= v >> (64 - off);
        }
        self.pos += n;
    }

    fn get(&mut self, n: u32) -> u64 {
        let (i, off) = ((self.pos / 64) as usize, self.pos % 64);
        let mut v = self.w[i] >> off;
        if off + n > 64 {
            v |= self.w[i + 1] << (64 - off);
        }
        self.pos += n;
        v & ((1 << n) - 1)
    }

    fn flag(&mut self, b: bool) {
        self.put(b as u64, 1);
    }

    fn take_flag(&mut self) -> bool {
        self.get(1) != 0
    }
}

fn tw_code(t: Tw) -> u64 {
    match t {
        Tw::None => 0,
        Tw::TctxExit => 1,
        Tw::Cwc(j) => 2 + j as u64,
    }
}

fn tw_decode(v: u64) -> Tw {
    match v {
        0 => Tw::None,
        1 => Tw::TctxExit,
        j => Tw::Cwc(j as u8 - 2),
    }
}

fn worker_code(w: &Worker) -> u64 {
    let flags = [
        w.interruptible,
        w.up,
        w.running,
        w.free,
        w.create_state,
        w.last_timeout,
        w.via_last_look,
        w.slot,
    ];
    flags
        .iter()
        .fold(index(&PCS, &w.pc), |acc, &f| acc << 1 | f as u64)
}

/// Packs `s` (no reordering).
pub fn pack(s: &State) -> Key {
    let mut b = Bits { w: [0; 3], pos: 0 };
    for w in &s.w {
        b.put(worker_code(w), 12);
    }
    b.put(s.wq_state as u64, 2);
    b.put(s.queued as u64, 3);
    b.put((s.nr_workers + 8) as u64, 4);
    b.put((s.nr_running + 16) as u64, 5);
    b.put(s.nfree as u64, 3);
    for &j in &s.free_list {
        b.put(j as u64, 2);
    }
    let t = &s.task;
    b.put(index(&TASK_PCS, &t.pc), 4);
    for &x in t.pending.iter().chain(&t.run) {
        b.put(tw_code(x), 3);
    }
    b.put(index(&STAGES, &t.cwc), 2);
    b.flag(t.after_tw == TaskPc::Cancelling);
    b.put(t.rings as u64, 2);
    b.put(t.closing as u64, 2);
    b.flag(t.xa_dirty);
    b.flag(t.in_cancel);
    b.flag(t.reserved);
    b.put(t.work_left as u64, 3);
    b.put(t.opens_left as u64, 2);
    b.put(t.fails_left as u64, 2);
    b.flag(t.teardown_left);
    b.put(t.leaked as u64, 3);
    debug_assert!(b.pos <= 192);
    b.w
}

/// Unpacks a key made by [`pack`].
pub fn unpack(k: &Key) -> State {
    let mut b = Bits { w: *k, pos: 0 };
    let mut w = [Worker::default(); MAX_THREADS];
    for wk in &mut w {
        let v = b.get(12);
        let f = |bit: u32| v >> (7 - bit) & 1 != 0;
        *wk = Worker {
            pc: PCS[(v >> 8) as usize],
            interruptible: f(0),
            up: f(1),
            running: f(2),
            free: f(3),
            create_state: f(4),
            last_timeout: f(5),
            via_last_look: f(6),
            slot: f(7),
        };
    }
    let wq_state = b.get(2) as u8;
    let queued = b.get(3) as u8;
    let nr_workers = b.get(4) as i8 - 8;
    let nr_running = b.get(5) as i8 - 16;
    let nfree = b.get(3) as u8;
    let mut free_list = [0; MAX_THREADS];
    for j in &mut free_list {
        *j = b.get(2) as u8;
    }
    let pc = TASK_PCS[b.get(4) as usize];
    let mut pending = [Tw::None; MAX_TW];
    let mut run = [Tw::None; MAX_TW];
    for x in pending.iter_mut().chain(run.iter_mut()) {
        *x = tw_decode(b.get(3));
    }
    let count = |l: &[Tw]| l.iter().filter(|&&x| x != Tw::None).count() as u8;
    let task = Task {
        pc,
        pending,
        npending: count(&pending),
        run,
        nrun: count(&run),
        cwc: STAGES[b.get(2) as usize],
        after_tw: if b.take_flag() {
            TaskPc::Cancelling
        } else {
            TaskPc::Idle
        },
        rings: b.get(2) as u8,
        closing: b.get(2) as u8,
        xa_dirty: b.take_flag(),
        in_cancel: b.take_flag(),
        reserved: b.take_flag(),
        work_left: b.get(3) as u8,
        opens_left: b.get(2) as u8,
        fails_left: b.get(2) as u8,
        teardown_left: b.take_flag(),
        leaked: b.get(3) as u8,
    };
    State {
        wq_state,
        queued,
        nr_workers,
        nr_running,
        free_list,
        nfree,
        w,
        task,
    }
}

/// `s` with its worker slots in canonical order: sorted by the worker and
/// by where the free list and the task_work lists name it. Workers equal in
/// all of that are interchangeable, so their order does not matter.
pub fn canonical(s: &State) -> State {
    let pos = |l: &[Tw], i: usize| {
        l.iter()
            .position(|&x| x == Tw::Cwc(i as u8))
            .map_or(u8::MAX, |p| p as u8)
    };
    let sort_key = |i: usize| {
        let w = &s.w[i];
        let free = s.free_list[..s.nfree as usize]
            .iter()
            .position(|&j| j as usize == i)
            .map_or(u8::MAX, |p| p as u8);
        (
            !w.alive(),
            worker_code(w),
            free,
            pos(&s.task.pending, i),
            pos(&s.task.run, i),
        )
    };
    let mut order: [usize; MAX_THREADS] = std::array::from_fn(|i| i);
    order.sort_by_key(|&i| sort_key(i));
    if order.iter().enumerate().all(|(k, &i)| k == i) {
        return s.clone();
    }
    // order[new] = old; renumber old -> new.
    let mut new_of = [0u8; MAX_THREADS];
    for (new, &old) in order.iter().enumerate() {
        new_of[old] = new as u8;
    }
    let mut n = s.clone();
    for (new, &old) in order.iter().enumerate() {
        n.w[new] = s.w[old];
    }
    for j in &mut n.free_list[..s.nfree as usize] {
        *j = new_of[*j as usize];
    }
    for x in n.task.pending.iter_mut().chain(n.task.run.iter_mut()) {
        if let Tw::Cwc(j) = x {
            *j = new_of[*j as usize];
        }
    }
    n
}

/// The key of `s`'s canonical form.
pub fn key(s: &State) -> Key {
    pack(&canonical(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{successors, Bounds, Config};

    /// Packing round-trips on every state of a small search.
    #[test]
    fn round_trip() {
        let cfg = Config::tree(Bounds {
            work: 2,
            ..Bounds::DEFAULT
        });
        let mut todo = vec![State::initial(&cfg.bounds)];
        let mut seen = std::collections::HashSet::new();
        let mut succ = Vec::new();
        while let Some(s) = todo.pop() {
            assert_eq!(unpack(&pack(&s)), s);
            let c = canonical(&s);
            assert_eq!(key(&c), pack(&c));
            if !seen.insert(pack(&c)) {
                continue;
            }
            successors(&s, &cfg, &mut succ);
            todo.extend(succ.drain(..).map(|x| x.state));
        }
        assert!(seen.len() > 1000);
    }
}
