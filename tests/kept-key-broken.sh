#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A kept pass (scripts/test.sh's KEPT_STEPS) must not be taken when an
# input of its step changes, and must be taken when only the texts or the
# results files change (a commit of README or of a run's results keeps
# the passes that run made).  In a copy of the repo's files: each plant
# below changes one input of a step, and the step's key (scripts/test.sh
# --key) must change; an edit of README.md and of a results file must
# leave every key as it was.
. "$(dirname "$0")/../scripts/lib.sh"

[ $# = 0 ] || die "usage: $0 [--help]"
need_tree
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp -d --parents -t "$tmp")
key() { "$tmp/scripts/test.sh" --key "$1"; }
steps=(kunit liburing clippy bisect)
declare -A was=()
for s in "${steps[@]}"; do was[$s]=$(key "$s"); done
fail=0
# plant <step> <file in the repo>: a comment line appended to it.
plant() {
	local step=$1 f=$tmp/$2 now
	[ -f "$f" ] || die "no $2 in the repo to plant a change in"
	cp "$f" "$f.orig"
	echo "# planted by $0" >>"$f"
	now=$(key "$step")
	mv "$f.orig" "$f"
	if [ "$now" = "${was[$step]}" ]; then
		echo "  NOT REFUSED: $2 changed, and step $step kept its key ${was[$step]}: its pass would be taken"
		fail=1
	else
		echo "  refused: $2 changed: step $step's key ${was[$step]} -> $now"
	fi
}
plant kunit scripts/kunit.sh
plant kunit "bases/$BASE/configs/debug.config"
plant liburing scripts/liburing.sh
plant liburing tests/liburing/guest-init.sh
plant liburing "bases/$BASE/base.conf"
plant clippy scripts/build.sh
# Texts and results: no step's key moves.
echo "planted" >>"$tmp/README.md"
for f in "$tmp/bases/$BASE/results/"*.txt; do echo "# planted" >>"$f"; done
for s in "${steps[@]}"; do
	if [ "$(key "$s")" != "${was[$s]}" ]; then
		echo "  WRONGLY REFUSED: README.md and the results files changed, and step $s's key moved: a commit of a run's results would lose that run's passes"
		fail=1
	fi
done
[ $fail = 0 ] || die "scripts/test.sh's kept passes are not keyed by their inputs (above)"
say "a kept pass is keyed by its step's inputs: each planted change moved its step's key; README and results files moved none"
