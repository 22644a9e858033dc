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
#   scripts/stress.sh --judge    boots nothing: judges the console log of
#                                the last run of this profile again (after
#                                a change to qemu-test.sh's verdict), and
#                                writes its results file
#
# On the KCSAN kernel, a KCSAN report that names no function of io_uring
# or of the Rust helpers does not fail the run (scripts/qemu-test.sh,
# kcsan_outside); the results file lists each.
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

judge=
[ "${1:-}" != --judge ] || { judge=1; shift; }
[ $# = 0 ] || die "usage: [LONG=1] [KCSAN=1] [STRESS_SECS=N] $0 [--negative|--judge]"
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
log=$CACHE/run/stress-$config.log
start=$SECONDS
if [ -n "$judge" ]; then
	[ -f "$log" ] || die "no console log $log to judge: run the profile first (without --judge)"
	grep -aq -- "--stress-secs=$secs" "$log" ||
		die "$log is not of a run of $secs s per program: give the LONG/STRESS_SECS of that run"
	say "stress: judging the console log of $(date -u -r "$log" '+%Y-%m-%d %H:%M') UTC again: ${programs[*]}, $secs s each, config $config"
	"$(dirname "$0")/qemu-test.sh" --config "$config" --check-log "$log" --expect-rust "${programs[@]}" "--stress-secs=$secs"
	wall="wall time not in the log (judged again with --judge, $(date -u '+%Y-%m-%d %H:%M') UTC)"
else
	say "stress: ${programs[*]} for $secs s each on config $config (deadline $timeout s)"
	QEMU_MEM=2048 QEMU_TIMEOUT=$timeout "$(dirname "$0")/qemu-test.sh" --config "$config" \
		--log "$log" --expect-rust "${programs[@]}" "--stress-secs=$secs"
	wall="$((SECONDS - start)) s wall"
fi
counts=$(grep -m1 '^STRESS ' "$log" | sed 's/^STRESS //') ||
	die "no STRESS counts line in $log"
say "stress on $config: $wall, $secs s per program; $counts"
# The KCSAN reports that qemu-test.sh left out: none of io_uring's.
kcsan=$(grep -aoE 'BUG: KCSAN: .*race in .*' "$log" | tr -d '\r' | sort -u || true)
say "no splat in the console log (lockdep, KASAN, UBSAN, kmemleak, hung task, RCU stall, WARN/BUG)${kcsan:+ but $(wc -l <<<"$kcsan") KCSAN reports that name no function of io_uring or of the Rust helpers}; log: $log"
# A profile other than make test's (whose results file scripts/results.sh
# writes) writes its own: what it ran on, its verdict lines and counts.
if [ -n "${LONG:-}${KCSAN:-}${STRESS_SECS:-}" ]; then
	out=$BASE_DIR/results/stress-$config-${secs}s.txt
	mkdir -p "$BASE_DIR/results"
	{
		echo "# scripts/stress.sh, $BASE, config $config, $secs s per program, $(date -u -r "$log" '+%Y-%m-%d %H:%M') UTC"
		echo "# series $(git -C "$KSRC" rev-parse --short=12 series), repo $(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
		echo "# $wall; no splat in the console log${kcsan:+ but these KCSAN reports, which name no function of io_uring or of the Rust helpers (scripts/qemu-test.sh, kcsan_outside), not counted:}"
		[ -z "$kcsan" ] || sed 's/^/# /' <<<"$kcsan"
		grep -E '^(PASS|FAIL|STRESS) ' "$log"
	} >"$out"
	say "results: $out"
fi
