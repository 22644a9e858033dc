#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark the Rust exit-on-idle state against upstream's C, in one run:
# the same patched tree built with CONFIG_IO_WQ_IDLE_RUST=y (config
# bench_rust) and =n (bench_c), both booted under QEMU, rounds interleaved
# A B B A A B ... so drift hits both alike.  The measurements are
# tests/iowq's bench-* scenarios (src/bench.rs); the table, the raw samples
# and a CDF plot go to out/ (scripts/bench-report.py).
#
#   scripts/bench.sh            ROUNDS=4 rounds per kernel (default)
#   scripts/bench.sh --smoke    1 round of a few samples on the same two
#                               kernels (make test builds them anyway, for
#                               liburing's suite): checks the harness,
#                               measures nothing
#   scripts/bench.sh --aa       A/A control: bench_c against itself, booted
#                               as two kernels; shows how far apart two runs
#                               of one kernel land (the noise floor)
#   --tcg                       (with any of the above) wall time instead of
#                               instruction counts
#   BENCH_A=, BENCH_B=          other config names to compare
#
# Method.  By default every boot is one vCPU under TCG with QEMU's
# -icount shift=0,sleep=off (scripts/qemu-test.sh --icount): the guest
# clock advances one nanosecond per instruction executed, and when the
# vCPU idles it jumps to the next timer.  The bench's guest-side timings
# are then instruction counts (plus those jumps), the same from boot to
# boot, and the report gives them as instructions.  --tcg boots two vCPUs
# under plain TCG and reports host wall time, noisy on a shared host.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

smoke='' aa='' method=icount
for a in "$@"; do
	case $a in
	--smoke) smoke=1 ;;
	--aa) aa=1 ;;
	--tcg) method=tcg ;;
	*) die "usage: scripts/bench.sh [--smoke | --aa] [--tcg] (--help says more)" ;;
	esac
done
if [ -n "$smoke" ]; then
	A=${BENCH_A:-bench_rust} B=${BENCH_B:-bench_c} rounds=1
	opts=(--bench-samples=5 --bench-ops=5000 --bench-cycles=20 --bench-long-gaps=1 --bench-reps=1)
	out=$CACHE/bench-smoke
else
	A=${BENCH_A:-bench_rust} B=${BENCH_B:-bench_c} rounds=${ROUNDS:-4}
	opts=(--bench-samples=15 --bench-ops=20000 --bench-cycles=250 --bench-long-gaps=2)
	out=$REPO/out
fi
# The second kernel's label: in the A/A control the same kernel boots under
# both, and its second half of the boots is reported as "<config>.again".
[ -z "$aa" ] || A=${BENCH_A:-bench_c} B=${BENCH_B:-bench_c}
[ "$A" != "$B" ] || [ -n "$aa" ] || die "BENCH_A and BENCH_B are both $A; use --aa for an A/A control"
LA=$A LB=$B
[ "$A" != "$B" ] || LB=$B.again
command -v gnuplot >/dev/null || die "gnuplot is missing; install Debian package gnuplot-nox (make setup does)"

for c in "$A" "$B"; do
	"$S/build.sh" "$c" bzImage >/dev/null
done
logs=$CACHE/run/bench
rm -rf "$logs"
mkdir -p "$logs" "$out"
scenarios=(bench-exit bench-hot bench-switch bench-churn bench-cycle)
icount=
qemu="-accel tcg -smp 2"
if [ "$method" = icount ]; then
	icount=1 qemu="-accel tcg -icount shift=0,sleep=off -smp 1"
fi
start=$SECONDS
for r in $(seq 1 "$rounds"); do
	# A B, then B A: whichever boots first in a round alternates.
	order=("$A:$LA" "$B:$LB")
	[ $((r % 2)) = 1 ] || order=("$B:$LB" "$A:$LA")
	for cl in "${order[@]}"; do
		c=${cl%%:*} l=${cl#*:}
		say "bench round $r/$rounds: $l"
		QEMU_TIMEOUT=600 "$S/qemu-test.sh" --config "$c" --no-build --log "$logs/$l.$r.log" \
			${icount:+--icount} \
			"${scenarios[@]}" "${opts[@]}" >/dev/null ||
			die "bench round $r on $l failed (log: $logs/$l.$r.log)"
	done
done
say "$((2 * rounds)) boots in $((SECONDS - start)) s"

name=bench-$BASE${smoke:+-smoke}${aa:+-aa}
[ "$method" = icount ] || name=$name-tcg
info() {	# info <config> [label]: what the results file says about a kernel
	local o=$BUILD_ROOT/$1
	echo "${2:-$1}: $(cat "$o/include/config/kernel.release") tree $(kgit rev-parse --short=12 HEAD)" \
		".config sha256 $(sha256sum "$o/.config" | cut -c1-16)" \
		"CONFIG_IO_WQ_IDLE_RUST=$(grep -q '^CONFIG_IO_WQ_IDLE_RUST=y' "$o/.config" && echo y || echo n)"
}
python3 "$S/bench-report.py" --out "$out/$name" --rust "$LA" --c "$LB" --method "$method" \
	--info "$(info "$A")" --info "$(info "$B" "$LB")" \
	--info "QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}') $qemu -m 1024; host $(nproc) CPUs; $rounds rounds per kernel, interleaved" \
	${smoke:+--smoke} ${aa:+--aa} "$logs"/*.log
