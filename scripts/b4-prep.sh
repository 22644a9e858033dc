#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Put each series on a b4-managed branch of the tree (b4/iowq-<series>),
# with our cover letter as b4's cover and To/Cc from get_maintainer.pl,
# ready for
#   b4 send --dry-run        or        b4 send -o <dir>
# in the tree.  A series on top of another is enrolled on that one's branch,
# one that applies to the base (SERIES_ON_BASE) on the base tag.
# Rerunning recreates the branches.
. "$(dirname "$0")/lib.sh"

need_tree
# b4 from PyPI, in a virtualenv in the cache (Debian's python is
# externally managed).
export PATH=$CACHE/venv/bin:$PATH
command -v b4 >/dev/null || {
	say "installing b4 from PyPI into $CACHE/venv"
	{ python3 -m venv "$CACHE/venv" && "$CACHE/venv/bin/pip" install -q b4; } ||
		die "installing b4 from PyPI failed (needs Debian package python3-venv and PyPI)"
}
[ -z "$(git -C "$KSRC" status --porcelain --untracked-files=no)" ] ||
	die "$KSRC has uncommitted changes; commit them first"
from=$BASE_TAG
for set in "${SERIES_SETS[@]}"; do
	dir=$(set_dir "$set") series_branch=$(set_branch "$set")
	branch=b4/iowq-$dir
	kgit checkout -q series
	kgit branch -D "$branch" >/dev/null 2>&1 || true
	# A series on top of another is enrolled on that one's branch; one on
	# the base (SERIES_ON_BASE) is put on the base tag and enrolled there.
	enroll=$from
	if set_on_base "$set"; then
		enroll=$BASE_TAG
		kgit checkout -q -b "$branch" "$BASE_TAG"
		kgit cherry-pick -q "$from..$series_branch" >/dev/null || {
			kgit cherry-pick --abort || true
			kgit checkout -q series
			die "series $dir does not apply to $BASE_TAG (SERIES_ON_BASE)"
		}
	else
		kgit checkout -q -b "$branch" "$series_branch"
	fi
	(cd "$KSRC" && b4 prep -e "$enroll" >/dev/null 2>&1) || {
		kgit checkout -q series
		die "b4 prep -e $enroll failed in $KSRC"
	}
	# b4 opens the cover letter in $EDITOR; our "editor" writes our text.
	(cd "$KSRC" && EDITOR="cp $BASE_DIR/covers/$dir" b4 prep --edit-cover >/dev/null) ||
		die "b4 prep --edit-cover failed on $branch"
	extra=$(set_prefix "$set" | sed 's/ *PATCH$//')
	[ -z "$extra" ] || (cd "$KSRC" && b4 prep --set-prefixes "$extra" >/dev/null 2>&1) ||
		die "b4 prep --set-prefixes $extra failed on $branch"
	(cd "$KSRC" && b4 prep --auto-to-cc >/dev/null 2>&1) || die "b4 prep --auto-to-cc failed on $branch"
	(cd "$KSRC" && b4 prep --show-info 2>/dev/null | grep -E '^(series-range|base-commit|cover-subject)' || true) >&2

	# Check that b4 can write the messages out. It signs with patatt and
	# sends through its web endpoint unless told otherwise: for this local
	# check, no signature and a dummy SMTP server (nothing is sent with -o).
	out=$CACHE/b4-out/$dir
	rm -rf "$out"
	(cd "$KSRC" && GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=sendemail.smtpserver GIT_CONFIG_VALUE_0=/bin/true \
		b4 send --no-sign -o "$out" >/dev/null 2>&1) || die "b4 send -o $out failed in $KSRC on $branch"
	n=$(ls "$out"/*.eml 2>/dev/null | wc -l)
	[ "$n" = $(($(series_patches "$dir" | wc -l) + 1)) ] ||
		die "b4 wrote $n messages to $out for $dir, expected its patches and a cover letter"
	say "b4 branch $branch ready in $KSRC; b4 wrote $n messages to $out"
	from=$series_branch
done
kgit checkout -q series
say "to send: cd $KSRC && git checkout b4/iowq-<series> && b4 send --dry-run   (then b4 send; see 'b4 send --help' for signing and SMTP)"
