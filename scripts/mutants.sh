#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Mutation run: break the series on purpose, one way at a time, and require
# the tests to notice.  Each mutant is an edit of the tree's working copy
# (the series' Rust core, its C shims, one of the three fixes undone, or
# kernel code a scenario depends on), built incrementally in config kunit's
# build dir, then run through KUnit and, if KUnit passes, through the guest
# scenarios that should catch it: its own list, or the default one.
# A mutant that nothing kills is a missing test.  Prints the table
# mutant -> what killed it; exits non-zero if any survived.  The tree is
# restored afterwards, also on an interruption.
#
#   scripts/mutants.sh [--list] [mutant...]     default: all
#   scripts/mutants.sh --liburing [mutant...]   liburing's own test of the
#       feature (io-wq-unused-exit, scripts/liburing.sh) instead: each
#       mutant is built in the config of LIBURING_ROWS' rust row, and that
#       test must fail on it (and pass on the series first)
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

# name|file|scenarios that must fail (empty: the default list)|perl
# substitution (applied with -0: the whole file is one string).
# The same code on every base: the core (io_wq_idle_state.rs is the same
# file) and tctx.c's shim:
SHARED_MUTANTS=(
	'verdict-ignores-eoi|io_uring/io_wq_idle_state.rs||s/if matches!\(w\.state, IdleState::ExitOnIdle\)\n(\s*)\|\|/if false\n$1||/'
	'verdict-ignores-create|io_uring/io_wq_idle_state.rs||s/    if w\.create_pending \{\n        return Verdict::Stay;\n    \}\n//'
	'no-wake-on-entry|io_uring/io_wq_idle_state.rs||s/matches!\(to, IdleState::ExitOnIdle\) && old & EXIT_ON_IDLE == 0/false/'
	'tctx-never-enters|io_uring/io_wq_idle_state.rs||s/TctxEvent::NodeRemoved if no_rings => Some\(IdleState::ExitOnIdle\)/TctxEvent::NodeRemoved if no_rings => None/'
	'tctx-never-leaves|io_uring/io_wq_idle_state.rs||s/TctxEvent::NodeAdded => Some\(IdleState::KeepAlive\)/TctxEvent::NodeAdded => None/'
	'shim-ignores-entry|io_uring/tctx.c||s/(case IO_WQ_IDLE_EXIT_ON_IDLE:\n)\t\tio_wq_set_exit_on_idle\(tctx->io_wq, true\);\n/$1/'
	# KUnit's differential test (io_wq_idle_kunit.c) fails on a change of
	# either side it compares: the Rust verdict, and the C expression.
	'kunit-rust-side|io_uring/io_wq_idle_state.rs||s/w\.nr_workers > 1\)/w.nr_workers > 2)/'
	'kunit-c-side|io_uring/io_wq_idle_kunit.c||s/\(exit_mask \|\| nr_workers > 1\)/(exit_mask || nr_workers > 2)/'
)
# The primary base's glue, fixes and scenarios; a base whose glue differs
# sets GLUE_MUTANTS (and MUTANT_SCENARIOS, the default list) in base.conf.
declare -p GLUE_MUTANTS >/dev/null 2>&1 || GLUE_MUTANTS=(
	'state-bits-lost|io_uring/io_wq_idle.rs||s/state\.fetch_or\(io_wq_idle_state::EXIT_ON_IDLE, Full\)/state.xchg(io_wq_idle_state::EXIT_ON_IDLE, Full)/'
	'fix1-undone|io_uring/tctx.c||s/(\tret = io_tctx_install_node\(ctx, tctx\);\n)/\tif (IS_ENABLED(CONFIG_IO_WQ_IDLE_RUST))\n\t\tio_tctx_idle_apply(tctx, io_tctx_idle_node_added(!!tctx->io_wq));\n$1/'
	'fix2-undone|io_uring/tctx.c||s/io_tctx_idle_node_removed\(io_tctx_no_nodes\(tctx\),/io_tctx_idle_node_removed(xa_empty(\&tctx->xa),/'
	'fix3-undone|io_uring/io-wq.c||s/\tif \(test_bit\(IO_WQ_BIT_EXIT_ON_IDLE, &wq->state\)\)\n\t\twake_up_process\(worker->task\);\n//'
	# Negative controls of single scenarios' assertions: each breaks what
	# one scenario checks, and only that scenario is run.
	'criu-shim-ignores-entry|io_uring/tctx.c|criu|s/(case IO_WQ_IDLE_EXIT_ON_IDLE:\n)\t\tio_wq_set_exit_on_idle\(tctx->io_wq, true\);\n/$1/'
	'aff-exit-mask-lost|io_uring/io-wq.c|iowq-aff|s/exit_mask = !cpumask_test_cpu\(raw_smp_processor_id\(\),\n\t*wq->cpu_mask\);/exit_mask = false;/'
	'no-keepalive|io_uring/io-wq.c|bench-churn|s/acct->nr_workers, READ_ONCE\(wq->state\)/acct->nr_workers + 1, READ_ONCE(wq->state)/'
	'scm-passes-io_uring|net/core/scm.c|scm-rights|s/if \(io_is_uring_fops\(file\)\) \{/if (0 \&\& io_is_uring_fops(file)) {/'
)
MUTANTS=("${SHARED_MUTANTS[@]}" "${GLUE_MUTANTS[@]}")
# The scenarios a mutant that KUnit misses must fail.
if [ -n "${MUTANT_SCENARIOS+x}" ]; then
	SCENARIOS=("${MUTANT_SCENARIOS[@]}")
