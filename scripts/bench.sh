#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark the Rust exit-on-idle state against upstream's C, in one run:
# the same patched tree built with CONFIG_IO_WQ_IDLE_RUST=y (config
# bench_rust) and =n (bench_c), both booted under QEMU (TCG, same -smp and
# memory), rounds interleaved A B B A A B ... so drift hits both alike.  The
# measurements are tests/iowq's bench-* scenarios (src/bench.rs); the table,
# the raw samples and a CDF plot go to out/ (scripts/bench-report.py).
#
#   scripts/bench.sh            ROUNDS=4 rounds per kernel (default)
#   scripts/bench.sh --smoke    1 round of a few samples on the kernels make
#                               test builds anyway (kunit, norust): checks
#                               the harness, measures nothing
#   BENCH_A=, BENCH_B=          other config names to compare
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

smoke=
[ "${1:-}" = --smoke ] && smoke=1
if [ -n "$smoke" ]; then
	A=${BENCH_A:-kunit} B=${BENCH_B:-norust} rounds=1
	opts=(--bench-samples=5 --bench-ops=5000 --bench-cycles=20 --bench-long-gaps=1 --bench-reps=1)
	out=$CACHE/bench-smoke
else
	A=${BENCH_A:-bench_rust} B=${BENCH_B:-bench_c} rounds=${ROUNDS:-4}
	opts=(--bench-samples=15 --bench-ops=20000 --bench-cycles=250 --bench-long-gaps=2)
	out=$REPO/out
fi
command -v gnuplot >/dev/null || die "gnuplot is missing; install Debian package gnuplot-nox (make setup does)"

for c in "$A" "$B"; do
	"$S/build.sh" "$c" bzImage >/dev/null
done
logs=$CACHE/run/bench
rm -rf "$logs"
mkdir -p "$logs" "$out"
scenarios=(bench-exit bench-hot bench-churn bench-cycle)
start=$SECONDS
for r in $(seq 1 "$rounds"); do
	# A B, then B A: whichever boots first in a round alternates.
	order=("$A" "$B")
	[ $((r % 2)) = 1 ] || order=("$B" "$A")
	for c in "${order[@]}"; do
		say "bench round $r/$rounds: $c"
		QEMU_TIMEOUT=600 "$S/qemu-test.sh" --config "$c" --no-build --log "$logs/$c.$r.log" \
			"${scenarios[@]}" "${opts[@]}" >/dev/null ||
			die "bench round $r on $c failed (log: $logs/$c.$r.log)"
	done
done
say "$((2 * rounds)) boots in $((SECONDS - start)) s"

name=bench-$BASE$([ -z "$smoke" ] || echo -smoke)
info() {	# info <config>: what the results file says about a kernel
	local o=$BUILD_ROOT/$1
	echo "$1: $(cat "$o/include/config/kernel.release") tree $(kgit rev-parse --short=12 HEAD)" \
		".config sha256 $(sha256sum "$o/.config" | cut -c1-16)" \
		"CONFIG_IO_WQ_IDLE_RUST=$(grep -q '^CONFIG_IO_WQ_IDLE_RUST=y' "$o/.config" && echo y || echo n)"
}
python3 "$S/bench-report.py" --out "$out/$name" --rust "$A" --c "$B" \
	--info "$(info "$A")" --info "$(info "$B")" \
	--info "QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}') -accel tcg -smp 2 -m 1024; host $(nproc) CPUs; $rounds rounds per kernel, interleaved" \
	${smoke:+--smoke} "$logs"/*.log
