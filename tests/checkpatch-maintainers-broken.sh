#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The MAINTAINERS half of 'scripts/check.sh checkpatch' must fail for a
# path that no MAINTAINERS section covers but THE REST ("F: *", which
# get_maintainer.pl names for any path), and pass for one that a
# subsystem's section covers.  It runs the check on these paths
# (CHECKPATCH_FILES) instead of the series' new files; checkpatch.pl runs
# on the series as usual (a few seconds; no build):
#
#   foo/bar.c                a made-up path: must fail
#   init/main.c              a real file only THE REST covers: must fail
#                            (the old check, "does get_maintainer.pl name
#                            anyone besides LKML", passed it)
#   io_uring/io_wq_idle.rs   IO_URING's "F: io_uring/": must pass
#
#   tests/checkpatch-maintainers-broken.sh [--help]
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

case ${1:-} in
-h | --help) sed -n '3,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
'') ;;
*) die "unknown argument '$1' (see --help)" ;;
esac
need_tree

fail=0
# expect <path> <pass|fail> <what the output must have>
expect() {
	local f=$1 want=$2 says=$3 rc=0 out
	out=$(CHECKPATCH_FILES=$f "$REPO/scripts/check.sh" checkpatch 2>&1) || rc=$?
	if { [ "$want" = pass ] && [ $rc = 0 ]; } || { [ "$want" = fail ] && [ $rc != 0 ]; }; then
		if grep -qF -- "$says" <<<"$out"; then
			echo "  $f: $([ "$want" = pass ] && echo passes || echo fails), as it should: $(grep -m1 -F -- "$says" <<<"$out" | sed 's/^ *//')"
			return
		fi
	fi
	echo "  $f: want $want with \"$says\", got exit $rc:" >&2
	tail -n 5 <<<"$out" | sed 's/^/    /' >&2
	fail=1
}

expect foo/bar.c fail "foo/bar.c: no MAINTAINERS section covers it but THE REST"
expect init/main.c fail "init/main.c: no MAINTAINERS section covers it but THE REST"
expect io_uring/io_wq_idle.rs pass "MAINTAINERS: io_uring/io_wq_idle.rs (IO_URING)"
[ $fail = 0 ] || die "the MAINTAINERS check of check_checkpatch (scripts/check.sh) passes an uncovered path or fails a covered one (above)"
say "check_checkpatch's MAINTAINERS check fails paths only THE REST covers and passes io_uring/ (IO_URING)"
