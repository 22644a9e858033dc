/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IO_URING_IO_WQ_IDLE_H
#define IO_URING_IO_WQ_IDLE_H

/*
 * io-wq's exit-on-idle state: the bits of io_wq->state, and the interface to
 * its Rust implementation (CONFIG_IO_WQ_IDLE_RUST, io_wq_idle.rs).
 */

#include <linux/types.h>

/* bits in io_wq->state */
enum io_wq_state_bit {
	IO_WQ_BIT_EXIT		= 0,	/* wq exiting */
	IO_WQ_BIT_EXIT_ON_IDLE	= 1,	/* allow all workers to exit on idle */
};

/* what an idle worker does next: io_wq_idle_verdict()'s answer */
enum io_wq_worker_verdict {
	IO_WQ_WORKER_STAY,	/* last look at the work list, then sleep */
	IO_WQ_WORKER_EXIT,	/* retire, unless io_worker_retire() says stay */
};

/* the state a task's io-wq has to be put in */
enum io_wq_idle_change {
	IO_WQ_IDLE_UNCHANGED,
	IO_WQ_IDLE_KEEPALIVE,
	IO_WQ_IDLE_EXIT_ON_IDLE,
};

bool io_wq_idle_set_state(unsigned long *wq_state, bool exit_on_idle);
enum io_wq_worker_verdict io_wq_idle_verdict(bool last_timeout,
					     bool affinity_changed,
					     unsigned int nr_workers,
					     unsigned long wq_state,
					     bool create_pending);
enum io_wq_idle_change io_tctx_idle_node_added(bool has_wq);
enum io_wq_idle_change io_tctx_idle_node_removed(bool no_rings, bool has_wq);

#endif
