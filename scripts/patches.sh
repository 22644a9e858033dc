#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate the series directory from the tree's commits (base tag..series).
#
#   scripts/patches.sh [outdir]     default: bases/<base>/patches
#
# The cover letter's subject and text come from bases/<base>/cover-letter;
# git adds the shortlog, the diffstat and base-commit:.  The output is the
# same on every machine: no commit ids ("From 0000..."), a fixed cover-letter
# date, no git version signature.
. "$(dirname "$0")/lib.sh"

out=${1:-$SERIES_DIR}
need_tree
cover=$BASE_DIR/cover-letter
[ -f "$cover" ] || die "no cover letter text at $cover"
[ "$(kgit rev-list --count "$BASE_TAG..series")" -gt 0 ] ||
	die "branch series in $KSRC has no commits on top of $BASE_TAG"

kgit config branch.series.description "$(cat "$cover")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kgit format-patch -q -o "$tmp" --cover-letter --cover-from-description=subject \
	--base="$BASE_TAG" --zero-commit --no-signature --numbered "$BASE_TAG..series"
# The cover letter is dated now; pin it to the date of the last patch.
last=$(ls "$tmp"/*.patch | tail -n1)
sed -i "s/^Date: .*/$(grep -m1 '^Date: ' "$last" | sed 's/[\/&]/\\&/g')/" "$tmp/0000-cover-letter.patch"

mkdir -p "$out"
rm -f "$out"/*.patch
mv "$tmp"/*.patch "$out"/
say "wrote $(ls "$out"/*.patch | wc -l) files to ${out#"$REPO"/}"

# The new files the series adds, at their kernel paths in this repo; and
# the tree's series branch is now saved.
if [ "$out" = "$SERIES_DIR" ]; then
	git -C "$KSRC" rev-parse series >"$KSRC/.git/series-applied"
	rm -rf "${REPO:?}/io_uring" "$REPO/rust" "$REPO/Documentation"
	n=0
	while read -r f; do
		mkdir -p "$REPO/$(dirname "$f")"
		kgit show "series:$f" >"$REPO/$f"
		n=$((n + 1))
	done < <(kgit diff --name-only --diff-filter=A "$BASE_TAG" series -- io_uring rust Documentation)
	say "copied the $n files the series adds to io_uring/, rust/, Documentation/"
fi
