#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every test, in order, each with a PASS/FAIL line; ends with
# "N passed, N failed" and exits non-zero on any failure.
#
#   scripts/test.sh [step...]      default: all steps
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(setup tree check-series check-series-broken meta checkpatch
	docs rustfmt userspace-lint kunit qemu stress bench-smoke clippy w1 mbox bisect)

# Steps the others cannot do without: a failure there ends the run.
essential=" setup tree "

run_step() {
	case $1 in
	setup) "$S/setup.sh" ;;
	tree) "$S/tree.sh" ;;
	check-series) "$S/check-series.sh" ;;
	check-series-broken) "$REPO/tests/check-series-broken.sh" ;;
	meta | checkpatch | docs | rustfmt | clippy | w1 | bisect) "$S/check.sh" "$1" ;;
	mbox) "$S/mbox.sh" ;;
	userspace-lint)
		cd "$REPO/tests/iowq"
		cargo fmt --check
		cargo clippy -q --release --target-dir "$CACHE/cargo-target" -- -D warnings
		echo "tests/iowq: rustfmt and clippy clean"
		;;
	kunit) "$S/kunit.sh" ;;
	qemu) "$S/qemu-test.sh" --rootfs sid --expect-rust ;;
	stress) "$S/stress.sh" ;;
	bench-smoke) "$S/bench.sh" --smoke ;;
	*) die "unknown test step '$1'" ;;
	esac
}

passed=0
failed=0
failures=()
log_dir=$CACHE/logs/test-$(date +%Y%m%d-%H%M%S)
mkdir -p "$log_dir"
total_start=$SECONDS
for step in "${steps[@]}"; do
	start=$SECONDS
	printf '\n==== %s\n' "$step" >&2
	if (run_step "$step") 2>&1 | tee "$log_dir/$step.log" >&2; then
		printf 'PASS: %s (%d s)\n' "$step" $((SECONDS - start))
		passed=$((passed + 1))
	else
		printf 'FAIL: %s (%d s): %s\n' "$step" $((SECONDS - start)) \
			"$(grep -m1 '^error: ' "$log_dir/$step.log" | sed 's/^error: //' || echo "see $log_dir/$step.log")"
		failed=$((failed + 1))
		failures+=("$step")
		if [[ $essential == *" $step "* ]]; then
			echo "the remaining steps need '$step'; stopping" >&2
			break
		fi
	fi
done
printf '\ntotal %d s; logs in %s\n' $((SECONDS - total_start)) "$log_dir"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] || { echo "failed: ${failures[*]}" >&2; exit 1; }
