#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every userspace scenario, CRIU included, on three kernels and print
# one table:
#   rust   the series, CONFIG_IO_WQ_IDLE_RUST=y        (config kunit)
#   c      the series, the option off (CONFIG_RUST=n)  (config norust)
#   base   unpatched v7.3.4: upstream's C              (config base, in a
#          worktree of the base tag next to the tree)
# Each run checks which implementation is running (/proc/config.gz and
# /proc/kallsyms).  All three must pass.
# Then the regression tests of the fixes (fault-xa, fault-install,
# create-pending), the negative control of the fixes: each must PASS on the
# Rust kernel and FAIL on the unpatched base, for the reason the fix is
# about (config base has fault injection for them; config norust has not,
# so the c row skips them).
#
#   scripts/qemu-matrix.sh                  all of the above
#   scripts/qemu-matrix.sh --regressions    only the regression tests
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

only_regressions=
case ${1:-} in
--regressions) only_regressions=1 ;;
"") ;;
*) die "usage: scripts/qemu-matrix.sh [--regressions] (--help says more)" ;;
esac

need_tree
base_src=$BASE_CACHE/linux-base
if [ ! -d "$base_src" ]; then
	say "adding a worktree of $BASE_TAG at $base_src"
	kgit worktree add -q --detach "$base_src" "$BASE_TAG" || die "git worktree add failed"
fi

results=$CACHE/run/matrix.txt
: >"$results"
fail=0
rows=("rust kunit --expect-rust" "c norust --expect-c" "base base --expect-c")
[ -z "$only_regressions" ] || rows=()
for row in ${rows[@]+"${rows[@]}"}; do
	set -- $row
	name=$1 config=$2 expect=$3
	src=$KSRC
	[ "$name" != base ] || src=$base_src
	rc=0
	out=$(KSRC=$src "$S/qemu-test.sh" --config "$config" --rootfs sid "$expect" 2>&1) || rc=$?
	echo "$out" | { grep -E '^(PASS|FAIL) ' || true; } | sed "s/^/$name /" >>"$results"
	[ $rc = 0 ] || { fail=1; echo "$out" | grep '^error:' >&2 || true; }
done

# The fixes' regression tests: PASS with the series, FAIL without it, with
# the failure each fix is about (a worker left after the last close; one
# that waited for its idle timeout).
regs=(fault-xa fault-install create-pending)
declare -A why=(
	[fault-xa]='iou-wrk threads still there [0-9]+ ms after the last ring was closed'
	[fault-install]='iou-wrk threads still there [0-9]+ ms after the last ring was closed'
	[create-pending]='it waited for its idle timeout'
)
for row in "rust kunit PASS" "base base FAIL"; do
	set -- $row
	name=$1 config=$2 want=$3
	src=$KSRC
	[ "$name" != base ] || src=$base_src
	rc=0
	out=$(KSRC=$src "$S/qemu-test.sh" --config "$config" --no-build --log "$CACHE/run/$config/regressions.log" "${regs[@]}" 2>&1) || rc=$?
	echo "$out" | { grep -E '^(PASS|FAIL) ' || true; } | sed "s/^/$name /" >>"$results"
	for r in "${regs[@]}"; do
		pat="^$want $r: "
		[ "$want" = PASS ] || pat="$pat.*${why[$r]}"
		if ! echo "$out" | grep -qE "$pat"; then
			fail=1
			echo "regression test $r on the $name kernel: expected a line matching '$pat', got: $(echo "$out" | grep -m1 -E "^(PASS|FAIL) $r: " || echo 'no result line')" >&2
		fi
	done
	# The base row fails by design; it must not fail for another reason.
	if [ "$want" = FAIL ] && ! echo "$out" | grep -q "^error: iowq-test: 0 passed, ${#regs[@]} failed"; then
		fail=1
		echo "the $name kernel's regression run ended otherwise than with its ${#regs[@]} tests failing: $(echo "$out" | grep -m1 '^error:' || echo 'no error')" >&2
	fi
	[ "$want" = FAIL ] || [ $rc = 0 ] || { fail=1; echo "$out" | grep '^error:' >&2 || true; }
done

printf '\n%-5s %-14s %-5s %s\n' kernel scenario result numbers
awk '{ k = $1; r = $2; s = $3; sub(/:$/, "", s); $1 = $2 = $3 = ""; printf "%-5s %-14s %-5s %s\n", k, s, r, substr($0, 4) }' "$results"
[ $fail = 0 ] || die "a scenario failed on at least one kernel, or a regression test did not pass on Rust or did not fail as expected on the unpatched base (table above; logs under $CACHE/run/)"
[ -n "$only_regressions" ] || say "all scenarios pass on the Rust, C-option and unpatched base kernels"
say "the fixes' regression tests pass on the Rust kernel and fail on the unpatched base, each for the reason its fix is about"
