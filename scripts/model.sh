#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The model checker of io-wq's exit-on-idle protocol (tests/model): explores
# every interleaving within bounds, over the kernel's own
# io_uring/io_wq_idle_state.rs. Prints each search's bounds, state count and
# runtime, the counterexample traces, and ends with the cargo test summary.
# Exits non-zero on any failure.
#
#   scripts/model.sh [--large] [--lint] [--help]
#
# Stand-alone: needs only cargo (/usr/bin/cargo, else cargo on PATH) and no
# crate from any registry. Builds into ${CACHE:-~/.cache/iowq-eoi}/cargo-target-model.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: scripts/model.sh [--large] [--lint] [--help]

Runs the model checker of io-wq's exit-on-idle protocol (tests/model) as
cargo tests:
  - the series (with fix 3, the create_worker_cb() wake-up): no violation;
  - without fix 3, as v7.3.4: the create_worker_cb() missed wake-up, and nothing else;
  - without fix 3 but task_work run oldest first: no violation;
  - one test per mutant, each expecting its violation, with its trace.

  --large  larger bounds (minutes, ~2 GB of memory; searches run one at a time)
  --lint   also check rustfmt and clippy -D warnings on tests/model
  --help   this text

Environment: CACHE (default ~/.cache/iowq-eoi) holds the cargo target dir.
EOF
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
		usage >&2
		exit 2
		;;
	esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -x /usr/bin/cargo ]; then
	cargo=/usr/bin/cargo
elif command -v cargo >/dev/null; then
	cargo=cargo
else
	echo "error: no cargo (install Debian's cargo, or rustup's)" >&2
	exit 1
fi
export CARGO_TARGET_DIR=${CACHE:-$HOME/.cache/iowq-eoi}/cargo-target-model

cd "$repo/tests/model"
if [ "$lint" = 1 ]; then
	"$cargo" fmt --check
	nice -n 10 "$cargo" clippy -q --release --all-targets -- -D warnings
	echo "==> tests/model: rustfmt and clippy clean"
fi

threads=2
if [ "$large" = 1 ]; then
	export IOWQ_MODEL_BOUNDS=large
	# A large search takes ~1.6 GB: one at a time.
	threads=1
fi
echo "==> model checker, bounds: ${IOWQ_MODEL_BOUNDS:-default}"
nice -n 10 "$cargo" test --release --lib --test protocol -- \
	--nocapture --test-threads="$threads"
