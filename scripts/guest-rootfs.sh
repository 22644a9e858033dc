#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A Debian sid userland for the guest, for CRIU: bookworm's criu 3.17 cannot
# parse the vDSO of a 7.x kernel, sid's 4.x can.  Made once with
# debootstrap from this machine's mirror, kept in the cache, and packed as
# an initramfs together with the test binary by scripts/qemu-test.sh.
# Prints the rootfs directory.
. "$(dirname "$0")/lib.sh"

suite=${GUEST_SUITE:-sid}
dir=$CACHE/rootfs-$suite
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi
# One debootstrap at a time (scripts/prefetch.sh makes it ahead, in the
# background): a second caller waits, then finds it complete.
mkdir -p "$CACHE"
exec {lock}>"$dir.lock"
flock "$lock"
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi
command -v debootstrap >/dev/null || {
	[ "$(id -u)" = 0 ] || die "debootstrap is missing; install Debian package debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
		die "apt-get install debootstrap failed"
}
need_disk "$CACHE" 2
rm -rf "$dir"
say "debootstrap $suite (minbase + criu) into $dir (about a minute)"
debootstrap --variant=minbase --include=criu,iproute2 "$suite" "$dir" "$(mirror_uri)" \
	>"$CACHE/debootstrap-$suite.log" 2>&1 ||
	die "debootstrap of $suite failed (log: $CACHE/debootstrap-$suite.log)"
# Trim what a test guest never needs.
rm -rf "$dir"/usr/share/{doc,man,locale,info} "$dir"/var/cache/apt/* "$dir"/var/lib/apt/lists/*
chroot "$dir" criu --version >"$dir/.criu-version" 2>&1 || true
touch "$dir/.complete"
say "guest userland: $(head -n1 "$dir/.criu-version")"
echo "$dir"
