#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the series with the kernel's minimum Rust toolchain.
#
#   scripts/min-toolchain.sh [--root-only | --negative]
#
# The base's scripts/min-tool-version.sh names the oldest rustc and bindgen
# the kernel supports (MIN_RUSTC and MIN_BINDGEN in bases/<base>/base.conf
# repeat them). Debian trixie ships exactly those, so a trixie root made with
# debootstrap, kept in the cache, is the build host: the tree and the build
# dir are bind-mounted into it at their own paths, in a private mount
# namespace, and scripts/build.sh runs there on config 'min' (Rust, KUnit,
# the option on). It builds rust/ (bindgen's bindings of the series'
# header, the kernel crate with the atomics patch) and io_uring/ (the
# series' Rust object and its C), not the rest of vmlinux: the question is
# whether this rustc and bindgen take the series' code, and the C
# elsewhere, the link and the symbols are the same source as the 1.96
# builds that link a vmlinux (kunit, bisect).  The step fails unless
# Kconfig recorded the minimum rustc and bindgen, and prints the versions
# it used.  If the series has the model checker (tools/io_uring/io-wq-model,
# rustc alone), the same rustc builds it and runs its checks there too.
#
# --root-only: only make the trixie root (about 2 minutes the first time).
# --negative: the control: with io_wq_idle_verdict() made a safe extern "C"
# fn, the Rust object must fail to build there with E0308 ("expected unsafe
# fn, found safe fn": #[export] compares it with the binding), which rustc
# accepts from 1.93 on. Needs a config 'min' built before; the tree is
# restored afterwards.
. "$(dirname "$0")/lib.sh"

case ${1:-} in
--root-only | --negative | "") ;;
*) die "unknown argument '$1'; see $0 --help" ;;
esac
[ -n "${MIN_RUSTC:-}" ] && [ -n "${MIN_BINDGEN:-}" ] ||
	die "bases/$BASE/base.conf sets no MIN_RUSTC/MIN_BINDGEN; copy them from the base's scripts/min-tool-version.sh"
[ "$(id -u)" = 0 ] || die "the trixie root needs root (debootstrap, chroot, bind mounts); run as root"

