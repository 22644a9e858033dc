# SPDX-License-Identifier: GPL-2.0
#
# Workbench for the io-wq exit-on-idle series.  Every target does its own
# setup; see README.md.  BASE=<dir under bases/> picks the base (default
# v7.3.4); CACHE=<dir> moves the cache (default ~/.cache/iowq-eoi).

SHELL := /bin/bash
S := scripts

.PHONY: help setup tree worktree build build-norust kunit demo patches check-series \
	check test clean

help:
	@echo "make demo          apply patches/ to the pinned base, build, boot under QEMU, run KUnit"
	@echo "make test          every test (what CI runs)"
	@echo "make setup         install the toolchain, fetch the base tree"
	@echo "make tree          working kernel tree = base + git am patches/"
	@echo "make build         build the KUnit kernel (CONFIG_RUST=y)"
	@echo "make build-norust  build the same kernel with CONFIG_RUST=n"
	@echo "make kunit         build, boot under QEMU (TCG), run and parse KUnit"
	@echo "make patches       regenerate patches/ and the new files from the tree's commits"
	@echo "make check-series  patches/ applies, matches the tree and the repo's copies"
	@echo "make check         checkpatch, rustfmt, clippy, W=1 and per-patch builds"

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

demo: worktree
	@$(S)/demo.sh

patches:
	@$(S)/patches.sh

check-series: setup
	@$(S)/check-series.sh

check: worktree
	@$(S)/check.sh

test:
	@$(S)/test.sh

clean:
	@$(S)/clean.sh
