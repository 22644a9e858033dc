#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scripts/claims.py must fail on a number that no results file holds.
# Plants one in a copy of the repo's texts: a measured number of a cover
# letter (the first with a decimal point that claims.py finds in a results
# file) changed in its last digit to a number no results file has, and the
# same in a table of README.md;
# claims.py must name each.
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/refused.sh"

[ $# = 0 ] || die "usage: $0 [--help]"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$REPO/README.md" "$REPO/bases" "$tmp"/
# claims.py reads the results files as committed too (a run of make test
# rewrites them in the working tree): the copy has those as <file>.HEAD.
git -C "$REPO" ls-tree -r --name-only HEAD -- bases | grep -E '^bases/[^/]+/(results/[^/]+|bench/[^/]+\.txt)$' |
	while read -r f; do git -C "$REPO" show "HEAD:$f" >"$tmp/$f.HEAD"; done || true
ok=$("$REPO/scripts/claims.py" --repo "$tmp" --verbose 2>&1) ||
	die "claims.py fails on the repo as it is; fix that first: $(grep -m1 'is in no results file' <<<"$ok")"
fail=0
# plant <pattern of claims.py's "ok <file>:<line>: <words>" lines>
plant() {
	local hit file line words new
	hit=$(grep -m1 -E "$1" <<<"$ok") || die "no measured number matching '$1' in the texts to plant a mismatch in"
	file=${hit#  ok }; file=${file%%:*}
	line=${hit#*"$file":}; line=${line%%:*}
	words=${hit#*"$file:$line": }
	# The number with its last digit raised until no results file has it.
	local num unit k cand
	num=$(grep -oE '^[0-9]+(\.[0-9]+)?' <<<"$words") unit=${words#"$num"}
	new=
	for k in 1 2 3 4 5 6 7 8 9 11 13 17 19 23 29 31 37; do
		cand=$(awk -v n="$num" -v k="$k" 'BEGIN { d = index(n, ".") ? length(n) - index(n, ".") : 0; printf "%.*f", d, n + k / 10 ^ d }')
		grep -rqw -- "$cand" "$tmp"/bases/*/results "$tmp"/bases/*/bench 2>/dev/null || { new=$cand$unit; break; }
	done
	[ -n "$new" ] || die "every number near '$words' is in a results file; no mismatch to plant"
	cp "$REPO/$file" "$tmp/$file"
	sed -i "${line}s/$(sed 's/[.[\*^$/]/\\&/g' <<<"$words")/$new/" "$tmp/$file"
	cmp -s "$REPO/$file" "$tmp/$file" && die "could not plant '$new' for '$words' in $file:$line"
	refused "\"$words\" changed to \"$new\" in $file:$line" "$file:$line: \"$new\" is in no results file" \
		"$REPO/scripts/claims.py" --repo "$tmp"
	cp "$REPO/$file" "$tmp/$file"
}
plant '^  ok bases/[^:]+/covers/[^:]+:[0-9]+: [0-9]+\.[0-9]+ ms$'
plant '^  ok README\.md:[0-9]+: [0-9]{3,}$'
[ $fail = 0 ] || die "claims.py does not refuse numbers that no results file holds (above)"
say "claims.py refuses a measured number that no results file holds, in a cover and in README's tables"
