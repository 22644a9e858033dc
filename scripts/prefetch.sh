#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch and make, ahead, what the steps of both bases take from the network
# and keep in the cache: the guest's Debian sid userland, packed
# (scripts/guest-rootfs.sh), liburing's tests (scripts/liburing.sh --fetch)
# and the minimum-toolchain root (scripts/min-toolchain.sh --root-only).
# Each of those takes a lock while it makes its part, so a step that needs a
# part while this makes it waits, then finds it complete.
#
#   scripts/prefetch.sh
#
# scripts/test-all.sh runs it in the background while the first base's
# setup and kernel build run: it waits mostly on the network and on the
# disk, which those leave free.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")
[ $# = 0 ] || die "usage: scripts/prefetch.sh (no arguments; --help says more)"

start=$SECONDS
t=$SECONDS
packed_rootfs sid >/dev/null
say "prefetch: sid userland packed ($((SECONDS - t)) s)"
t=$SECONDS
"$S/liburing.sh" --fetch
say "prefetch: liburing's tests built ($((SECONDS - t)) s)"
t=$SECONDS
"$S/min-toolchain.sh" --root-only
say "prefetch: minimum-toolchain root made ($((SECONDS - t)) s)"
say "prefetch: done in $((SECONDS - start)) s"
