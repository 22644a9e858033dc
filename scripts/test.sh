#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every test, in order, each with a PASS/FAIL line; ends with
# "N passed, N failed" and exits non-zero on any failure.
#
#   scripts/test.sh [step...]      default: all steps
#   scripts/test.sh --key <step>   the hash its pass is kept under (below)
#
# Each step runs in a process of its own (this script, with --run-step),
# with 'set -euo pipefail' in force and not inside an 'if' or '||': the
# first command of a step that fails ends the step and fails it, and the
# step's exit status is taken before tee's (tests/test-runner-broken.sh
# checks this).  TEST_RUNNER_SELFTEST=1 enables the steps selftest-pass and
# selftest-fail, for that test only.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

# A step whose first command fails and whose last succeeds: a runner that
# looks only at the last status (an 'if (...) | tee' one does) passes it.
selftest_fail() {
	sh -c 'echo "error: selftest-fail: its first command fails, as it should" >&2; exit 3'
	echo "selftest-fail: the last command ran after a failed one: set -e was not in force"
}

selftest_pass() {
	true
	echo "selftest-pass: every command succeeded"
}

userspace_lint() {
	cd "$REPO/tests/iowq"
	cargo fmt --check
	cargo clippy -q --release --target-dir "$CACHE/cargo-target" -- -D warnings
	echo "tests/iowq: rustfmt and clippy clean"
}

run_step() {
	case $1 in
	setup) "$S/setup.sh" ;;
	tree) "$S/tree.sh" ;;
	check-series)
		"$S/check-series.sh"
		"$S/claims.py"
		"$REPO/tests/claims-broken.sh"
		;;
	check-series-broken) "$REPO/tests/check-series-broken.sh" ;;
	runner-broken)
		"$REPO/tests/test-runner-broken.sh"
		"$REPO/tests/kept-key-broken.sh"
		;;
	qemu-verdict-broken) "$REPO/tests/qemu-verdict-broken.sh" ;;
	checkpatch-broken) "$REPO/tests/checkpatch-maintainers-broken.sh" ;;
	meta)
		"$S/check.sh" meta
		"$REPO/tests/meta-stable-broken.sh"
		"$REPO/tests/meta-on-base-broken.sh"
		;;
	checkpatch | docs | rustfmt | clippy | w1 | bisect | sigcheck) "$S/check.sh" "$1" ;;
	mbox) "$S/mbox.sh" ;;
	userspace-lint) userspace_lint ;;
	kunit) "$S/kunit.sh" ;;
	# Every scenario, then the fixes' regression tests, in one boot.
	qemu) "$S/qemu-test.sh" --rootfs sid --expect-rust $(scenario_names) fault-xa fault-install create-pending ;;
	matrix) "$S/qemu-matrix.sh" ;;
	matrix-negative) "$S/qemu-matrix.sh" --negative ;;
	# The C path of a Rust kernel: CONFIG_RUST=y, the option off (config optoff).
	qemu-c) "$S/qemu-test.sh" --config optoff --rootfs sid --expect-c $(scenario_names) create-pending ;;
	liburing) "$S/liburing.sh" ;;
	stress)
		"$S/stress.sh"
		"$S/stress.sh" --negative
		;;
	bench-smoke) "$S/bench.sh" --smoke ;;
	model)
		"$S/model.sh"
		"$REPO/tests/model-mutated-verdict.sh"
		;;
	min-toolchain)
		"$S/min-toolchain.sh"
		"$S/min-toolchain.sh" --negative
		;;
	selftest-pass | selftest-fail)
		[ "${TEST_RUNNER_SELFTEST:-}" = 1 ] ||
			die "step '$1' is for tests/test-runner-broken.sh only (it sets TEST_RUNNER_SELFTEST=1)"
		"selftest_${1#selftest-}"
		;;
	*) die "unknown test step '$1'" ;;
	esac
}

