#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every userspace scenario, CRIU included, on the base's kernels and
# print one table.  The rows come from MATRIX_ROWS in bases/<base>/base.conf;
# for v7.3.4:
#   rust   the series, CONFIG_IO_WQ_IDLE_RUST=y        (config kunit)
#   c      the series, the option off (CONFIG_RUST=n)  (config norust)
#   base   the unpatched base                          (config norust, the
#          base tag built in place in its build dir, and stashed)
# Each run checks which implementation is running (/proc/config.gz and
# /proc/kallsyms).  Every scenario must pass on every row, except on the
# base row those MATRIX_BASE_FAILS names (a base without exit-on-idle, such
# as 6.12): each of those must FAIL for its reason, and the rest pass.
# Then the regression tests of the fixes (fault-xa, fault-install,
# create-pending; MATRIX_REG_ROWS), the negative control of the fixes: each
# must PASS on the patched row and FAIL on the unpatched base, for the
# reason the fix is about (the bug detectors of config debug, FAILSLAB among
# them, are in every row's kernel).
#
#   scripts/qemu-matrix.sh                  all of the above
#   scripts/qemu-matrix.sh --regressions    only the regression tests
#   scripts/qemu-matrix.sh --negative       the base-row check's negative
#       control: only the base row, with one scenario that passes there
#       (the first not in MATRIX_BASE_FAILS) expected to fail; succeeds
#       only if the check rejects the run for that scenario.  It judges the
#       base row's output of the last full run again (kept in the cache),
#       and boots the base kernel only when there is none.
#
# A row of a fixed commit (the unpatched base, 6.12's stable row) gives the
# same output as long as its kernel, the tests, the guest and the way they
# boot are the same: a run in which that row came out as expected keeps its
# output in $CACHE/run/kept/<key> (see fixed_key), and a later run with the
# same key judges that output again instead of booting it
# (MATRIX_BOOT_ALL=1 boots it anyway).
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

only_regressions= negative=
case ${1:-} in
--regressions) only_regressions=1 ;;
--negative) negative=1 ;;
"") ;;
*) die "usage: scripts/qemu-matrix.sh [--regressions|--negative] (--help says more)" ;;
esac

need_tree

results=$CACHE/run/matrix.txt
# fixed_key <config> <commit> <qemu-test.sh's arguments...>: the hash of
# what a fixed commit's boot depends on: its kernel (built in place and
# stashed by scripts/build.sh), the test binary's sources, the sid userland,
# the scripts that boot and judge it, and the arguments.
fixed_key() {
	local O config=$1 rev=$2
	shift 2
	O=$(BUILD_REV=$rev "$S/build.sh" "$config" bzImage)
	{
		sha256sum <"$O/arch/x86/boot/bzImage"
		(cd "$REPO/tests/iowq" && find . -type f ! -path './target/*' | LC_ALL=C sort | xargs sha256sum)
		cargo --version
		sha256sum <"$(packed_rootfs sid)"
		cat "$S/qemu-test.sh" "$S/lib.sh"
		echo "$* mem=${QEMU_MEM:-} timeout=${QEMU_TIMEOUT:-} jobs=${IOWQ_JOBS:-}"
	} | sha256sum | cut -c1-16
}
# fixed_run <row> <config> <commit, or empty> <qemu-test.sh's arguments...>:
# sets out and rc from a boot, or from the kept output of the same key
# (then kept_dir is the dir to keep a new one in, or empty).
fixed_run() {
	local name=$1 config=$2 rev=$3 k
	shift 3
	kept_dir= rc=0
	if [ -n "$rev" ]; then
		k=$CACHE/run/kept/$(fixed_key "$config" "$rev" "$@")
		if [ -z "${MATRIX_BOOT_ALL:-}" ] && [ -f "$k/from" ]; then
			say "row $name: $config at $rev, the output of $(cat "$k/from") (the same kernel, tests and guest: $k); not booted again (MATRIX_BOOT_ALL=1 boots it)"
			out=$(cat "$k/out")
			rc=$(cat "$k/rc")
			return
		fi
		kept_dir=$k
	fi
	out=$("$S/qemu-test.sh" --config "$config" ${rev:+--rev "$rev"} "$@" 2>&1) || rc=$?
}
# keep_run <row>: keeps the output of fixed_run's boot, which came out as
# expected.
keep_run() {
	[ -n "$kept_dir" ] || return 0
	rm -rf "$kept_dir.tmp"
	mkdir -p "$kept_dir.tmp"
	printf '%s\n' "$out" >"$kept_dir.tmp/out"
	echo "$rc" >"$kept_dir.tmp/rc"
	echo "the run of $(date -u '+%Y-%m-%d %H:%M') UTC, series $(git -C "$KSRC" rev-parse --short=12 series)" >"$kept_dir.tmp/from"
	rm -rf "$kept_dir"
	mv "$kept_dir.tmp" "$kept_dir"
	say "row $1: output kept for later runs with the same kernel, tests and guest ($kept_dir)"
}
: >"$results"
fail=0
# "<row> <config> <--expect-rust|--expect-c> [<commit>]"; with a commit,
# that commit of the tree (the row named base: the unpatched tree).
rows=("${MATRIX_ROWS[@]}")
[ -z "$only_regressions" ] || rows=()
if [ -n "$negative" ]; then
	victim=
	for n in $(scenario_names); do
		[ -n "${MATRIX_BASE_FAILS[$n]+set}" ] || { victim=$n; break; }
	done
	[ -n "$victim" ] || die "--negative: every scenario is expected to fail on the base; no control to make"
	MATRIX_BASE_FAILS[$victim]='(negative control: expected to fail, passes on this base)'
	for row in "${MATRIX_ROWS[@]}"; do
		[ "${row%% *}" != base ] || rows=("$row")
	done
	[ "${rows[0]%% *}" = base ] || die "--negative: MATRIX_ROWS has no base row"
	say "negative control: expecting $victim to FAIL on the unpatched base, where it passes"
