#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main job: the series on the pinned base, built, booted under QEMU;
# KUnit, then a process whose iou-wrk worker appears, survives idle while
# its ring is open, and exits once the ring is closed.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

"$S/kunit.sh"
"$S/qemu-test.sh" --expect-rust lifecycle
