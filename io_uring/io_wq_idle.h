/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IO_URING_IO_WQ_IDLE_H
#define IO_URING_IO_WQ_IDLE_H

/*
 * Interface to the Rust implementation of io-wq's exit-on-idle state
 * (CONFIG_IO_WQ_IDLE_RUST), in io_wq_idle.rs.
 */

#include <linux/types.h>

struct io_uring_task;

/* bits in io_wq->state */
enum io_wq_state_bit {
	IO_WQ_BIT_EXIT		= 0,	/* wq exiting */
	IO_WQ_BIT_EXIT_ON_IDLE	= 1,	/* allow all workers to exit on idle */
};

/* what an idle worker does next */
enum io_wq_idle_verdict {
	IO_WQ_IDLE_STAY,	/* last look at the work list, then sleep */
	IO_WQ_IDLE_EXIT,	/* retire, unless io_worker_retire() says stay */
};

bool io_wq_idle_set_state(unsigned long *wq_state, bool exit_on_idle);
enum io_wq_idle_verdict io_wq_idle_verdict(bool last_timeout, bool exit_mask,
					   unsigned int nr_workers,
					   unsigned long wq_state,
					   bool create_pending);
void io_tctx_idle_node_added(struct io_uring_task *tctx);
void io_tctx_idle_node_removed(struct io_uring_task *tctx);

#endif
