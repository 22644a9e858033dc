# SPDX-License-Identifier: GPL-2.0
#
# Workbench for the io-wq exit-on-idle series.  Every target does its own
# setup; see README.md.  BASE=<dir under bases/> picks the base (default
# v7.3.4); CACHE=<dir> moves the cache (default ~/.cache/iowq-eoi).

SHELL := /bin/bash
S := scripts

.PHONY: help setup tree worktree build build-norust kunit qemu-test \
	qemu-test-matrix demo patches check-series check send-check mbox b4-prep \
	resign stress bench disasm test test-lts test-all clean min-toolchain model mutants \
	liburing

help:
	@echo "make demo          apply patches/ to the pinned base, build, boot under QEMU, run KUnit"
	@echo "make test          every test of the primary base, v7.3.4"
	@echo "make test-lts      the tests of the 6.12 LTS series (BASE=v6.12.117 make test)"
	@echo "make test-all      make test, then make test-lts (what CI runs)"
	@echo "make setup         install the toolchain, fetch the base tree"
	@echo "make tree          working kernel tree = base + git am patches/"
	@echo "make build         build the KUnit kernel (CONFIG_RUST=y)"
	@echo "make build-norust  build the same kernel with CONFIG_RUST=n"
	@echo "make kunit         build, boot under QEMU (TCG), run and parse KUnit"
	@echo "make patches       regenerate patches/ and the new files from the tree's commits"
	@echo "make check-series  patches/ applies, matches the tree and the repo's copies"
	@echo "make qemu-test     userspace scenarios (CRIU too) on the Rust kernel under QEMU"
	@echo "make qemu-test-matrix  the same on the Rust, C-option and unpatched kernels,"
	@echo "                   then liburing's suite on the kernels with the bug detectors"
	@echo "make liburing      liburing's regression suite on the Rust, C-path and unpatched kernels"
	@echo "make stress        stress programs on the kernel with the bug detectors (LONG=1: 20 min; KCSAN=1)"
	@echo "make bench         Rust vs C by instruction counts (QEMU -icount), interleaved in one run:"
	@echo "                   table, results file, CDF plot in out/ (AA=1: the C kernel against"
	@echo "                   itself, the noise floor; TCG=1: wall time instead; ROUNDS=N)"
	@echo "make disasm       the state update's machine code, C and Rust (results/disasm.txt)"
	@echo "make min-toolchain build the series with the kernel's minimum rustc/bindgen (a Debian root)"
	@echo "make model         model-check the exit-on-idle protocol on the host with the series' Rust core"
	@echo "make mutants       break the series one way at a time; KUnit and the scenarios must notice"
	@echo "make check         meta, checkpatch, rustfmt, clippy, W=1 and per-patch builds"
	@echo "make send-check    check-series + check"
	@echo "make mbox          out/<base>-<series>.mbox, one per series, with To/Cc from get_maintainer.pl"
	@echo "make b4-prep       the series on a b4-managed branch of the tree"
	@echo "make resign        re-author and re-sign the series with your git identity"

setup:
	@$(S)/setup.sh

tree: setup
	@$(S)/tree.sh

# These use the tree as it is when it holds work not yet in patches/.
worktree: setup
	@$(S)/tree.sh --keep-local

build: worktree
	@$(S)/build.sh kunit >/dev/null

build-norust: worktree
	@$(S)/build.sh norust >/dev/null

kunit: worktree
	@$(S)/kunit.sh

qemu-test: worktree
	@$(S)/qemu-test.sh --rootfs sid --expect-rust

qemu-test-matrix: worktree
	@$(S)/qemu-matrix.sh
	@$(S)/liburing.sh --debug

liburing: worktree
	@$(S)/liburing.sh

stress: worktree
	@$(S)/stress.sh

bench: worktree
	@$(S)/bench.sh $(if $(AA),--aa) $(if $(TCG),--tcg)

disasm: worktree
	@$(S)/disasm.sh

demo: worktree
	@$(S)/demo.sh

patches:
	@$(S)/patches.sh

check-series: setup
	@$(S)/check-series.sh

check: worktree
	@$(S)/check.sh

send-check: check-series check

min-toolchain: worktree
	@$(S)/min-toolchain.sh

model:
	@$(S)/model.sh $(if $(LARGE),--large)

mutants: worktree
	@$(S)/mutants.sh

mbox: setup
	@$(S)/mbox.sh

b4-prep: tree
	@$(S)/b4-prep.sh

resign: setup
	@$(S)/resign.sh

test:
	@$(S)/test.sh

# The long-term base's series (bases/v6.12.117): its own steps (TEST_STEPS).
test-lts:
	@BASE=v6.12.117 $(S)/test.sh

# Both bases, as CI (.ci/run) runs them: make test, then make test-lts, the
# second also when the first failed; fails if either did.  The second base's
# kernels build in the background, at idle priority, during the first.
test-all:
	@$(S)/test-all.sh

clean:
	@$(S)/clean.sh
