#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The model checker's negative control: with verdict() in
# io_uring/io_wq_idle_state.rs mutated (the last worker exits at its idle
# timeout, "nr_workers > 1" made ">= 1"), tools/io_uring/io-wq-model must
# fail its "tree" check, on keepalive.  The mutant is made in a scratch copy
# of the two paths; the repo is not touched.
#
#   tests/model-mutated-verdict.sh [--help]
set -euo pipefail
case ${1:-} in
-h | --help) sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "error: unknown argument '$1'; see $0 --help" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rustc=/usr/bin/rustc
[ -x "$rustc" ] || rustc=$(command -v rustc) || { echo "error: no rustc; install Debian's rustc-web" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tools/io_uring" "$tmp/io_uring"
cp -a "$repo/tools/io_uring/io-wq-model" "$tmp/tools/io_uring/"
cp "$repo/io_uring/io_wq_idle_state.rs" "$tmp/io_uring/"
sed -i 's/w\.nr_workers > 1/w.nr_workers >= 1/' "$tmp/io_uring/io_wq_idle_state.rs"
if cmp -s "$repo/io_uring/io_wq_idle_state.rs" "$tmp/io_uring/io_wq_idle_state.rs"; then
	echo "error: the mutation changed nothing: verdict() has no 'w.nr_workers > 1' any more; update $0" >&2
	exit 1
fi
if out=$(nice -n 10 make -s -C "$tmp/tools/io_uring/io-wq-model" OUTPUT="$tmp/" RUSTC="$rustc" check ARGS=tree 2>&1); then
	echo "$out" | tail -n 5 >&2
	echo "error: io-wq-model passed with a mutated verdict(): it checks nothing there" >&2
	exit 1
fi
line=$(grep -m1 '  FAIL: violated: \[Keepalive' <<<"$out") || {
	echo "$out" | tail -n 5 >&2
	echo "error: io-wq-model failed with the mutated verdict(), but not on keepalive (above)" >&2
	exit 1
}
echo "==> a mutated verdict() (the last worker exits at its idle timeout) fails io-wq-model's tree check:${line#  FAIL:}"
