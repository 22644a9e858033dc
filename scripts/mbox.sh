#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write the series as one ready-to-send mbox, with To/Cc from the tree's
# scripts/get_maintainer.pl, and check that it round-trips: applying the
# mbox to the base gives the same tree as patches/.
#
#   scripts/mbox.sh [file]      default: out/<base>.mbox
. "$(dirname "$0")/lib.sh"

out=${1:-$REPO/out/$BASE.mbox}
"$(dirname "$0")/fetch-base.sh"
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# To: the maintainers and lists; Cc: reviewers and the rest.
mapfile -t patches < <(series_patches)
to=$(cd "$KSRC" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
	--nor --no-l "${patches[@]}" | paste -sd, | sed 's/,/, /g')
lists=$(cd "$KSRC" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
	--no-m --no-r --l "${patches[@]}" | paste -sd, | sed 's/,/, /g')
reviewers=$(cd "$KSRC" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
	--no-m --r --no-l "${patches[@]}" | paste -sd, | sed 's/,/, /g')
cc="$lists${reviewers:+, $reviewers}"
# RFC 2047 for names that are not ASCII.
encode() {
	python3 -c 'import email.utils, sys
print(", ".join(email.utils.formataddr(a, charset="utf-8") for a in email.utils.getaddresses([sys.argv[1]])))' "$1"
}
to=$(encode "$to")
cc=$(encode "$cc")
[ -n "$to" ] || die "get_maintainer.pl found no maintainer for the series"

: >"$out"
for p in "$SERIES_DIR/0000-cover-letter.patch" "${patches[@]}"; do
	awk -v to="$to" -v cc="$cc" '
		!done && /^Subject: / { print "To: " to; print "Cc: " cc; done = 1 }
		{ print }' "$p" >>"$out"
	echo >>"$out"
done

# Round trip: split the mbox and apply the mails to the base in a scratch
# index, as series_tree does for patches/ (git apply skips mail headers).
mkdir -p "$tmp/mails"
n=$(git mailsplit -o"$tmp/mails" "$out")
mkdir -p "$tmp/split"
for m in $(seq 2 "$n"); do
	cp "$tmp/mails/$(printf %04d "$m")" "$tmp/split/$(printf %04d $((m - 1)))-mail.patch"
done
got=$(SERIES_DIR=$tmp/split series_tree)
want=$(series_tree)
[ "$got" = "$want" ] || die "the mbox gives tree $got, patches/ gives $want"
say "wrote $out: $((n - 1)) patches and a cover letter; it applies to $BASE_TAG and gives the same tree as patches/"
say "To: $to"
say "Cc: $cc"
