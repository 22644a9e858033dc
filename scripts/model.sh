#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The model checker of io-wq's exit-on-idle protocol, from its kernel path
# (tools/io_uring/io-wq-model, a patch of the Rust series): explores every
# interleaving within bounds, over the kernel's own
# io_uring/io_wq_idle_state.rs, and checks each result (the tree holds; the
# missed create_worker_cb() wake-up without the fix; every mutant caught).
# Exits non-zero on any failure.
#
#   scripts/model.sh [--large] [--lint] [--help]
#
# Stand-alone: needs only rustc (the tool's Makefile: no cargo, no crates).
# Builds into ${CACHE:-~/.cache/iowq-eoi}/model/.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: scripts/model.sh [--large] [--lint] [--help]

Builds tools/io_uring/io-wq-model with rustc and runs every check
(make -C tools/io_uring/io-wq-model check), then its unit tests:
  - tree: the protocol as the series has it, no property violated;
  - nowake: without fix 3 (the create_worker_cb() wake-up), as v7.3.4:
    the missed wake-up, and nothing else;
  - fifo: the same with task_work run oldest first: nothing violated;
  - mutants: each mutant must violate its property.

  --large  larger bounds (minutes, ~2 GB of memory)
  --lint   also check rustfmt and clippy (-D warnings) on the tool
  --help   this text

Environment: CACHE (default ~/.cache/iowq-eoi) holds the binaries.
USAGE
}

large=0
lint=0
for arg in "$@"; do
	case $arg in
	--large) large=1 ;;
	--lint) lint=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "error: unknown argument '$arg'" >&2
		usage >&2
		exit 2
		;;
	esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tool=$repo/tools/io_uring/io-wq-model
# Debian's toolchain (rustc-web), as the kernel builds use it, before any
# other on PATH (rustup's in ~/.cargo/bin, say).
tc() { if [ -x "/usr/bin/$1" ]; then echo "/usr/bin/$1"; else command -v "$1" || true; fi; }
rustc=$(tc rustc) rustfmt=$(tc rustfmt) clippy=$(tc clippy-driver)
[ -n "$rustc" ] || {
	echo "error: no rustc; install Debian's rustc-web (or rustc)" >&2
	exit 1
}
out=${CACHE:-$HOME/.cache/iowq-eoi}/model/
mkdir -p "$out"

if [ "$lint" = 1 ]; then
	"$rustfmt" --check --edition 2021 "$tool/main.rs"
	[ -n "$clippy" ] || {
		echo "error: no clippy-driver; install Debian's rust-clippy" >&2
		exit 1
	}
	for t in "" --test; do
		nice -n 10 "$clippy" --edition=2021 $t -o "$out/clippy$t" "$tool/main.rs" -D warnings
	done
	echo "==> tools/io_uring/io-wq-model: rustfmt and clippy clean"
fi

args=
[ "$large" = 0 ] || args=--large
echo "==> io-wq-model, bounds: $([ "$large" = 1 ] && echo large || echo default) ($("$rustc" --version))"
# What it printed is the results file (README quotes it): the series of
# this repo's commit, whose io_wq_idle_state.rs it checked.
results=$repo/bases/v7.3.4/results/model$([ "$large" = 0 ] || echo -large).txt
mkdir -p "$(dirname "$results")"
nice -n 10 make -s -C "$tool" OUTPUT="$out" RUSTC="$rustc" ${args:+ARGS=$args} check >"$results.tmp" || rc=$?
{
	echo "# io-wq-model (make -C tools/io_uring/io-wq-model check${args:+ ARGS=$args}), $(date -u '+%Y-%m-%d %H:%M') UTC"
	echo "# repo $(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo '(not a git clone)')$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes'), io_uring/io_wq_idle_state.rs $(git -C "$repo" hash-object io_uring/io_wq_idle_state.rs | cut -c1-12); $("$rustc" --version); $(nproc) CPUs"
	cat "$results.tmp"
} >"$results"
rm -f "$results.tmp"
cat "$results"
[ "${rc:-0}" = 0 ] || { echo "error: io-wq-model: not every check came out as expected (above; $results)" >&2; exit 1; }
nice -n 10 make -s -C "$tool" OUTPUT="$out" RUSTC="$rustc" test
