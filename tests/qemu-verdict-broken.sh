#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/qemu-test.sh's verdict on a console log (--check-log: no build, no
# boot) must fail a run that did not pass every scenario it asked for, and a
# log with a splat (SPLATS in scripts/lib.sh), and pass a clean one:
#
#   "0 passed, 0 failed"               nothing ran: must fail
#   one scenario fewer than asked for  must fail, as must a missing PASS line
#   "INFO: rcu_preempt self-detected stall on CPU", the other RCU stall and
#   hung-task forms: must fail; "rcu: Hierarchical RCU implementation." and
#   the like: must pass
#   a KCSAN report naming a function of io_uring/ or rust/helpers/: must
#   fail; one naming only others: must pass, unless another splat is there
#
#   tests/qemu-verdict-broken.sh [--help]
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

case ${1:-} in
-h | --help) sed -n '3,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
'') ;;
*) die "unknown argument '$1' (see --help)" ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scenarios=$(awk '/^const SCENARIOS: &\[Scenario\] = &\[/ { f = 1; next } f && /^\];/ { exit } f' \
	"$REPO/tests/iowq/src/main.rs" | sed -n 's/^ *("\([^"]*\)",.*/\1/p')
[ -n "$scenarios" ] || die "no scenario names in tests/iowq/src/main.rs's SCENARIOS"

# console <file> <summary> <scenario...>: a console log as the guest writes
# it (CRLF), with a PASS line for each scenario.
console() {
	local f=$1 summary=$2 s
	shift 2
	{
		printf '[    0.000000] Linux version 7.3.4\r\n'
		printf '[    0.000000] rcu: Hierarchical RCU implementation.\r\n'
		printf '[    0.000000] rcu: \tRCU CPU stall warnings timeout set to 21 (rcu_cpu_stall_timeout).\r\n'
		printf '[    0.100000] Running RCU self tests\r\n'
		for s in "$@"; do printf 'PASS %s: fine\r\n' "$s"; done
		printf '%s\r\n' "$summary"
		printf '[   60.000000] reboot: Restarting system\r\n'
	} >"$f"
}

fail=0
# verdict <name> <pass|fail> <what the error must say> <log> [qemu-test.sh args...]
verdict() {
	local name=$1 want=$2 says=$3 log=$4 rc=0 out
	shift 4
	out=$("$REPO/scripts/qemu-test.sh" --check-log "$log" "$@" 2>&1) || rc=$?
	if [ "$want" = pass ] && [ $rc = 0 ]; then
		echo "  $name: passes, as it should"
	elif [ "$want" = fail ] && [ $rc != 0 ] && grep -q -- "$says" <<<"$(grep '^error: ' <<<"$out")"; then
		echo "  $name: fails, as it should: $(grep -m1 '^error: ' <<<"$out")"
	else
		echo "  $name: want $want${says:+ saying \"$says\"}, got exit $rc:" >&2
		tail -n 3 <<<"$out" | sed 's/^/    /' >&2
		fail=1
	fi
}

# shellcheck disable=SC2086 # one word per scenario
{
	n=$(wc -w <<<"$scenarios")
	# --expect-rust asks for rust-path, the scenarios and rust-calls.
	console "$tmp/all.log" "iowq-test: $((n + 2)) passed, 0 failed" rust-path $scenarios rust-calls
	verdict "every scenario passed" pass '' "$tmp/all.log" --expect-rust
	console "$tmp/none.log" "iowq-test: 0 passed, 0 failed"
	verdict "0 passed, 0 failed" fail "0 passed, 0 failed, but $((n + 2)) scenarios were asked for" "$tmp/none.log" --expect-rust
	console "$tmp/short.log" "iowq-test: $((n + 1)) passed, 0 failed" $scenarios rust-calls
	verdict "one scenario short (no rust-path)" fail "$((n + 1)) passed, 0 failed, but $((n + 2)) scenarios" "$tmp/short.log" --expect-rust
	console "$tmp/nocalls.log" "iowq-test: $((n + 1)) passed, 0 failed" rust-path $scenarios
	verdict "no call count (no rust-calls)" fail "$((n + 1)) passed, 0 failed, but $((n + 2)) scenarios" "$tmp/nocalls.log" --expect-rust
	console "$tmp/other.log" "iowq-test: 3 passed, 0 failed" rust-path two-rings rust-calls
	verdict "another scenario than the one named" fail "no 'PASS lifecycle:' line" "$tmp/other.log" --expect-rust lifecycle
	console "$tmp/named.log" "iowq-test: 4 passed, 0 failed" rust-path storm races rust-calls
	verdict "named scenarios and --options" pass '' "$tmp/named.log" --expect-rust storm races --stress-secs=25
	console "$tmp/cpath.log" "iowq-test: $((n + 2)) passed, 0 failed" c-path $scenarios c-calls
	verdict "the C path, every scenario passed" pass '' "$tmp/cpath.log" --expect-c
	console "$tmp/failed.log" "iowq-test: $((n + 1)) passed, 1 failed" rust-path $scenarios
	verdict "a failed scenario" fail "1 failed (config" "$tmp/failed.log" --expect-rust
}

