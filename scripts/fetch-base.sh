#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch the pinned base tree and turn it into a git repository with one
# tagged base commit.  Idempotent: a ready cache is left alone.
#
# The tree comes from Debian's linux-source-X.Y binary package.  The mirror
# is the one this machine's apt already uses; the suite is added to a
# private apt state, so nothing system-wide changes and no binary from that
# suite is ever installed.
. "$(dirname "$0")/lib.sh"

if [ -d "$KSRC/.git" ] && git -C "$KSRC" rev-parse -q --verify "refs/tags/$BASE_TAG" >/dev/null; then
	say "base $BASE_TAG ready at $KSRC"
	exit 0
fi

APT=$CACHE/apt/$DEB_SUITE
DEBS=$CACHE/debs
DEB=$DEBS/${DEB_PACKAGE}_${DEB_VERSION//:/%3a}_all.deb
need_disk "$CACHE" 8


if [ ! -f "$DEB" ]; then
	uri=$(mirror_uri "$DEB_SUITE")
	mkdir -p "$DEBS"
	say "updating the private apt index for $DEB_SUITE"
	apt_private "$APT" "deb $uri $DEB_SUITE main" ||
		die "apt-get update for suite $DEB_SUITE failed (mirror from this machine's apt sources); check the network, then rerun"
	say "downloading $DEB_PACKAGE=$DEB_VERSION"
	if ! (cd "$DEBS" && apt-get "${APT_OPTS[@]}" -qq download "$DEB_PACKAGE=$DEB_VERSION"); then
		offered=$(apt-cache "${APT_OPTS[@]}" madison "$DEB_PACKAGE" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | tr '\n' ' ')
		die "cannot download $DEB_PACKAGE version $DEB_VERSION (pinned in bases/$BASE/base.conf); suite $DEB_SUITE offers: ${offered:-nothing}. Update the pin and its SHA-256 deliberately; no other version is taken silently"
	fi
	got=$(ls "$DEBS"/"${DEB_PACKAGE}"_*.deb 2>/dev/null | head -n1)
	[ "$got" = "$DEB" ] || mv "$got" "$DEB"
fi

sum=$(sha256sum "$DEB" | cut -d' ' -f1)
if [ -z "${DEB_SHA256:-}" ]; then
	die "bases/$BASE/base.conf has no DEB_SHA256; the downloaded $DEB_PACKAGE $DEB_VERSION has $sum: check it and pin it"
elif [ "$sum" != "$DEB_SHA256" ]; then
	mv "$DEB" "$DEB.bad"
	die "checksum mismatch for $DEB_PACKAGE $DEB_VERSION: got $sum, pinned $DEB_SHA256 (moved to $DEB.bad); rerun to download again"
fi
say "$DEB_PACKAGE $DEB_VERSION: sha256 ok"

# Unpack into a scratch directory and move it into place only when the
# base commit exists, so an interrupted run starts over cleanly.
tmp=$BASE_CACHE/linux.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
say "unpacking the kernel tree"
dpkg-deb --fsys-tarfile "$DEB" | tar -xO "./$DEB_TARBALL" | tar -xJ -C "$tmp" ||
	die "unpacking $DEB failed; delete it and rerun"
src=$tmp/$DEB_TOPDIR
grep -q "^SUBLEVEL = ${BASE_VERSION##*.}\$" "$src/Makefile" ||
	die "the tree in $DEB_PACKAGE $DEB_VERSION is not $BASE_VERSION"

# Debian's .gitignore ends with a packaging block that ignores the whole
# top level.  Cut it off: what remains is upstream's .gitignore.
sed -i '/^# Debian packaging/,$d' "$src/.gitignore"

say "creating the base commit (about 95,000 files)"
git -C "$src" init -q -b base
git -C "$src" config core.autocrlf false
git -C "$src" config gc.auto 0
git -C "$src" add -A
# Fixed identity and dates make the base commit's hash the same on every
# machine, so the base-commit: line of the series is reproducible.
GIT_AUTHOR_DATE=$BASE_DATE GIT_COMMITTER_DATE=$BASE_DATE \
	git -C "$src" -c user.name="Debian $DEB_PACKAGE" -c user.email=debian@localhost \
	commit -q -m "Linux $BASE_VERSION (Debian $DEB_PACKAGE $DEB_VERSION)"
git -C "$src" tag "$BASE_TAG"
rm -rf "$KSRC"
mv "$src" "$KSRC"
rm -rf "$tmp"
say "base $BASE_TAG ready at $KSRC ($(git -C "$KSRC" rev-parse --short HEAD))"
