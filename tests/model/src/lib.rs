// SPDX-License-Identifier: GPL-2.0

//! An explicit-state model checker of io-wq's exit-on-idle protocol.
//!
//! The decisions are the kernel's own: `io_uring/io_wq_idle_state.rs` is
//! compiled into this crate from its place in the tree, not copied. Around
//! them, [`model`] rebuilds what io-wq.c, tctx.c and io_uring.c do with the
//! series applied, one atomic step per lock-held section, wake-up, timeout
//! and task_work callback. [`check`] explores every interleaving within the
//! [`model::Bounds`] by breadth-first search, and [`props`] says what must
//! hold in each state and step.

#[path = "../../../io_uring/io_wq_idle_state.rs"]
pub mod io_wq_idle_state;

pub mod check;
pub mod model;
pub mod pack;
pub mod props;

pub use check::{explore, Outcome};
pub use model::{Bounds, Config, Mutant};
pub use props::Prop;
