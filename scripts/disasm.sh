#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The machine code of the exit-on-idle state update, both implementations,
# from the bench kernels (same tree, CONFIG_IO_WQ_IDLE_RUST=y in config
# bench_rust, =n in bench_c, nothing else different): io-wq.c's
# io_wq_set_exit_on_idle() from each, and from bench_rust the Rust state
# update it calls, the C helpers that do the update's atomics (out of line:
# CONFIG_RUST_INLINE_HELPERS needs rustc and clang on one LLVM, and is off),
# the test of the bit before a ring is added and the tctx decision after it
# (asked only with the bit set).  Builds the two
# kernels if need be (make bench and liburing's rows use them), then writes
# bases/<base>/results/disasm.txt with the series' commit.
#
#   scripts/disasm.sh
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

case ${1:-} in -h | --help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ $# = 0 ] || die "usage: scripts/disasm.sh (no arguments; --help says more)"
[ -n "${KCONFIG_bench_c:-}" ] && [ -n "${KCONFIG_bench_rust:-}" ] ||
	die "bases/$BASE/base.conf defines no bench_c and bench_rust configs"
need_tree

# dis <build dir> <function>: its instructions, without addresses' noise.
dis() {
	llvm-objdump-19 -d --no-show-raw-insn --no-addresses --disassemble-symbols="$2" "$1/vmlinux" |
		sed -n '/^<'"$2"'>:$/,/^$/p' | sed '/^$/d; s/0x[0-9a-f]\{16\} </</'
}

out=$BASE_DIR/results/disasm.txt
mkdir -p "$BASE_DIR/results"
c=$("$S/build.sh" bench_c bzImage)
rust=$("$S/build.sh" bench_rust bzImage)
{
	echo "# the exit-on-idle state update's machine code (scripts/disasm.sh), $(date -u '+%Y-%m-%d %H:%M') UTC"
	echo "# series $(kgit rev-parse --short=12 series), repo $(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)'); llvm-objdump-19 of vmlinux"
	echo
	echo "## C path: config bench_c (CONFIG_IO_WQ_IDLE_RUST unset)"
	dis "$c" io_wq_set_exit_on_idle
	echo
	echo "## Rust path: config bench_rust (CONFIG_IO_WQ_IDLE_RUST=y)"
	for f in io_wq_set_exit_on_idle io_wq_in_exit_on_idle io_wq_idle_set_state rust_helper_atomic64_andnot \
		rust_helper_atomic64_fetch_or io_tctx_idle_node_added; do
		dis "$rust" "$f"
		echo
	done
} >"$out"
grep -q 'lock' "$out" || die "no locked instruction in $out: the functions were not found (see the file)"
say "wrote ${out#"$REPO"/}"
