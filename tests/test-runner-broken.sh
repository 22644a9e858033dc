#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 'make test's runner (scripts/test.sh) must fail a step when any command of
# it fails, not only its last one, and say so: "FAIL: <step>", the
# "N passed, N failed" line, a non-zero exit.  It runs the runner on its
# test steps only (TEST_RUNNER_SELFTEST=1; no setup, tree or build), with a
# scratch CACHE:
#
#   selftest-fail   its first command fails, its last one succeeds
#   selftest-pass   every command succeeds
#
#   tests/test-runner-broken.sh                 check scripts/test.sh
#   tests/test-runner-broken.sh --runner FILE   check another copy of it
#   tests/test-runner-broken.sh --old-runner    the negative control: the
#       last runner in git history that ran steps as 'if (run_step) | tee';
#       this test must FAIL on it (it reports PASS for selftest-fail)
#
# A runner that has no selftest-* steps gets them added to its 'case'.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

usage() { sed -n '3,19s/^# \{0,1\}//p' "$0"; }
runner=$REPO/scripts/test.sh
old=
while [ $# -gt 0 ]; do
	case $1 in
	--runner) [ $# -ge 2 ] || die "--runner needs a file"; runner=$(realpath "$2"); shift 2 ;;
	--old-runner) old=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "$old" ]; then
	# The newest version of scripts/test.sh with the masking 'if'.
	git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 || die "--old-runner needs the git history of $REPO"
	found=
	for c in $(git -C "$REPO" log --format=%H -- scripts/test.sh); do
		# shellcheck disable=SC2016 # the literal text of the old runner
		if git -C "$REPO" show "$c:scripts/test.sh" 2>/dev/null | grep -qF 'if (run_step "$step") 2>&1 | tee'; then
			git -C "$REPO" show "$c:scripts/test.sh" >"$tmp/old-test.sh"
			found=$c
			break
		fi
	done
	[ -n "$found" ] || die "no version of scripts/test.sh in git history runs steps as 'if (run_step ...) | tee'"
	say "negative control: scripts/test.sh of commit ${found:0:12}; this test must fail on it"
	runner=$tmp/old-test.sh
fi
[ -f "$runner" ] || die "no runner at $runner"

if [ "$runner" != "$REPO/scripts/test.sh" ]; then
	# Another runner: in a copy of the repo's layout, so that its
	# "$(dirname "$0")/lib.sh" finds lib.sh and lib.sh finds bases/.
	mkdir -p "$tmp/repo/scripts"
	cp "$REPO/scripts/lib.sh" "$tmp/repo/scripts/"
	ln -s "$REPO/bases" "$tmp/repo/bases"
	ln -s "$REPO/tests" "$tmp/repo/tests"
	cp "$runner" "$tmp/repo/scripts/test.sh"
	if ! grep -q 'selftest-fail' "$runner"; then
		# The same steps as scripts/test.sh's, before its catch-all.
		grep -q '^[[:space:]]*\*) die "unknown test step' "$runner" ||
			die "cannot add the selftest steps to $runner: no '*) die \"unknown test step' line in its case"
		awk '/^[[:space:]]*\*\) die "unknown test step/ {
			print "\tselftest-pass) true; echo \"selftest-pass: every command succeeded\" ;;"
			print "\tselftest-fail) sh -c '\''echo \"error: selftest-fail: its first command fails, as it should\" >&2; exit 3'\''"
			print "\t\techo \"selftest-fail: the last command ran after a failed one: set -e was not in force\" ;;"
		} { print }' "$runner" >"$tmp/repo/scripts/test.sh"
	fi
	runner=$tmp/repo/scripts/test.sh
fi

fail=0
bad() { echo "  $*" >&2; fail=1; }

# run <name> <expected exit: 0 or nonzero> <expected summary> <step...>
run() {
	local name=$1 want=$2 summary=$3 rc=0 out
	shift 3
	out=$(CACHE=$tmp/cache-$name TEST_RUNNER_SELFTEST=1 bash "$runner" "$@" 2>"$tmp/$name.err") || rc=$?
	echo "$out" >"$tmp/$name.out"
	echo "  $* -> exit $rc: $(grep -E '^(PASS|FAIL): ' <<<"$out" | tr '\n' ';' | sed 's/;$//'); $(tail -n1 <<<"$out")"
	if [ "$want" = 0 ] && [ $rc != 0 ]; then
		bad "$name: the runner exited $rc, want 0"
	elif [ "$want" != 0 ] && [ $rc = 0 ]; then
		bad "$name: the runner exited 0 with a failing step, want non-zero"
	fi
	grep -qx "$summary" <<<"$out" || bad "$name: no line '$summary' (last line: $(tail -n1 <<<"$out"))"
	local s
	for s in "$@"; do
		case $s in
		selftest-pass) grep -qE '^PASS: selftest-pass \([0-9]+ s\)$' <<<"$out" ||
			bad "$name: no 'PASS: selftest-pass (N s)' line" ;;
		selftest-fail)
			grep -qE '^FAIL: selftest-fail \([0-9]+ s\): selftest-fail: its first command fails' <<<"$out" ||
				bad "$name: no 'FAIL: selftest-fail (N s): <reason>' line (the runner passed a step whose first command failed)"
			local logs=("$tmp/cache-$name"/logs/test-*/selftest-fail.log) log
			log=${logs[0]}
			if [ ! -f "$log" ]; then
				bad "$name: no log \$CACHE/logs/test-*/selftest-fail.log"
			elif grep -q 'the last command ran' "$log"; then
				bad "$name: selftest-fail went on after its failed first command (set -e not in force in the step)"
			fi
			;;
		esac
	done
}

say "the runner ${runner#"$tmp/repo/"} on its selftest steps"
run fail nonzero '0 passed, 1 failed' selftest-fail
run pass 0 '1 passed, 0 failed' selftest-pass
run both nonzero '1 passed, 1 failed' selftest-fail selftest-pass
[ $fail = 0 ] || die "the test runner masks a failing step (above); run each step in its own process with set -euo pipefail in force, not inside 'if', and take its status from PIPESTATUS (scripts/test.sh)"
say "the runner fails a step whose first command fails (FAIL line, summary, exit status) and passes a clean one"