# The steps that only build and check, with no guest, give the same verdict
# for the same inputs.  So do two that boot: kunit (KUnit's cases on the
# kernel those inputs build; no timing bound among them) and liburing (liburing's
# suite on its rows' kernels, a test that fails once under TCG's timing
# booted again alone inside the step, so its pass is the suite's verdict on
# those kernels).  The steps that measure timings against bounds or draw a
# random sample (qemu, qemu-c, matrix, stress, bench-smoke) run every time.
# step_inputs <step> prints the inputs: the trees of the series and of the
# base, the config fragments the step builds with, the toolchain's
# versions, the scripts that run it, and for a step that boots the
# emulator's version, the guest and the tests it runs; a pass is kept in
# the cache under their hash, and a later run with the same hash takes it
# from there instead of building or booting again (RECHECK=1 runs it
# anyway).  A failure is never kept.  bisect's inputs are the trees of
# every prefix.
KEPT_STEPS=" clippy w1 sigcheck model min-toolchain bisect kunit liburing "
# step_arm <step>: the arm of run_step's case that runs the step, as bash
# prints it; the other arms are not among its inputs, so that adding or
# changing another step keeps its pass.
step_arm() {
	local arm
	arm=$(declare -f run_step | awk -v step="$1" '
		!on && /^ *[a-z0-9|* -]+\) *$/ {
			pat = $0; gsub(/[ )]/, "", pat); n = split(pat, alt, "|")
			for (i = 1; i <= n; i++) if (alt[i] == step) on = 1
		}
		on { print } on && /^ *;; *$/ { exit }')
	[ -n "$arm" ] || die "step_arm: no arm of run_step runs step '$1'"
	printf '%s\n' "$arm"
}
step_inputs() {
	local f
	echo "step $1"
	step_arm "$1"
	case $1 in
	model)
		cat "$REPO/io_uring/io_wq_idle_state.rs" "$S/model.sh" "$REPO/tests/model-mutated-verdict.sh"
		find "$REPO/tools/io_uring/io-wq-model" -type f | sort | xargs cat
		/usr/bin/rustc --version
		;;
	*)
		kgit rev-parse "series^{tree}" "$BASE_TAG^{tree}"
		[ "$1" != bisect ] || for f in $(kgit rev-list "$BASE_TAG..series"); do kgit rev-parse "$f^{tree}"; done
		printf '%s\n' "${KMAKE[@]}"
		cat "$S/check.sh" "$S/build.sh" "$S/lib.sh" "$S/min-toolchain.sh" "$BASE_DIR/base.conf"
		# The fragments by name, not by path: a clean clone elsewhere (CI's)
		# has the same inputs.
		for f in "$CONFIG_DIR"/*.config; do echo "${f##*/}"; cat "$f"; done
		/usr/bin/rustc --version
		/usr/bin/clippy-driver --version
		clang-19 --version | head -n1
		"$TOOLS/bin/bindgen" --version
		# The minimum toolchain's root: the versions of all its packages.
		[ "$1" != min-toolchain ] || cat "$CACHE/min-root-${MIN_SUITE:-trixie}/var/lib/dpkg/status" 2>/dev/null || true
		case $1 in
		kunit)
			cat "$S/kunit.sh"
			qemu-system-x86_64 --version | head -n1
			;;
		liburing)
			cat "$S/liburing.sh" "$S/guest-rootfs.sh" "$REPO/tests/liburing/guest-init.sh"
			qemu-system-x86_64 --version | head -n1
			# The guest's userland and liburing's built tests, as the
			# step packs them (none yet on a first run: the step makes
			# them, and the pass is keyed after it).
			sha256sum "$CACHE/rootfs-sid.cpio.gz" 2>/dev/null | cut -d' ' -f1 || true
			local bin
			bin=$CACHE/liburing/bin-$(sed -n 's/^LIBURING_VERSION=//p' "$S/liburing.sh")
			[ ! -f "$bin/.complete" ] || (cd "$bin" && LC_ALL=C sha256sum -- *.t list)
			;;
		esac
		;;
	esac
}

