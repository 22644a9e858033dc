#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make the working kernel tree: branch "series" = base tag + git am of every
# series in patches/ (SERIES_SETS in base.conf), one commit per patch; each
# series' own branch ("fixes") points at its last patch.  On a patch that does not apply, say which
# one, show the failing hunk, and leave the tree as it was.
#
# The previous "series" branch is kept in the reflog; a tree with
# uncommitted changes is refused rather than overwritten.
. "$(dirname "$0")/lib.sh"

"$(dirname "$0")/fetch-base.sh"

# --keep-local (used by build, kunit, demo...): a tree with work of the
# developer's in it, uncommitted or not yet in patches/, is used as it is.
keep_local=
[ "${1:-}" != --keep-local ] || keep_local=1
has_series() { git -C "$KSRC" rev-parse -q --verify series >/dev/null; }
dirty() { [ -n "$(git -C "$KSRC" status --porcelain --untracked-files=normal)" ]; }
# The series commit that the last 'make tree' or 'make patches' left: the
# branch holds no work of its own while it still points there.
applied=$KSRC/.git/series-applied
unsaved() { [ "$(git -C "$KSRC" rev-parse series)" != "$(cat "$applied" 2>/dev/null)" ]; }

if has_series && series_matches_patches; then
	if [ -n "$keep_local" ] || ! dirty; then
		[ "$(git -C "$KSRC" symbolic-ref -q --short HEAD)" = series ] || dirty || kgit checkout -q series
		git -C "$KSRC" rev-parse series >"$applied"
		say "tree up to date: $KSRC, branch series = $BASE_TAG + patches/${keep_local:+$(dirty && echo ' (with uncommitted changes)')}"
		exit 0
	fi
fi
if [ -n "$keep_local" ] && has_series && { dirty || unsaved; }; then
	say "using the tree as it is: it has work not in patches/ ('make patches' saves it)"
	exit 0
fi

if dirty; then
	git -C "$KSRC" status --short | head -n 20 >&2
	die "$KSRC has uncommitted changes (above); commit them and run 'make patches', or discard them, then rerun"
fi
[ ! -d "$KSRC/.git/rebase-apply" ] || git -C "$KSRC" am --abort

mapfile -t patches < <(series_patches)

# Check that every patch applies before touching the tree.
want=$(series_tree)

# Commits made in the tree and not yet saved with 'make patches' are not
# thrown away silently.
if has_series && unsaved && [ -z "${FORCE:-}" ]; then
	die "branch series in $KSRC has commits that are not in patches/; run 'make patches' to keep them, or 'make tree FORCE=1' to replace them (they stay in 'git reflog series')"
fi

kgit checkout -q -B series-apply "$BASE_TAG"
for set in "${SERIES_SETS[@]}"; do
	while read -r p; do
		kgit am -q --keep-cr "$p" || {
			kgit am --abort || true
			die "git am of ${p#"$SERIES_DIR"/} failed although it applies with git apply; the tree is on branch series-apply"
		}
	done < <(series_patches "$(set_dir "$set")")
	# Each series' branch ("fixes"); "series", with everything, below.
	b=$(set_branch "$set")
	[ "$b" = series ] || kgit branch -q -f "$b" series-apply
done
[ "$(git -C "$KSRC" rev-parse 'series-apply^{tree}')" = "$want" ] || die "git am gave a different tree than git apply"
kgit branch -q -f series series-apply
kgit checkout -q series
kgit branch -q -D series-apply
git -C "$KSRC" rev-parse series >"$applied"
say "tree ready: $KSRC, branch series = $BASE_TAG + ${#patches[@]} patches in ${#SERIES_SETS[@]} series (previous series: see 'git reflog series')"