else
	SCENARIOS=(lifecycle two-rings fault-xa fault-install create-pending)
fi

by_liburing=
[ "${1:-}" != --liburing ] || { by_liburing=1; shift; }
case ${1:-} in
--list) printf '%s\n' "${MUTANTS[@]}" | awk -F'|' '{ printf "%-24s %-28s %s\n", $1, $2, ($3 == "" ? "default scenarios" : $3) }'; exit 0 ;;
esac
need_tree
[ -z "$(git -C "$KSRC" status --porcelain --untracked-files=no)" ] ||
	die "$KSRC has uncommitted changes; commit or stash them first (the mutants edit its working copy)"
want=("$@")
[ -z "$by_liburing" ] || [ ${#want[@]} -gt 0 ] ||
	die "--liburing: name the mutants (io-wq-unused-exit checks that the workers go, not every bug a mutant plants), e.g. scripts/mutants.sh --liburing shim-ignores-entry"
for w in ${want[@]+"${want[@]}"}; do
	printf '%s\n' "${MUTANTS[@]}" | cut -d'|' -f1 | grep -qx -- "$w" ||
		die "no mutant named '$w'; scripts/mutants.sh --list names them"
done

restore() { git -C "$KSRC" checkout -q -- .; }
trap restore EXIT

# scenarios_of <3rd field>: the scenarios a mutant must fail; qemu_args:
# the same with the Debian userland when CRIU is among them.
scenarios_of() { if [ -n "$1" ]; then echo "$1"; else echo "${SCENARIOS[*]}"; fi; }
qemu_args() { [[ " $* " != *" criu "* ]] || echo --rootfs sid; echo "$@"; }

# The same tests must pass without a mutant: a test that fails anyway
# would "kill" every mutant.  All the scenarios the chosen mutants use.
all=()
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r name _ list _ <<<"$m"
	[ ${#want[@]} = 0 ] || [[ " ${want[*]} " == *" $name "* ]] || continue
	for sc in $(scenarios_of "$list"); do
		[[ " ${all[*]:-} " == *" $sc "* ]] || all+=("$sc")
	done
done
restore
if [ -n "$by_liburing" ]; then
	lconfig=$(printf '%s\n' "${LIBURING_ROWS[@]}" | awk '$1 == "rust" { print $2 }')
	[ -n "$lconfig" ] || die "--liburing: LIBURING_ROWS in bases/$BASE/base.conf has no rust row"
	all=(io-wq-unused-exit)
fi
say "baseline: the series as it is must pass what the mutants must fail: ${all[*]}"
base_log=$CACHE/logs/mutant-baseline.log
mkdir -p "$(dirname "$base_log")"
if [ -n "$by_liburing" ]; then
	"$S/build.sh" "$lconfig" bzImage >"$base_log" 2>&1 &&
		"$S/liburing.sh" --rows rust --no-build --only io-wq-unused-exit >>"$base_log" 2>&1 ||
		die "the series itself fails liburing's io-wq-unused-exit (log: $base_log); fix that first"
# shellcheck disable=SC2046 # word splitting of qemu_args is intended
elif ! { "$S/build.sh" kunit bzImage && "$S/kunit.sh" &&
	"$S/qemu-test.sh" --no-build --expect-rust $(qemu_args "${all[@]}"); } >"$base_log" 2>&1; then
	die "the series itself fails KUnit or ${all[*]} (log: $base_log); fix that first"
fi

results=()
survivors=0
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r name file list expr <<<"$m"
	[ ${#want[@]} = 0 ] || [[ " ${want[*]} " == *" $name "* ]] || continue
	restore
	perl -0pi -e "$expr" "$KSRC/$file"
	git -C "$KSRC" diff --quiet -- "$file" &&
		die "mutant $name changed nothing in $file: its pattern no longer matches; update it in $0"
	say "mutant $name: $(git -C "$KSRC" diff --stat -- "$file" | head -n1 | sed 's/^ *//')"
	log=$CACHE/logs/mutant-$name.log
	mkdir -p "$(dirname "$log")"
	killed=
	if [ -n "$by_liburing" ]; then
		if ! "$S/build.sh" "$lconfig" bzImage >"$log" 2>&1; then
			killed="the build"
		elif ! "$S/liburing.sh" --rows rust --no-build --only io-wq-unused-exit >>"$log" 2>&1; then
			killed="liburing: $(grep -a -m1 'LIBURING io-wq-unused-exit' "$CACHE/run/liburing-$BASE/part/rust.log.txt" || echo failed) $(grep -a -m1 'LIBURING-OUT io-wq-unused-exit' "$CACHE/run/liburing-$BASE/part/rust.log.txt" | cut -d' ' -f3-)"
		fi
	# shellcheck disable=SC2046 # word splitting of qemu_args is intended
	elif ! "$S/build.sh" kunit bzImage >"$log" 2>&1; then
		killed="the build"
	elif ! "$S/kunit.sh" >>"$log" 2>&1; then
		killed="KUnit: $(grep -m1 -oE '\[FAILED\] [a-z_]+' "$log" || echo failed)"
	elif ! "$S/qemu-test.sh" --no-build --expect-rust $(qemu_args $(scenarios_of "$list")) >>"$log" 2>&1; then
		killed="scenarios: $(grep -m1 -oE '^FAIL [a-z-]+' "$log" || grep -m1 '^error: ' "$log" | cut -c1-60)"
	fi
	if [ -n "$killed" ]; then
		results+=("$(printf '%-24s killed by %s' "$name" "$killed")")
	else
		results+=("$(printf '%-24s SURVIVED' "$name")")
		survivors=$((survivors + 1))
	fi
	say "${results[-1]}"
done
restore
trap - EXIT
rebuild=kunit
[ -z "$by_liburing" ] || rebuild=$lconfig
say "rebuilding config $rebuild without mutants"
"$S/build.sh" "$rebuild" bzImage >/dev/null
printf '\n%-24s %s\n' mutant result
printf '%s\n' "${results[@]}"
# A run of every mutant is the results file (README quotes it); a run of
# some (names given, or --liburing) is not.
if [ ${#want[@]} = 0 ] && [ -z "$by_liburing" ]; then
	mkdir -p "$BASE_DIR/results"
	{
		echo "# scripts/mutants.sh, $BASE, every mutant, $(date -u '+%Y-%m-%d %H:%M') UTC"
		echo "# series $(git -C "$KSRC" rev-parse --short=12 series), repo $(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
		printf '%-24s %s\n' mutant result
		printf '%s\n' "${results[@]}"
	} >"$BASE_DIR/results/mutants.txt"
	say "results: $BASE_DIR/results/mutants.txt"
fi
[ "$survivors" = 0 ] || die "$survivors mutants survived: a test is missing for each"
say "all ${#results[@]} mutants killed"
