#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 'scripts/check.sh meta' must refuse a series of SERIES_ON_BASE (one that
# applies to the base itself) whose cover letter names a prerequisite
# patch, and one that touches a file of a series before it in the tree.
# Plants each in a copy of the series directories and looks for meta's
# complaint about it.  A base without such a series has nothing to check.
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/refused.sh"

if [ "${1:-}" = --help ]; then
	sed -n '3,7s/^# \{0,1\}//p' "$0"
	exit 0
fi
[ $# = 0 ] || die "usage: $0 [--help]"

dirs=()
for set in "${SERIES_SETS[@]}"; do
	! set_on_base "$set" || dirs+=("$(set_dir "$set")")
done
if [ ${#dirs[@]} = 0 ]; then
	say "meta-on-base: $BASE has no series in SERIES_ON_BASE; nothing to check"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# plant <dir> <file under it> <what> <expected complaint> <sed script>:
# meta must fail, saying so.
fail=0
plant() {
	local victim=$tmp/s/$1/$2
	rm -rf "$tmp/s" && mkdir "$tmp/s" && cp -r "$SERIES_DIR"/. "$tmp/s"/
	sed -i "$5" "$victim"
	cmp -s "$victim" "$SERIES_DIR/$1/$2" && die "planting '$3' changed nothing in $1/$2"
	refused "$1 with $3" "$4" env SERIES_DIR="$tmp/s" "$REPO/scripts/check.sh" meta
}
# A file the series before it in the tree touch.
first=$(set_dir "${SERIES_SETS[0]}")
taken=$(sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' $(series_patches "$first") | head -n1)
[ -n "$taken" ] || die "the first series, $first, touches no file"
for d in "${dirs[@]}"; do
	[ "$d" != "$first" ] || die "$d is the first series in SERIES_SETS; SERIES_ON_BASE is for the ones after it"
	plant "$d" 0000-cover-letter.patch "a prerequisite patch" "expected 0 (SERIES_ON_BASE" \
		"s/^base-commit: .*/&\nprerequisite-patch-id: $(printf '%040d' 0)/"
	patch=$(series_patches "$d" | tail -n1)
	plant "$d" "${patch##*/}" "a file of $first ($taken)" "touches $taken, which a series before it" \
		"0,/^diff --git /s|^diff --git |diff --git a/$taken b/$taken\n--- a/$taken\n+++ b/$taken\n&|"
done
[ $fail = 0 ] || die "meta does not hold the series on the base to their rules (above)"
say "meta refuses a series of SERIES_ON_BASE (${dirs[*]}) that names a prerequisite patch or touches a file of $first"
