#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The stress programs of tests/iowq (src/stress.rs) on the patched kernel
# with the Rust option on and the kernel's bug detectors (config kunit, whose
# fragment debug.config has lockdep, KASAN, UBSAN, kmemleak, hung task, RCU
# stall and FAILSLAB), under QEMU (TCG, 2 CPUs).  Any splat in the console
# log fails the run, as does a failed program or an iou-wrk thread left
# after the rings are closed.
#
#   scripts/stress.sh            short profile: 25 s per program (make test)
#   LONG=1 scripts/stress.sh     long profile: 240 s per program (20 min)
#   KCSAN=1 scripts/stress.sh    the same on the KCSAN kernel (config 'kcsan')
#   STRESS_SECS=N                N seconds per program instead
#   scripts/stress.sh --negative the negative control of the programs'
#                                fdinfo check: with --stress-miscount every
#                                ring claims one completion too many, and
#                                the storm program must fail on it
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = --negative ]; then
	log=$CACHE/run/stress-negative.log
	say "stress negative control: storm with --stress-miscount must fail the fdinfo check"
	if QEMU_MEM=2048 "$(dirname "$0")/qemu-test.sh" --config kunit --log "$log" storm \
		--stress-secs=5 --stress-miscount >/dev/null 2>&1; then
		die "storm passed with --stress-miscount: Ring::close() in tests/iowq/src/stress/ring.rs no longer compares the ring's fdinfo with its own counts (log: $log)"
	fi
	line=$(grep -m1 "^FAIL storm: .*fdinfo (.*) disagrees with the program" "$log") ||
		die "storm failed with --stress-miscount, but not on the fdinfo check (log: $log): $(grep -m1 -E '^FAIL |^error' "$log" || tail -n1 "$log")"
	say "refused as it should be: ${line:0:240}"
	exit 0
fi

secs=${STRESS_SECS:-$([ -n "${LONG:-}" ] && echo 240 || echo 25)}
programs=(storm races limits signals faults kmemleak)
config=kunit
if [ -n "${KCSAN:-}" ]; then
	# No FAILSLAB or kmemleak in the KCSAN kernel.
	config=kcsan
	programs=(storm races limits signals)
fi
# Boot (a debug kernel under TCG is slow to boot), the programs and the
# checks between them.  The budgets are guest time; allow twice that, for a
# host busy with other work (2 vCPUs on 2 host cores).
timeout=$((600 + ${#programs[@]} * secs * 2))
say "stress: ${programs[*]} for $secs s each on config $config (deadline $timeout s)"
start=$SECONDS
QEMU_MEM=2048 QEMU_TIMEOUT=$timeout "$(dirname "$0")/qemu-test.sh" --config "$config" \
	--log "$CACHE/run/stress-$config.log" --expect-rust "${programs[@]}" "--stress-secs=$secs"
log=$CACHE/run/stress-$config.log
counts=$(grep -m1 '^STRESS ' "$log" | sed 's/^STRESS //') ||
	die "no STRESS counts line in $log"
say "stress on $config: $((SECONDS - start)) s wall, $secs s per program; $counts"
say "no splat in the console log (lockdep, KASAN, UBSAN, kmemleak, hung task, RCU stall, WARN/BUG); log: $log"
# A profile other than make test's (whose results file scripts/results.sh
# writes) writes its own: what it ran on, its verdict lines and counts.
if [ -n "${LONG:-}${KCSAN:-}${STRESS_SECS:-}" ]; then
	out=$BASE_DIR/results/stress-$config-${secs}s.txt
	mkdir -p "$BASE_DIR/results"
	{
		echo "# scripts/stress.sh, $BASE, config $config, $secs s per program, $(date -u '+%Y-%m-%d %H:%M') UTC"
		echo "# series $(git -C "$KSRC" rev-parse --short=12 series), repo $(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
		echo "# $((SECONDS - start)) s wall; no splat in the console log"
		grep -E '^(PASS|FAIL|STRESS) ' "$log"
	} >"$out"
	say "results: $out"
fi
