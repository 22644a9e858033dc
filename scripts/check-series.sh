#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check the series directory:
#  1. it applies cleanly to the pinned base;
#  2. io_uring/, rust/, tools/ and Documentation/ of this repo hold exactly the files
#     the series adds, byte for byte;
#  3. it is what 'make patches' produces from the tree's commits.
. "$(dirname "$0")/lib.sh"

"$(dirname "$0")/fetch-base.sh"
mapfile -t patches < <(series_patches)
[ ${#patches[@]} -gt 0 ] || die "no patches in $SERIES_DIR"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Apply to the base in a scratch index; the tree's files are not touched.
tree=$(series_tree)
say "1. ${#patches[@]} patches apply cleanly to $BASE_TAG"

# 2. The repo's copies of the new files: all of them for the primary base;
# for another base, the files it shares with the primary one (SHARED_FILES).
added=$(git -C "$KSRC" diff --name-only --diff-filter=A "$BASE_TAG" "$tree" -- io_uring rust tools Documentation | sort)
# same_as_repo <file> <what to do if it differs>: the series adds <file>,
# and its version is byte for byte the repo's.
same_as_repo() {
	if ! grep -qxF "$1" <<<"$added"; then
		echo "  $1: in this repo, but the series does not add it" >&2
		fail=1
	elif ! git -C "$KSRC" cat-file blob "$tree:$1" | cmp -s - "$REPO/$1"; then
		echo "  $1: differs from the series' version; $2" >&2
		fail=1
	fi
}
if [ "${NEW_FILES_IN_REPO:-0}" = 1 ]; then
	ours=$(cd "$REPO" && git ls-files --cached --others --exclude-standard -- io_uring rust tools Documentation | sort)
	while read -r f; do
		[ -z "$f" ] || same_as_repo "$f" "run 'make patches'"
	done <<<"$ours"
	while read -r f; do
		[ -n "$f" ] || continue
		grep -qxF "$f" <<<"$ours" || { echo "  $f: added by the series, missing in this repo; run 'make patches'" >&2; fail=1; }
	done <<<"$added"
	[ $fail = 0 ] && say "2. io_uring/, rust/, tools/, Documentation/ match the $(echo "$added" | grep -c .) files the series adds"
else
	for f in ${SHARED_FILES[@]+"${SHARED_FILES[@]}"}; do
		same_as_repo "$f" "the bases share it byte for byte (SHARED_FILES): change it in both series"
	done
	[ $fail = 0 ] && say "2. the ${#SHARED_FILES[@]} files shared with the primary base (${SHARED_FILES[*]:-none}) are byte for byte this repo's copies; the series' other new files live in its patches"
fi

# 3. Regenerating from the tree gives the same files.
if [ -d "$KSRC/.git" ] && git -C "$KSRC" rev-parse -q --verify series >/dev/null; then
	if [ "$(git -C "$KSRC" rev-parse 'series^{tree}')" != "$tree" ]; then
		echo "  the tree's series branch differs from $SERIES_DIR (commit in the tree, then 'make patches'; or 'make tree' to start from patches/)" >&2
		fail=1
	else
		"$(dirname "$0")/patches.sh" "$tmp/regen" 2>/dev/null
		if ! diff -ru "$SERIES_DIR" "$tmp/regen" >"$tmp/diff"; then
			head -n 40 "$tmp/diff" >&2
			echo "  $SERIES_DIR is not what 'make patches' produces (above); never edit a .patch by hand" >&2
			fail=1
		else
			say "3. ${SERIES_DIR#"$REPO"/} is what 'make patches' produces"
		fi
	fi
else
	die "no series branch in $KSRC; run 'make tree' first"
fi
[ $fail = 0 ] || die "check-series failed (see above)"
say "check-series: ok"
