#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write the results files of the steps that boot and measure, from the logs
# of a run of make test: bases/<base>/results/<step>.txt for kunit, qemu,
# qemu-c and stress (qemu-matrix.sh writes its own), each the lines
# of its log that give a verdict (PASS, FAIL, SKIP and what they measured),
# under a header with the series' commit, the log and its date.  The
# covers and README quote these files (scripts/claims.py checks that they
# do).  A step whose pass was kept from an earlier run (scripts/test.sh's
# KEPT_STEPS) keeps its file.  scripts/test.sh calls it at the end of a
# run of every step.
#
# usage: scripts/results.sh <log dir of the run, $CACHE/logs/test-<date>>
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || die "usage: $0 <log dir>, e.g. $CACHE/logs/test-<date> (make test prints it at its end)"
logs=$(realpath -m "$1")
[ -d "$logs" ] || die "no log dir $logs: give the one that make test printed at its end ('logs in ...')"
# The series and repo commits the run tested: its run.txt (test.sh writes
# it), else the tree's series branch as it is now.
if [ -f "$logs/run.txt" ]; then
	read -r series repo <"$logs/run.txt"
else
	series=$(git -C "$KSRC" rev-parse --short=12 series 2>/dev/null) ||
		die "no series branch in $KSRC and no $logs/run.txt: run 'make tree' (BASE=$BASE) first"
	repo=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)')
fi
mkdir -p "$BASE_DIR/results"
n=0
for step in kunit qemu qemu-c stress; do
	log=$logs/$step.log
	[ -f "$log" ] || continue
	out=$BASE_DIR/results/$step.txt
	# A pass kept from an earlier run with the same inputs measured
	# nothing: the results file of the run that measured stays.
	if grep -q 'with the same inputs (key ' "$log"; then
		say "results: $step was the kept pass of an earlier run; ${out#"$REPO"/} stays as that run wrote it"
		continue
	fi
	{
		echo "# $step of make test (scripts/test.sh), $BASE, $(date -u -r "$log" '+%Y-%m-%d %H:%M') UTC"
		echo "# series $series, repo $repo; the lines of ${log#"$CACHE"/} that give a verdict"
		grep -E '\b(PASS|FAIL|SKIP|PASSED|FAILED|SKIPPED)\b|Testing complete|not booted again|results of the run|^==> stress on .* wall' "$log" |
			sed -E 's/^\[[0-9:]{8}\] //' || true
	} >"$out.tmp"
	mv "$out.tmp" "$out"
	n=$((n + 1))
done
say "results: $n files in ${BASE_DIR#"$REPO"/}/results from $logs"