fi
for row in ${rows[@]+"${rows[@]}"}; do
	set -- $row
	name=$1 config=$2 expect=$3 rev=${4:-}
	rc=0 kept_dir= fail_before=$fail
	saved=$CACHE/run/matrix-$BASE-$name.out
	if [ -n "$negative" ] && [ -f "$saved" ]; then
		say "negative control: judging the $name row's last run again ($saved)"
		out=$(cat "$saved")
	else
		fixed_run "$name" "$config" "$rev" --rootfs sid "$expect"
		[ -n "$negative" ] || printf '%s\n' "$out" >"$saved"
	fi
	echo "$out" | { grep -E '^(PASS|FAIL) ' || true; } | sed "s/^/$name /" >>"$results"
	if [ "$name" = base ] && [ ${#MATRIX_BASE_FAILS[@]} -gt 0 ]; then
		# Without exit-on-idle: these fail, each for its reason, and only
		# these (qemu-test.sh then ends with their count failed).
		for r in "${!MATRIX_BASE_FAILS[@]}"; do
			pat="^FAIL $r: .*${MATRIX_BASE_FAILS[$r]}"
			if ! echo "$out" | grep -qE "$pat"; then
				fail=1
				echo "scenario $r on the $name kernel: expected a line matching '$pat', got: $(echo "$out" | grep -m1 -E "^(PASS|FAIL) $r: " || echo 'no result line')" >&2
			fi
		done
		if ! echo "$out" | grep -qE "^error: .*iowq-test: [0-9]+ passed, ${#MATRIX_BASE_FAILS[@]} failed"; then
			fail=1
			echo "the $name kernel's run did not end with exactly its ${#MATRIX_BASE_FAILS[@]} expected failures (${!MATRIX_BASE_FAILS[*]}): $(echo "$out" | grep -m1 '^error:' || echo 'no error')" >&2
		fi
		[ -n "$negative" ] || [ "$fail" != "$fail_before" ] || keep_run "$name"
		continue
	fi
	[ $rc = 0 ] || { fail=1; echo "$out" | grep '^error:' >&2 || true; }
	[ -n "$negative" ] || [ "$fail" != "$fail_before" ] || keep_run "$name"
done

if [ -n "$negative" ]; then
	[ $fail = 1 ] || die "negative control: the base row passed although $victim was expected to fail; the MATRIX_BASE_FAILS check no longer checks"
	say "negative control: the base-row check rejected the run ($victim passed where it was expected to fail)"
	exit 0
fi

# The fixes' regression tests: PASS with the series, FAIL without it, with
# the failure each fix is about (a worker left after the last close; one
# that waited for its idle timeout).  MATRIX_REG_ROWS: "<row> <config>
# <PASS|FAIL> [<commit>]"; with a commit, the row boots that commit of the
# tree, built in place in the config's build dir (stashed; the tree and the
# build dir go back to branch series).  MATRIX_REG_WHY["<row>:<test>"]
# replaces the failure reason for one row (the unpatched 6.12 fails for
# lack of the state, not for the bug).
regs=(${MATRIX_REGS:-fault-xa fault-install create-pending})
declare -A why=(
	[fault-xa]='iou-wrk threads still there [0-9]+ ms after the last ring was closed'
	[fault-install]='iou-wrk threads still there [0-9]+ ms after the last ring was closed'
	[create-pending]='it waited for its idle timeout'
)
declare -p MATRIX_REG_WHY >/dev/null 2>&1 || declare -A MATRIX_REG_WHY=()
for row in "${MATRIX_REG_ROWS[@]}"; do
	set -- $row
	name=$1 config=$2 want=$3 rev=${4:-}
	fail_before=$fail
	if [ -n "$rev" ]; then
		fixed_run "$name" "$config" "$rev" --log "$CACHE/run/$config/regressions-$name.log" "${regs[@]}"
	else
		fixed_run "$name" "$config" "" --no-build --log "$CACHE/run/$config/regressions-$name.log" "${regs[@]}"
	fi
	echo "$out" | { grep -E '^(PASS|FAIL) ' || true; } | sed "s/^/$name /" >>"$results"
	for r in "${regs[@]}"; do
		pat="^$want $r: "
		[ "$want" = PASS ] || pat="$pat.*${MATRIX_REG_WHY[$name:$r]:-${why[$r]}}"
		if ! echo "$out" | grep -qE "$pat"; then
			fail=1
			echo "regression test $r on the $name kernel: expected a line matching '$pat', got: $(echo "$out" | grep -m1 -E "^(PASS|FAIL) $r: " || echo 'no result line')" >&2
		fi
	done
	# A row without the fixes fails by design; it must not fail for another
	# reason.
	if [ "$want" = FAIL ] && ! echo "$out" | grep -q "^error: iowq-test: 0 passed, ${#regs[@]} failed"; then
		fail=1
		echo "the $name kernel's regression run ended otherwise than with its ${#regs[@]} tests failing: $(echo "$out" | grep -m1 '^error:' || echo 'no error')" >&2
	fi
	[ "$want" = FAIL ] || [ $rc = 0 ] || { fail=1; echo "$out" | grep '^error:' >&2 || true; }
	[ "$fail" != "$fail_before" ] || keep_run "$name"
done

table() {
	printf '%-7s %-14s %-5s %s\n' kernel scenario result numbers
	awk '{ k = $1; r = $2; s = $3; sub(/:$/, "", s); $1 = $2 = $3 = ""; printf "%-7s %-14s %-5s %s\n", k, s, r, substr($0, 4) }' "$results"
}
echo >&2
table
# The table is the results file (covers and README quote it), but for the
# negative control, whose table is made to fail.
if [ -z "$negative" ]; then
	mkdir -p "$BASE_DIR/results"
	res=$BASE_DIR/results/matrix$([ -z "$only_regressions" ] || echo -regressions).txt
	{
		echo "# scripts/qemu-matrix.sh${only_regressions:+ --regressions}, $BASE, $(date -u '+%Y-%m-%d %H:%M') UTC, verdict: $([ $fail = 0 ] && echo pass || echo FAIL)"
		echo "# series $(git -C "$KSRC" rev-parse --short=12 series), repo $(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
		echo "# rows: ${MATRIX_ROWS[*]+${MATRIX_ROWS[*]}}${only_regressions:+ (not run)}; regression rows: ${MATRIX_REG_ROWS[*]}"
		echo "# a row of a fixed commit may be the kept output of an earlier run with the same kernel, tests and guest (the run's log says which)"
		table
	} >"$res"
	say "results: $res"
fi
[ $fail = 0 ] || die "a scenario failed on at least one kernel (or did not fail as expected on the unpatched base), or a regression test did not pass on the patched kernel or did not fail as expected on the unpatched base (table above; logs under $CACHE/run/)"
[ -n "$only_regressions" ] || say "rows ${MATRIX_ROWS[*]%% *}: every scenario passes${MATRIX_BASE_FAILS[*]:+, except on the unpatched base ${!MATRIX_BASE_FAILS[*]}, which fail as they must}"
say "the fixes' regression tests pass on the patched kernel and fail on the rows without the fixes ($(printf '%s\n' "${MATRIX_REG_ROWS[@]}" | awk '$3 == "FAIL" { print $1 }' | paste -sd' ')), each for the reason given"
