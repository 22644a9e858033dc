// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests that compare the Rust exit-on-idle decisions (io_wq_idle.rs),
 * called through their C prototypes in io_wq_idle.h as io-wq.c and tctx.c
 * call them, with the C code they replace, for every input combination.
 */

#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/limits.h>

#include "io_wq_idle.h"

#define EXIT	BIT(IO_WQ_BIT_EXIT)
#define EOI	BIT(IO_WQ_BIT_EXIT_ON_IDLE)

/* state words: each state, with the other bits of the word clear and set */
static const unsigned long words[] = {
	0, EXIT, EOI, EXIT | EOI, ~EOI, ULONG_MAX,
};

/* The C path's io_worker_should_exit(), on plain values. */
static bool c_worker_should_exit(bool last_timeout, bool exit_mask,
				 unsigned int nr_workers, unsigned long state,
				 bool create_pending)
{
	return ((last_timeout && (exit_mask || nr_workers > 1)) ||
		test_bit(IO_WQ_BIT_EXIT_ON_IDLE, &state)) &&
	       !create_pending;
}

static void io_wq_idle_verdict_vs_c(struct kunit *test)
{
	static const unsigned int nr[] = { 0, 1, 2, UINT_MAX };
	unsigned int i, n, w;

	for (w = 0; w < ARRAY_SIZE(words); w++)
		for (n = 0; n < ARRAY_SIZE(nr); n++)
			for (i = 0; i < 8; i++) {
				bool last_timeout = i & 1, exit_mask = i & 2;
				bool create_pending = i & 4;
				bool want = c_worker_should_exit(last_timeout,
								 exit_mask,
								 nr[n], words[w],
								 create_pending);

				KUNIT_EXPECT_EQ_MSG(test,
						    io_wq_idle_verdict(last_timeout,
								       exit_mask,
								       nr[n], words[w],
								       create_pending),
						    want ? IO_WQ_WORKER_EXIT :
							   IO_WQ_WORKER_STAY,
						    "last_timeout %d affinity_changed %d nr_workers %u state %#lx create_pending %d",
						    last_timeout, exit_mask, nr[n],
						    words[w], create_pending);
			}
}

/*
 * The C path's io_wq_set_exit_on_idle(): leaving the state clears the bit,
 * entering sets it and wakes the workers if it was clear. Returns whether it
 * wakes them.
 */
static bool c_set_exit_on_idle(unsigned long *state, bool enable)
{
	if (!enable) {
		clear_bit(IO_WQ_BIT_EXIT_ON_IDLE, state);
		return false;
	}
	return !test_and_set_bit(IO_WQ_BIT_EXIT_ON_IDLE, state);
}

static void io_wq_idle_set_state_vs_c(struct kunit *test)
{
	unsigned int i, w;

	for (w = 0; w < ARRAY_SIZE(words); w++)
		for (i = 0; i < 2; i++) {
			unsigned long c_word = words[w], rust_word = words[w];
			bool c_wake = c_set_exit_on_idle(&c_word, i);

			KUNIT_EXPECT_EQ_MSG(test,
					    io_wq_idle_set_state(&rust_word, i),
					    c_wake, "state %#lx, exit_on_idle %u",
					    words[w], i);
			KUNIT_EXPECT_EQ_MSG(test, rust_word, c_word,
					    "state %#lx, exit_on_idle %u",
					    words[w], i);
		}
}

/* The C path's hooks in __io_uring_add_tctx_node() and io_uring_del_tctx_node(). */
static enum io_wq_idle_change c_tctx_node_added(bool has_wq)
{
	return has_wq ? IO_WQ_IDLE_KEEPALIVE : IO_WQ_IDLE_UNCHANGED;
}

static enum io_wq_idle_change c_tctx_node_removed(bool no_rings, bool has_wq)
{
	return no_rings && has_wq ? IO_WQ_IDLE_EXIT_ON_IDLE :
				    IO_WQ_IDLE_UNCHANGED;
}

static void io_wq_idle_tctx_vs_c(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < 4; i++) {
		bool no_rings = i & 1, has_wq = i & 2;

		KUNIT_EXPECT_EQ_MSG(test, io_tctx_idle_node_added(has_wq),
				    c_tctx_node_added(has_wq), "has_wq %d",
				    has_wq);
		KUNIT_EXPECT_EQ_MSG(test,
				    io_tctx_idle_node_removed(no_rings, has_wq),
				    c_tctx_node_removed(no_rings, has_wq),
				    "no_rings %d has_wq %d", no_rings, has_wq);
	}
}

static struct kunit_case io_wq_idle_c_test_cases[] = {
	KUNIT_CASE(io_wq_idle_verdict_vs_c),
	KUNIT_CASE(io_wq_idle_set_state_vs_c),
	KUNIT_CASE(io_wq_idle_tctx_vs_c),
	{}
};

static struct kunit_suite io_wq_idle_c_test_suite = {
	.name = "io_wq_idle_c",
	.test_cases = io_wq_idle_c_test_cases,
};

kunit_test_suite(io_wq_idle_c_test_suite);
