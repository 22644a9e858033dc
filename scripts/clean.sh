#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Remove the build dirs of the current base (ALL=1: the whole cache, with
# the downloads, the kernel tree and any work in it).
. "$(dirname "$0")/lib.sh"

if [ -n "${ALL:-}" ]; then
	say "removing $CACHE"
	rm -rf "${CACHE:?}"
else
	say "removing $BUILD_ROOT and $CACHE/run"
	rm -rf "${BUILD_ROOT:?}" "${CACHE:?}/run"
fi