# --key <step>: the hash a pass of the step is kept under (tests/kept-key-broken.sh).
if [ "${1:-}" = --key ]; then
	[ $# = 2 ] && [[ $KEPT_STEPS == *" $2 "* ]] || die "usage: $0 --key <step>, a step of:$KEPT_STEPS"
	step_inputs "$2" | sha256sum | cut -c1-16
	exit 0
fi

# The step itself, in its own process: set -e (from lib.sh) is in force
# here and in the functions above, so no failure inside a step is lost.
if [ "${1:-}" = --run-step ]; then
	[ $# = 2 ] || die "usage: $0 --run-step <step>"
	if [[ $KEPT_STEPS == *" $2 "* ]]; then
		key=$(step_inputs "$2" | sha256sum | cut -c1-16)
		kept=$CACHE/verdicts/$BASE-$2-$key
		if [ -f "$kept" ] && [ "${RECHECK:-}" != 1 ]; then
			say "$2: passed on $(cat "$kept") with the same inputs (key $key: the trees, config fragments, toolchain and scripts it runs with, and for a step that boots the emulator, guest and tests); RECHECK=1 runs it again"
			exit 0
		fi
		run_step "$2"
		# Hashed again: the step may have made an input (the root).
		key=$(step_inputs "$2" | sha256sum | cut -c1-16)
		mkdir -p "$CACHE/verdicts"
		date -u '+%Y-%m-%d %H:%M UTC' >"$CACHE/verdicts/$BASE-$2-$key"
		exit 0
	fi
	run_step "$2"
	exit 0
fi

# The steps of the base: TEST_STEPS in bases/<base>/base.conf, or all of
# these (the primary base).
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(${TEST_STEPS[@]+"${TEST_STEPS[@]}"})
[ ${#steps[@]} -gt 0 ] || steps=(setup tree check-series check-series-broken runner-broken
	qemu-verdict-broken meta checkpatch checkpatch-broken docs rustfmt userspace-lint model kunit
	qemu qemu-c liburing stress bench-smoke clippy w1 min-toolchain mbox bisect)

# Steps the others cannot do without: a failure there ends the run.
essential=" setup tree "

passed=0
failed=0
failures=()
# A run of every step writes what it measured, step by step, to
# bases/<base>/results/make-test.txt (README's tables quote it).
full=
[ $# -gt 0 ] || full=1
times=()
builds_then="build dirs of $BASE there at the start"
[ -d "$BASE_CACHE/build" ] || builds_then="no build dir of $BASE at the start (cold)"
log_dir=$CACHE/logs/test-$(date +%Y%m%d-%H%M%S)
mkdir -p "$log_dir"
total_start=$SECONDS
# Busy CPU time of the whole machine (/proc/stat: all but idle and iowait),
# in clock ticks: how much of the cores a step leaves idle.
TCK=$(getconf CLK_TCK)
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
total_busy=$(busy_ticks)
for step in "${steps[@]}"; do
	start=$SECONDS
	busy=$(busy_ticks)
	log=$log_dir/$step.log
	printf '\n==== %s\n' "$step" >&2
	# Both statuses, the step's and tee's, from PIPESTATUS; set -e is off
	# only for this one pipeline, in this shell, not in the step.
	set +e
	"$BASH" "$0" --run-step "$step" 2>&1 | tee "$log" >&2
	st=("${PIPESTATUS[@]}")
	set -e
	rc=${st[0]}
	[ "${st[1]}" = 0 ] || { [ "$rc" != 0 ] || rc=${st[1]}; echo "tee could not write $log (status ${st[1]})" >&2; }
	if [ "$rc" = 0 ]; then
		printf 'PASS: %s (%d s)\n' "$step" $((SECONDS - start))
		times+=("$(printf '%-22s PASS %6d %6d' "$step" $((SECONDS - start)) $((($(busy_ticks) - busy) / TCK)))")
		passed=$((passed + 1))
	else
		reason=$(grep -m1 '^error: ' "$log" 2>/dev/null | sed 's/^error: //' || true)
		printf 'FAIL: %s (%d s): %s\n' "$step" $((SECONDS - start)) \
			"${reason:-exit status $rc; see $log}"
		times+=("$(printf '%-22s FAIL %6d %6d' "$step" $((SECONDS - start)) $((($(busy_ticks) - busy) / TCK)))")
		failed=$((failed + 1))
		failures+=("$step")
		if [[ $essential == *" $step "* ]]; then
			echo "the remaining steps need '$step'; stopping" >&2
			break
		fi
	fi
done
printf '\ntotal %d s; logs in %s\n' $((SECONDS - total_start)) "$log_dir"
# What the run tested, for scripts/results.sh.
echo "$(git -C "$KSRC" rev-parse --short=12 series 2>/dev/null || echo '(no-tree)') $(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not-a-git-clone)')" >"$log_dir/run.txt"
echo "$passed passed, $failed failed"
if [ -n "$full" ]; then
	mkdir -p "$BASE_DIR/results"
	{
		echo "# make test (scripts/test.sh, every step of $BASE), $(date -u '+%Y-%m-%d %H:%M') UTC"
		echo "# series $(git -C "$KSRC" rev-parse --short=12 series 2>/dev/null || echo '(no tree)'), repo $(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
		echo "# cache $CACHE: $builds_then; $(nproc) CPUs"
		echo "# cpu: core-seconds the machine was busy during the step (all processes, $(nproc) cores)"
		echo "# step                 result seconds    cpu"
		printf '%s\n' "${times[@]}"
		printf '%-22s %s %6d %6d\n' total "$passed/$failed" $((SECONDS - total_start)) $((($(busy_ticks) - total_busy) / TCK))
	} >"$BASE_DIR/results/make-test.txt"
	echo "results: $BASE_DIR/results/make-test.txt"
	"$S/results.sh" "$log_dir"
fi
[ "$failed" = 0 ] || { echo "failed: ${failures[*]}" >&2; exit 1; }
