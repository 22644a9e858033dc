#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install and check the toolchain, fetch the base tree, and ask the kernel
# whether Rust is available.  Idempotent: on a ready machine it only checks.
#
#   scripts/setup.sh [--tools]     --tools: the Debian packages and bindgen
#                                  only, not the base (scripts/test-all.sh)
. "$(dirname "$0")/lib.sh"

# tool -> Debian package that provides it
PKGS=(
	/usr/bin/rustc:rustc-web
	/usr/lib/rustlib/src/rust/library:rust-web-src
	/usr/bin/rustfmt:rustfmt-web
	/usr/bin/clippy-driver:rust-web-clippy
	/usr/bin/cargo:cargo-web
	clang-19:clang-19
	ld.lld-19:lld-19
	llvm-ar-19:llvm-19
	/usr/lib/llvm-19/lib/libclang.so:libclang-19-dev
	flex:flex
	bison:bison
	bc:bc
	/usr/include/libelf.h:libelf-dev
	/usr/include/openssl/ssl.h:libssl-dev
	cpio:cpio
	xz:xz-utils
	qemu-system-x86_64:qemu-system-x86
	python3:python3
	perl:perl
	git:git
	dpkg-deb:dpkg
	pahole:dwarves
	make:make
	/usr/lib/python3/dist-packages/docutils:python3-docutils
	/usr/lib/python3.11/ensurepip:python3-venv
	cc:gcc
	/usr/lib/x86_64-linux-gnu/libc.a:libc6-dev
	gnuplot:gnuplot-nox
)

have() {
	case $1 in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null ;;
	esac
}

missing=()
for p in "${PKGS[@]}"; do
	have "${p%%:*}" || missing+=("${p##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}"
	say "installing Debian packages: ${missing[*]}"
	apt-get update -qq || die "apt-get update failed; check the network and the apt sources, then rerun"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
	for p in "${PKGS[@]}"; do
		have "${p%%:*}" || die "${p%%:*} still missing after installing; install Debian package ${p##*:} by hand"
	done
fi

# bindgen-cli from the crates registry, into the cache prefix.
BINDGEN_VERSION=0.72.1
if [ "$("$TOOLS/bin/bindgen" --version 2>/dev/null)" != "bindgen $BINDGEN_VERSION" ]; then
	command -v cargo >/dev/null || die "cargo is missing; install Debian package cargo-web (or rustup's cargo)"
	say "installing bindgen-cli $BINDGEN_VERSION from the crates registry into $TOOLS (about a minute)"
	LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install -q --locked bindgen-cli --version "$BINDGEN_VERSION" --root "$TOOLS" ||
		die "cargo install bindgen-cli $BINDGEN_VERSION failed; check that the crates registry is reachable and rerun"
fi

if [ "${1:-}" = --tools ]; then
	say "tools ready: $(/usr/bin/rustc --version), bindgen $BINDGEN_VERSION, clang-19"
	exit 0
fi
[ $# = 0 ] || die "usage: scripts/setup.sh [--tools] (--help says more)"

"$(dirname "$0")/fetch-base.sh"

stamp=$BASE_CACHE/rustavailable.ok
if [ ! -f "$stamp" ]; then
	say "checking 'make rustavailable' on $BASE_TAG"
	out=$(LIBCLANG_PATH=/usr/lib/llvm-19/lib "${KMAKE[@]}" -s rustavailable 2>&1) || {
		echo "$out" >&2
		die "the kernel says Rust is not available (see above); the toolchain is rustc-web, rust-web-src, bindgen-cli $BINDGEN_VERSION, libclang-19-dev"
	}
	echo "$out" | grep -q "Rust is available" || die "unexpected 'make rustavailable' output: $out"
	touch "$stamp"
fi
say "toolchain ready: $(/usr/bin/rustc --version), bindgen $BINDGEN_VERSION, clang-19; Rust is available on $BASE_TAG"
