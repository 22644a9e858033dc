#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write each series as one ready-to-send mbox, with To/Cc from the tree's
# scripts/get_maintainer.pl, and check that they round-trip: applying the
# mboxes to the base, in order, gives the same tree as patches/.  A series
# in MBOX_HELD_SETS (base.conf) is not ready to send: its mbox is
# <base>-<series>.held.mbox, without To: and Cc:, and no
# <base>-<series>.mbox is left in the dir.
#
#   scripts/mbox.sh [dir]      default: out/, files <base>-<series>.mbox
. "$(dirname "$0")/lib.sh"

outdir=${1:-$REPO/out}
"$(dirname "$0")/fetch-base.sh"
mkdir -p "$outdir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# RFC 2047 for names that are not ASCII.
encode() {
	python3 -c 'import email.utils, sys
print(", ".join(email.utils.formataddr(a, charset="utf-8") for a in email.utils.getaddresses([sys.argv[1]])))' "$1"
}
# --no-fixes: the tree is a tarball import without upstream history, so
# get_maintainer.pl cannot look up the authors of a Fixes: commit (git only
# says "ambiguous argument").
gm() { (cd "$KSRC" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-fixes --no-rolestats "$@") | paste -sd, | sed 's/,/, /g'; }

mkdir -p "$tmp/split"
k=0
for set in "${SERIES_SETS[@]}"; do
	dir=$(set_dir "$set")
	out=$outdir/$BASE-$dir.mbox
	held=
	if [[ " ${MBOX_HELD_SETS:-} " == *" $dir "* ]]; then
		held=1
		rm -f "$out"
		out=$outdir/$BASE-$dir.held.mbox
	fi
	mapfile -t patches < <(series_patches "$dir")
	[ ${#patches[@]} -gt 0 ] || die "no patches in ${SERIES_DIR#"$REPO"/}/$dir"
	# To: the maintainers and lists; Cc: reviewers.  Trailers (Cc: stable,
	# Cc: of a patch) are picked up by git send-email or b4 themselves.
	# MBOX_TO (base.conf) goes first: stable@ for a stable base's series,
	# those named in MBOX_TO_SETS (every series if it is unset).
	first=
	[[ -n ${MBOX_TO_SETS+x} && " $MBOX_TO_SETS " != *" $dir "* ]] || first=${MBOX_TO:-}
	to=$(gm --nor --no-l "${patches[@]}")
	to=$(encode "${first:+$first${to:+, }}$to")
	lists=$(gm --no-m --no-r --l "${patches[@]}")
	reviewers=$(gm --no-m --r --no-l "${patches[@]}")
	cc=$(encode "$lists${reviewers:+, $reviewers}")
	[ -n "$to" ] || die "get_maintainer.pl found no maintainer for series $dir"

	: >"$out"
	for p in "$SERIES_DIR/$dir/0000-cover-letter.patch" "${patches[@]}"; do
		awk -v to="$to" -v cc="$cc" -v held="$held" '
			!done && /^Subject: / { if (!held) { print "To: " to; print "Cc: " cc }; done = 1 }
			{ print }' "$p" >>"$out"
		echo >>"$out"
	done

	# Round trip: split the mbox and queue its mails after the previous
	# series', skipping the cover letter (git apply skips mail headers).
	rm -rf "$tmp/mails"
	mkdir -p "$tmp/mails"
	n=$(git mailsplit -o"$tmp/mails" "$out")
	[ "$n" = $((${#patches[@]} + 1)) ] || die "$out holds $n mails, expected ${#patches[@]} patches and a cover letter"
	for m in $(seq 2 "$n"); do
		k=$((k + 1))
		mkdir -p "$tmp/split/$dir"
		cp "$tmp/mails/$(printf %04d "$m")" "$tmp/split/$dir/$(printf %04d "$k")-mail.patch"
	done
	say "wrote ${out#"$REPO"/}: $((n - 1)) patches and a cover letter"
	if [ -n "$held" ]; then
		say "  held (MBOX_HELD_SETS): no To: or Cc:, not to be sent; when sent: To: $to; Cc: $cc"
		continue
	fi
	say "  To: $to"
	say "  Cc: $cc"
done
got=$(SERIES_DIR=$tmp/split series_tree)
want=$(series_tree)
[ "$got" = "$want" ] || die "the mboxes give tree $got, patches/ gives $want"
say "the mboxes apply to $BASE_TAG in order and give the same tree as patches/"