for splat in \
	'rcu: INFO: rcu_preempt self-detected stall on CPU' \
	'INFO: rcu_sched self-detected stall on CPU' \
	'rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:' \
	'rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21 jiffies s: 4 root: 0x2/.' \
	'INFO: task iou-wrk-85:90 blocked for more than 20 seconds.'; do
	{ head -n 4 "$tmp/all.log"; printf '[   42.000000] %s\r\n' "$splat"; tail -n +5 "$tmp/all.log"; } >"$tmp/splat.log"
	verdict "splat '$splat'" fail "the kernel log has a splat: .*${splat:0:20}" "$tmp/splat.log" --expect-rust
done

# A KCSAN report: one that names a function of io_uring (or of the Rust
# helpers) fails the run; one that names only others is listed and left
# out, and any other splat beside it still fails.
# kcsan <log> <title> [another splat]: the clean log with a KCSAN report.
kcsan() {
	{
		head -n 4 "$tmp/all.log"
		printf '[   42.000000] ==================================================================\r\n'
		printf '[   42.000000] %s\r\n' "$2" '' 'read to 0xffff888003a1b2c0 of 4 bytes by task 90 on cpu 1:' \
			' some_function+0x21/0x60' '' 'value changed: 0x00000001 -> 0x00000000'
		printf '[   42.000000] ==================================================================\r\n'
		[ -z "${3:-}" ] || printf '[   43.000000] %s\r\n' "$3"
		tail -n +5 "$tmp/all.log"
	} >"$1"
}
kcsan "$tmp/kcsan-ours.log" 'BUG: KCSAN: data-race in io_wq_worker / io_wq_enqueue'
verdict "KCSAN in io-wq" fail "the kernel log has a splat: .*BUG: KCSAN: data-race in io_wq_worker" "$tmp/kcsan-ours.log" --expect-rust
kcsan "$tmp/kcsan-cb.log" 'BUG: KCSAN: data-race in create_worker_cb+0x82/0x250'
verdict "KCSAN in io-wq, a function without io_" fail "the kernel log has a splat: .*create_worker_cb" "$tmp/kcsan-cb.log" --expect-rust
kcsan "$tmp/kcsan-helper.log" 'BUG: KCSAN: data-race in rust_helper_atomic_long_or / __percpu_counter_limited_add'
verdict "KCSAN in a Rust helper" fail "the kernel log has a splat: .*rust_helper_atomic_long_or" "$tmp/kcsan-helper.log" --expect-rust
kcsan "$tmp/kcsan-other.log" 'BUG: KCSAN: data-race in __percpu_counter_limited_add / __percpu_counter_limited_add'
verdict "KCSAN outside io_uring" pass '' "$tmp/kcsan-other.log" --expect-rust
kcsan "$tmp/kcsan-other-warn.log" 'BUG: KCSAN: data-race in __percpu_counter_limited_add / __percpu_counter_limited_add' \
	'WARNING: CPU: 1 PID: 90 at io_uring/io-wq.c:123 io_wq_worker+0x1/0x2'
verdict "KCSAN outside io_uring, and a WARNING" fail "the kernel log has a splat: .*WARNING: CPU: 1" "$tmp/kcsan-other-warn.log" --expect-rust

[ $fail = 0 ] || die "scripts/qemu-test.sh passes a run it should fail, or fails a clean one (above); fix check_run in scripts/qemu-test.sh or SPLATS in scripts/lib.sh"
say "qemu-test.sh fails empty, short and splatted runs and passes a clean one"
