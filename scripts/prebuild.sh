#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build ahead the kernels a base's steps boot, so that its 'make test'
# finds them built: the base fetched and the tree made (scripts/setup.sh,
# scripts/tree.sh), then the kunit config and the kernel of every row of
# MATRIX_ROWS, MATRIX_REG_ROWS and LIBURING_ROWS in bases/<base>/base.conf,
# each once, with the same scripts/build.sh call the step makes (a row with
# a commit: that commit built in place, BUILD_REV).  Nothing is tested here;
# the steps still check every kernel they boot.
#
#   BASE=<base> scripts/prebuild.sh
#
# scripts/test-all.sh runs it for the second base in the background, at
# idle CPU and I/O priority, while the first base's steps run: it uses the
# cores those steps leave idle.  It must be done before that base's steps
# start: they check out other commits of the same tree.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")
[ $# = 0 ] || die "usage: BASE=<base> scripts/prebuild.sh (no arguments; --help says more)"

start=$SECONDS
"$S/setup.sh"
"$S/tree.sh"

# "<config>" or "<config> <commit>", in the order the steps boot them.
kernels=(kunit)
for row in ${MATRIX_ROWS[@]+"${MATRIX_ROWS[@]}"}; do
	read -r _ cfg _ rev <<<"$row"
	kernels+=("$cfg${rev:+ $rev}")
done
for row in ${MATRIX_REG_ROWS[@]+"${MATRIX_REG_ROWS[@]}"}; do
	read -r _ cfg _ rev <<<"$row"
	kernels+=("$cfg${rev:+ $rev}")
done
for row in ${LIBURING_ROWS[@]+"${LIBURING_ROWS[@]}"}; do
	read -r _ cfg rev <<<"$row"
	kernels+=("$cfg${rev:+ $rev}")
done

declare -A done_=()
for k in "${kernels[@]}"; do
	[ -z "${done_[$k]+set}" ] || continue
	done_[$k]=1
	read -r cfg rev <<<"$k"
	t=$SECONDS
	BUILD_REV=${rev:-} "$S/build.sh" "$cfg" bzImage >/dev/null
	say "prebuild $BASE: $cfg${rev:+ at $rev} ready ($((SECONDS - t)) s)"
done
say "prebuild $BASE: ${#done_[@]} kernels ready in $((SECONDS - start)) s"