root=$CACHE/min-root-${MIN_SUITE:-trixie}
pkgs="rustc rust-src rustfmt bindgen clang-19 lld-19 llvm-19 libclang-19-dev make flex bison bc libelf-dev libssl-dev python3 cpio perl"
# One maker of the root at a time (scripts/prefetch.sh makes it ahead, in
# the background): a second caller waits, then finds it complete.
mkdir -p "$CACHE"
exec {lock}>"$root.lock"
flock "$lock"
if [ "$(cat "$root/.complete" 2>/dev/null)" != "$pkgs" ]; then
	command -v debootstrap >/dev/null || {
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
			die "apt-get install debootstrap failed"
	}
	need_disk "$CACHE" 4
	log=$CACHE/debootstrap-min.log
	if [ ! -x "$root/usr/bin/apt-get" ] || [ ! -f "$root/.debootstrapped" ]; then
		rm -rf "$root"
		say "debootstrap ${MIN_SUITE:-trixie} (minbase + rustc) into $root (about a minute)"
		# debootstrap may warn that base packages are left unconfigured;
		# apt-get --fix-broken below finishes them.
		debootstrap --variant=minbase --include=rustc "${MIN_SUITE:-trixie}" "$root" "$(mirror_uri)" >"$log" 2>&1 ||
			[ -x "$root/usr/bin/rustc" ] ||
			die "debootstrap of ${MIN_SUITE:-trixie} failed (log: $log); rerun, or remove $root"
		touch "$root/.debootstrapped"
	fi
	say "installing the minimum toolchain into $root: $pkgs"
	in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
	{ in_root apt-get -y -q --fix-broken install && in_root apt-get update -q &&
		in_root apt-get install -y -q --no-install-recommends $pkgs; } >>"$log" 2>&1 ||
		die "apt-get in $root failed (log: $log); rerun, or remove $root to start over"
	rm -rf "$root"/var/cache/apt/archives/*.deb
	echo "$pkgs" >"$root/.complete"
fi
flock -u "$lock"
say "minimum-toolchain root: $(chroot "$root" rustc --version), $(chroot "$root" bindgen --version)"
[ "${1:-}" = --root-only ] && exit 0

need_tree
O=$BUILD_ROOT/min
mkdir -p "$O"
# Same paths inside as outside: Kbuild records absolute paths.
for d in "$REPO" "$BASE_CACHE"; do mkdir -p "$root$d"; done
start=$SECONDS

if [ "${1:-}" = --negative ]; then
	[ -f "$O/io_uring/io_wq_idle.o" ] || die "build config min first: scripts/min-toolchain.sh"
	f=io_uring/io_wq_idle.rs
	git -C "$KSRC" diff --quiet -- "$f" || die "$KSRC/$f has uncommitted changes; commit them first"
	trap 'git -C "$KSRC" checkout -q -- "$f"' EXIT
	sed -i 's/^pub unsafe extern "C" fn io_wq_idle_verdict(/pub extern "C" fn io_wq_idle_verdict(/' "$KSRC/$f"
	git -C "$KSRC" diff --quiet -- "$f" && die "the negative control found no 'pub unsafe extern \"C\" fn io_wq_idle_verdict(' in $f; update it"
	log=$O/negative.log
	if unshare -m bash -c 'mount --bind "$1" "$2$1"; mount -t proc proc "$2/proc"
		exec chroot "$2" env -i PATH=/usr/bin:/bin make -C "$3" O="$4" LLVM=-19 \
			RUSTC=/usr/bin/rustc BINDGEN=/usr/bin/bindgen io_uring/io_wq_idle.o' \
		_ "$BASE_CACHE" "$root" "$KSRC" "$O" >"$log" 2>&1; then
		die "a safe extern \"C\" fn under #[export] built with $(chroot "$root" rustc --version): the control cannot fail (log: $log)"
	fi
	grep -q 'error\[E0308\]' "$log" && grep -q 'expected unsafe fn, found safe fn' "$log" ||
		die "the build failed, but not with E0308 'expected unsafe fn, found safe fn' (log: $log)"
	say "negative control: with a safe extern \"C\" fn under #[export], $(chroot "$root" rustc --version | cut -d' ' -f1-2) fails: $(grep -m1 'error\[E0308\]' "$log")"
	exit 0
fi
unshare -m bash -euo pipefail -c '
	mount --bind "$1" "$3$1"
	mount --bind "$2" "$3$2"
	mount -t proc proc "$3/proc"
	exec chroot "$3" env -i PATH=/usr/bin:/bin HOME=/root CACHE="$4" BASE="$5" JOBS="$6" \
		KBINDGEN=/usr/bin/bindgen LIBCLANG_PATH=/usr/lib/llvm-19/lib \
		bash -c "\"\$0\" min rust/ && \"\$0\" min io_uring/" "$1/scripts/build.sh"
' _ "$REPO" "$BASE_CACHE" "$root" "$CACHE" "$BASE" "$JOBS" >/dev/null ||
	die "the series does not build with the minimum toolchain (log: $O/build.log)"

# What Kconfig recorded is what the build used.
rustc_v=$(sed -n 's/^CONFIG_RUSTC_VERSION=//p' "$O/.config")
rustc_t=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$O/.config")
bindgen_t=$(sed -n 's/^CONFIG_BINDGEN_VERSION_TEXT="\(.*\)"$/\1/p' "$O/.config")
# CONFIG_RUSTC_VERSION is major * 100000 + minor * 100 + patch.
want_rustc=$(echo "$MIN_RUSTC" | awk -F. '{ print $1 * 1000 + $2 }')
case $rustc_v in
"$want_rustc"??) ;;
*) die "the min build used rustc $rustc_t (CONFIG_RUSTC_VERSION=$rustc_v), not $MIN_RUSTC.x; check $root" ;;
esac
[ "$bindgen_t" = "bindgen $MIN_BINDGEN" ] ||
	die "the min build used '$bindgen_t', not bindgen $MIN_BINDGEN; check $root"
grep -qx 'CONFIG_IO_WQ_IDLE_RUST=y' "$O/.config" || die "config min has no CONFIG_IO_WQ_IDLE_RUST=y"
[ -f "$O/io_uring/io_wq_idle.o" ] || die "config min built no io_uring/io_wq_idle.o"
say "built with the minimum toolchain in $((SECONDS - start)) s: $rustc_t, $bindgen_t (CONFIG_RUSTC_VERSION=$rustc_v)"

# The series' model checker (tools/io_uring/io-wq-model, rustc alone) with
# the same rustc: built, and run with its default bounds.
model=tools/io_uring/io-wq-model
if [ -f "$KSRC/$model/Makefile" ]; then
	start=$SECONDS
	mkdir -p "$O/io-wq-model"
	unshare -m bash -euo pipefail -c '
		mount --bind "$1" "$2$1"
		mount -t proc proc "$2/proc"
		exec chroot "$2" env -i PATH=/usr/bin:/bin HOME=/root \
			make -s -C "$3" OUTPUT="$4/" RUSTC=/usr/bin/rustc check test
	' _ "$BASE_CACHE" "$root" "$KSRC/$model" "$O/io-wq-model" >"$O/io-wq-model.log" 2>&1 ||
		{ tail -n 20 "$O/io-wq-model.log" >&2; die "$model does not build or its checks fail with $rustc_t (log: $O/io-wq-model.log)"; }
	say "$model with $rustc_t in $((SECONDS - start)) s: $(grep -a '^io-wq-model: ' "$O/io-wq-model.log")"
fi
