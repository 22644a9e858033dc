#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make test-all, what CI runs (.ci/run): make test (the primary base,
# v7.3.4), then make test-lts (v6.12.117), the second also when the first
# failed; fails if either did.
#
#   scripts/test-all.sh
#
# Two things run in the background meanwhile.  The downloads both bases'
# steps use (scripts/prefetch.sh: the guest userland, liburing's tests, the
# minimum-toolchain root), at normal priority, while the first base's setup
# and kernel build run; a step that needs one of them waits for its lock.
# And the second base's kernels (scripts/prebuild.sh), at the lowest CPU
# priority (SCHED_IDLE) and the idle I/O class, during all of the first
# base's steps: they get mostly the cores those steps leave idle (QEMU
# guests that wait, single-threaded tools).  Each background job has a
# session of its own (setsid, so that it can be killed as a group), and with
# autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled) the kernel
# shares the CPU between sessions first: SCHED_IDLE then only orders the
# tasks inside the prebuild's own session, which got as much CPU as the
# foreground steps (measured: two CPU-bound loops in the foreground ran at a
# third of their speed beside two SCHED_IDLE loops started with setsid).
# So the prebuild's session gets autogroup nice 19 (/proc/<pid>/autogroup).
# The second base's steps start when that is done and find its kernels
# built; they still build (incrementally) and check every kernel they
# boot.  PREBUILD=0: no background build of the second base.  The logs:
# $CACHE/logs/prefetch.log and $CACHE/logs/prebuild-<base>.log.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")
[ $# = 0 ] || die "usage: scripts/test-all.sh (no arguments; --help says more)"
first=v7.3.4 second=v6.12.117

# The Debian packages and bindgen first, once: both bases' setups install
# them, and apt takes one install at a time.
start=$SECONDS
cache_then="build dirs there at the start"
[ -d "$CACHE/$first/build" ] || [ -d "$CACHE/$second/build" ] || cache_then="no build dir at the start (cold)"
BASE=$first "$S/setup.sh" --tools
tools=$((SECONDS - start))
say "tools: $tools s"

# The downloads (userland, liburing, the minimum-toolchain root), at normal
# priority: they wait on the network while the first base's setup and
# kernel build run.  The steps that need them wait for their locks.
mkdir -p "$CACHE/logs"
flog=$CACHE/logs/prefetch.log
say "fetching the guest userland, liburing and the minimum-toolchain root in the background (log: $flog)"
BASE=$first setsid "$S/prefetch.sh" >"$flog" 2>&1 &
fpid=$!

pid=
case ${PREBUILD:-1} in
1)
	mkdir -p "$CACHE/logs"
	plog=$CACHE/logs/prebuild-$second.log
	say "building $second's kernels in the background at idle priority (log: $plog)"
	BASE=$second setsid chrt --idle 0 ionice -c 3 "$S/prebuild.sh" >"$plog" 2>&1 &
	pid=$!
	# Not before setsid has made its session: until then, $pid's autogroup
	# is this one's.
	for _ in $(seq 200); do
		[ "$(ps -o sid= -p "$pid" | tr -d ' ')" != "$pid" ] || break
		sleep 0.05
	done
	if [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] && [ -e "/proc/$pid/autogroup" ]; then
		echo 19 >"/proc/$pid/autogroup" ||
			die "could not lower the prebuild's autogroup priority (/proc/$pid/autogroup)"
		say "prebuild's session: $(cat "/proc/$pid/autogroup")"
	else
		say "note: the prebuild's autogroup priority was not lowered (no session of its own yet, or no /proc/$pid/autogroup); it may take CPU from the steps"
	fi
	trap 'kill -- -$pid -$fpid 2>/dev/null || true' EXIT
	;;
0) ;;
*) die "PREBUILD='$PREBUILD': 1 (default: the second base's kernels built in the background) or 0" ;;
esac

[ -n "$pid" ] || trap 'kill -- -$fpid 2>/dev/null || true' EXIT

rc=0
t1=$SECONDS
BASE=$first "$S/test.sh" || rc=1
first_s=$((SECONDS - t1))
t1=$SECONDS
# Its parts were waited for by the steps that use them; a failure there
# showed in those steps.
wait "$fpid" || { tail -n 20 "$flog" >&2; say "prefetch failed (above; log: $flog)"; }
if [ -n "$pid" ]; then
	if wait "$pid"; then
		say "prebuild of $second: done $((SECONDS - t1)) s after make test ended; $(grep -o '[0-9]* kernels ready in [0-9]* s' "$plog" | tail -n1)"
	else
		# Not a failure of its own: the steps build what is missing, and
		# fail there if it does not build.
		tail -n 20 "$plog" >&2
		say "prebuild of $second failed (above; log: $plog); its steps build what is missing"
	fi
fi
trap - EXIT
waited=$((SECONDS - t1))
t2=$SECONDS
BASE=$second "$S/test.sh" || rc=1

# What this run measured, beside each base's make-test.txt.
out=$REPO/bases/$first/results/make-test-all.txt
{
	echo "# make test-all (scripts/test-all.sh), $(date -u '+%Y-%m-%d %H:%M') UTC, repo $(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes'); $(nproc) CPUs"
	echo "# cache $CACHE: $cache_then"
	echo "# part                            seconds"
	printf '%-32s %7d\n' "tools (Debian packages, bindgen)" "$tools" "make test ($first)" "$first_s" \
		"waiting for the prebuild" "$waited" "make test-lts ($second)" $((SECONDS - t2)) total $((SECONDS - start))
	echo "# background, beside make test ($first):"
	grep -h 'prefetch: .*([0-9]* s)\|prefetch: done' "$flog" 2>/dev/null | sed 's/^==> /#   /' || true
	[ -z "$pid" ] || grep -h 'prebuild .*ready' "$plog" 2>/dev/null | sed 's/^==> /#   /' || true
	echo "# result: $([ $rc = 0 ] && echo 'both passed' || echo 'a base failed')"
} >"$out"
echo "results: $out"
exit $rc
