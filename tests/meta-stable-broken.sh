#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# 'scripts/check.sh meta' must refuse a fix that breaks the stable rules:
# one with neither a Fixes: tag nor a word on why there is none, and one
# whose Cc: to stable disagrees with its "Not for stable:" paragraph (or
# that has neither).  Plants each in a copy of the last fix of the base's
# first *-fixes series and looks for meta's complaint about it.
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/refused.sh"

if [ "${1:-}" = --help ]; then
	sed -n '3,7s/^# \{0,1\}//p' "$0"
	exit 0
fi
[ $# = 0 ] || die "usage: $0 [--help]"

dir=
for set in "${SERIES_SETS[@]}"; do
	d=$(set_dir "$set")
	[[ $d == *-fixes ]] && { dir=$d; break; }
done
[ -n "$dir" ] || die "no *-fixes series in SERIES_SETS of $BASE_DIR/base.conf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# plant <what> <expected complaint> <sed script>: meta must fail, saying so.
fail=0
plant() {
	local victim
	rm -rf "$tmp/s" && mkdir "$tmp/s" && cp -r "$SERIES_DIR"/. "$tmp/s"/
	victim=$(SERIES_DIR=$tmp/s series_patches "$dir" | tail -n1)
	sed -i "$3" "$victim"
	cmp -s "$victim" "$(SERIES_DIR=$SERIES_DIR series_patches "$dir" | tail -n1)" &&
		die "planting '$1' changed nothing in ${victim#"$tmp/s/"}"
	refused "a fix with $1" "$2" env SERIES_DIR="$tmp/s" "$REPO/scripts/check.sh" meta
}
plant "no Fixes: tag and no word on why" "no Fixes: <12-char hash>" \
	'/^Fixes: /d; s/no Fixes: tag/no tag/'
last=$(series_patches "$dir" | tail -n1)
if grep -q '^Not for stable: ' "$last"; then
	plant "'Not for stable:' and a Cc: to stable" "has a Cc: to stable" \
		'0,/^Signed-off-by: /s//Cc: stable@vger.kernel.org\nSigned-off-by: /'
	plant "neither a Cc: to stable nor 'Not for stable:'" "no Cc: stable@vger.kernel.org" \
		's/^Not for stable: /For stable or not: /'
else
	plant "neither a Cc: to stable nor 'Not for stable:'" "no Cc: stable@vger.kernel.org" \
		'/^Cc: stable@vger.kernel.org$/d'
fi
[ $fail = 0 ] || die "meta does not hold the fixes to the stable rules (above)"
say "meta refuses a fix of $dir that breaks the stable rules (Fixes:, Cc: stable)"
