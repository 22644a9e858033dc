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
. "$(dirname "$0")/lib.sh"

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
