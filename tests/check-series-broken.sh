#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 'make check-series' and 'make tree' must fail, naming the patch, on a
# series with a patch that does not apply, and leave the tree untouched.
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/refused.sh"

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
	refused "$cmd.sh, a broken series" "error: patch $rel does not apply to $BASE_TAG" \
		env SERIES_DIR="$tmp" "$REPO/scripts/$cmd.sh"
done
[ "$(git -C "$KSRC" rev-parse HEAD)" = "$head_before" ] || { echo "  the tree's HEAD moved" >&2; fail=1; }
[ -z "$(git -C "$KSRC" status --porcelain)" ] || { echo "  the tree was left dirty" >&2; fail=1; }
[ $fail = 0 ] || die "check-series/tree do not handle a broken patch as they should (above)"
say "a broken $rel is refused by check-series and tree, naming it; the tree is untouched"
