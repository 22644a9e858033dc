#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Put the series on a b4-managed branch of the tree, with our cover letter
# as b4's cover and To/Cc from get_maintainer.pl, ready for
#   b4 send --dry-run        or        b4 send -o <dir>
# in the tree.  Rerunning recreates the branch.
. "$(dirname "$0")/lib.sh"

need_tree
command -v b4 >/dev/null || {
	say "installing b4 from PyPI"
	python3 -m pip install -q b4 || die "pip install b4 failed; install b4 (PyPI) by hand"
}
branch=b4/iowq-exit-on-idle
[ -z "$(git -C "$KSRC" status --porcelain --untracked-files=no)" ] ||
	die "$KSRC has uncommitted changes; commit them first"
kgit checkout -q series
kgit branch -D "$branch" >/dev/null 2>&1 || true
kgit checkout -q -b "$branch" series
(cd "$KSRC" && b4 prep -e "$BASE_TAG" >/dev/null 2>&1) || {
	kgit checkout -q series
	die "b4 prep -e $BASE_TAG failed in $KSRC"
}
# b4 opens the cover letter in $EDITOR; our "editor" writes our text.
(cd "$KSRC" && EDITOR="cp $BASE_DIR/cover-letter" b4 prep --edit-cover >/dev/null) ||
	die "b4 prep --edit-cover failed"
(cd "$KSRC" && b4 prep --auto-to-cc >/dev/null 2>&1) || die "b4 prep --auto-to-cc failed"
say "b4 branch $branch ready in $KSRC; there: b4 send --dry-run, or b4 send -o <dir>"
(cd "$KSRC" && b4 prep --show-info 2>/dev/null | grep -E '^(series-range|base-commit|cover-subject)' || true) >&2
