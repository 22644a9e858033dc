#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 'make check-series' and 'make tree' must fail, naming the patch, on a
# series with a patch that does not apply, and leave the tree untouched.
. "$(dirname "$0")/../scripts/lib.sh"

need_tree
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$SERIES_DIR"/. "$tmp"/
# Break a context line of the last patch: the first one after its first @@.
victim=$(SERIES_DIR=$tmp series_patches | tail -n1)
rel=${victim#"$tmp"/}
line=$(awk '/^@@/ { h = 1; next } h && /^ ./ { print NR; exit }' "$victim")
[ -n "$line" ] || die "no context line found in $rel"
sed -i "${line}s/^ \(.*\)$/ \1 BROKEN/" "$victim"

head_before=$(git -C "$KSRC" rev-parse HEAD)
fail=0
for cmd in check-series tree; do
	rc=0
	out=$(SERIES_DIR=$tmp "$REPO/scripts/$cmd.sh" 2>&1) || rc=$?
	if [ $rc = 0 ]; then
		echo "  $cmd.sh passed on a broken series" >&2
		fail=1
	elif ! grep -q "error: patch $rel does not apply to $BASE_TAG" <<<"$out"; then
		echo "  $cmd.sh failed, but without naming $rel:" >&2
		echo "$out" | tail -n 5 >&2
		fail=1
	else
		echo "  $cmd.sh: $(grep '^error: ' <<<"$out")"
	fi
done
[ "$(git -C "$KSRC" rev-parse HEAD)" = "$head_before" ] || { echo "  the tree's HEAD moved" >&2; fail=1; }
[ -z "$(git -C "$KSRC" status --porcelain)" ] || { echo "  the tree was left dirty" >&2; fail=1; }
[ $fail = 0 ] || die "check-series/tree do not handle a broken patch as they should (above)"
say "a broken $rel is refused by check-series and tree, naming it; the tree is untouched"
