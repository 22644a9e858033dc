#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate the series directories from the tree's commits.
#
#   scripts/patches.sh [outdir]     default: bases/<base>/patches
#
# One directory per series (SERIES_SETS in base.conf): the first is base
# tag..<its branch>, each next one <previous branch>..<its branch>.  Each
# cover letter's subject and text come from bases/<base>/covers/<dir>; git
# adds the shortlog, the diffstat, base-commit: (the base tag) and, for a
# series on top of another, the prerequisite-patch-id of each patch it needs
# (none for a series that applies to the base itself, SERIES_ON_BASE).
# The output is the same on every machine: no commit ids ("From 0000..."),
# a fixed cover-letter date, no git version signature.
. "$(dirname "$0")/lib.sh"

case ${1:-} in -h | --help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
out=${1:-$SERIES_DIR}
need_tree
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

from=$BASE_TAG
for set in "${SERIES_SETS[@]}"; do
	dir=$(set_dir "$set") branch=$(set_branch "$set") cover=$BASE_DIR/covers/$(set_dir "$set")
	[ -f "$cover" ] || die "no cover letter text at ${cover#"$REPO"/}"
	kgit rev-parse -q --verify "$branch" >/dev/null ||
		die "no branch $branch in $KSRC; run 'make tree'"
	[ "$(kgit rev-list --count "$from..$branch")" -gt 0 ] ||
		die "branch $branch in $KSRC has no commits on top of $from"
	kgit config "branch.$branch.description" "$(cat "$cover")"
	kgit format-patch -q -o "$tmp/$dir" --cover-letter --cover-from-description=subject \
		--subject-prefix="$(set_prefix "$set")" --base="$BASE_TAG" --zero-commit \
		--no-signature --numbered "$from..$branch"
	# A series on the base needs none of the patches before it in the tree.
	! set_on_base "$set" || sed -i '/^prerequisite-patch-id: /d' "$tmp/$dir/0000-cover-letter.patch"
	# The cover letter is dated now; pin it to the date of the last patch.
	last=$(ls "$tmp/$dir"/*.patch | tail -n1)
	sed -i "s/^Date: .*/$(grep -m1 '^Date: ' "$last" | sed 's/[\/&]/\\&/g')/" "$tmp/$dir/0000-cover-letter.patch"
	from=$branch
done

mkdir -p "$out"
find "$out" -name '*.patch' -delete
find "$out" -mindepth 1 -type d -empty -delete
cp -r "$tmp"/. "$out"/
say "wrote $(find "$out" -name '*.patch' | wc -l) files to ${out#"$REPO"/}: $(cd "$out" && echo */ | tr -d /)"

# The tree's series branch is now saved; and, for the primary base, the new
# files the series adds, at their kernel paths in this repo.
[ "$out" != "$SERIES_DIR" ] || git -C "$KSRC" rev-parse series >"$KSRC/.git/series-applied"
if [ "$out" = "$SERIES_DIR" ] && [ "${NEW_FILES_IN_REPO:-0}" = 1 ]; then
	rm -rf "${REPO:?}/io_uring" "$REPO/rust" "$REPO/tools" "$REPO/Documentation"
	n=0
	while read -r f; do
		mkdir -p "$REPO/$(dirname "$f")"
		kgit show "series:$f" >"$REPO/$f"
		n=$((n + 1))
	done < <(kgit diff --name-only --diff-filter=A "$BASE_TAG" series -- io_uring rust tools Documentation)
	say "copied the $n files the series adds to io_uring/, rust/, tools/, Documentation/"
fi
