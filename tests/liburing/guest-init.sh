#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest's /init for liburing's regression suite (scripts/liburing.sh packs
# it with the test binaries into /liburing and boots it on a Debian sid
# userland).  It runs every test named in /liburing/list with the semantics
# of liburing's test/runtests.sh: a per-test timeout (SIGINT, then SIGKILL),
# exit status 77 is SKIP, any other non-zero status is FAIL, and so is a
# kernel log after the test's marker that has a BUG, WARNING, Oops, lockdep
# or RCU report.  Each test runs in a fresh working dir on tmpfs.
#
# liburing.jobs=<n> tests at a time (default 1), as liburing's own
# 'make -j<n> runtests-parallel' runs them, in the order of /liburing/list;
# then the tests named in /liburing/alone, one at a time.  A kernel report
# during the parallel part is charged to every test that started before it
# and finished after it, not only to the one that caused it: the host boots
# a failed test again alone.
#
# One line per test on the second serial port (ttyS1: the console, ttyS0,
# carries kernel messages and whatever a test writes to a terminal), for the
# host to parse:
#   LIBURING <test> <PASS|SKIP|FAIL|TIMEOUT> <seconds> <exit status>
# followed, for SKIP, FAIL and TIMEOUT, by the last lines of its output,
# each prefixed "LIBURING-OUT <test> ", and at the end "LIBURING-END <count>".
# The lines of different tests may interleave; each line names its test.
# Kernel command line: liburing.timeout=<s> (default 60, runtests.sh's),
# liburing.jobs=<n>, and liburing.only=<t1,t2,...> to run only those.
set -u
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ip link set lo up
exec 3>/dev/ttyS1

timeout=60
par=1
only=
for a in $(cat /proc/cmdline); do
	case $a in
	liburing.timeout=*) timeout=${a#*=} ;;
	liburing.jobs=*) par=${a#*=} ;;
	liburing.only=*) only=,${a#*=}, ;;
	esac
done

# runtests.sh's _check_dmesg patterns.
splats='kernel BUG at|WARNING:|BUG:|Oops:|possible recursive locking detected|Internal error|INFO: suspicious RCU usage|INFO: possible circular locking dependency detected|general protection fault:'

# run_one <test>: runs it, then writes its lines to ttyS1 in one go (under
# /tmp/out.lock: the tests of a parallel run finish in any order).
run_one() {
	local t=$1 d=/tmp/work/$1 start end secs st r
	mkdir -p "$d"
	cd "$d" || exit 1
	echo "Running test $t:" >/dev/kmsg
	start=$EPOCHREALTIME
	timeout -s INT -k "$timeout" "$timeout" "/liburing/$t.t" >out 2>&1 </dev/null
	st=$?
	end=$EPOCHREALTIME
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	if [ $st = 124 ] || [ $st = 137 ]; then
		r=TIMEOUT
	elif [ $st = 77 ]; then
		r=SKIP
	elif [ $st != 0 ]; then
		r=FAIL
	elif dmesg | sed -n "/Running test $t:\$/,\$p" | grep -E "$splats" >>out; then
		r=FAIL
		echo "the kernel log has a report after this test's marker" >>out
	else
		r=PASS
	fi
	{
		echo "LIBURING $t $r $secs $st"
		# What a test that did not pass said last: why it failed or skipped.
		if [ $r != PASS ]; then
			# awk ends every line, the output's last one too.
			tail -n 12 out | tr -d '\r' | awk -v p="LIBURING-OUT $t " '{ print p $0 }'
		fi
	} >"$d.lines"
	{
		flock 9
		cat "$d.lines" >&3
	} 9>/tmp/out.lock
	cd /
	rm -rf "$d" "$d.lines"
}

later=()
alone=,$(paste -sd, /liburing/alone),
n=0
while read -r t; do
	[ -z "$only" ] || [[ $only == *",$t,"* ]] || continue
	n=$((n + 1))
	if [[ $alone == *",$t,"* ]]; then
		later+=("$t")
		continue
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n; done
	run_one "$t" &
done </liburing/list
wait
for t in ${later[@]+"${later[@]}"}; do
	run_one "$t"
done
echo "LIBURING-END $n" >&3
# No reboot(8) in the userland: init exits, the kernel panics with
# "Attempted to kill init", and panic=-1 with QEMU's -no-reboot ends the VM.
exit 0
