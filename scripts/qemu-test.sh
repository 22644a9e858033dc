#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a built kernel under QEMU (TCG) with the userspace tests as /init,
# and run them:
#
#   scripts/qemu-test.sh [--config NAME] [--rootfs sid] [--no-build] [--log FILE]
#                        [--expect-rust|--expect-c] [scenario|--option=value...]
#
# --rootfs sid adds a Debian sid userland (scripts/guest-rootfs.sh) under the
# test binary, for the criu scenario.  --no-build boots the kernel as last
# built (scripts/bench.sh boots the same two kernels many times).  --log
# keeps the console log in FILE.  QEMU_MEM (MiB) and QEMU_TIMEOUT (s)
# override the defaults.
# The tests (tests/iowq, a Cargo crate) are built statically and packed
# into an initramfs with the kernel's own usr/gen_init_cpio.  The console
# log is kept.  A boot failure, a hang past the deadline, a failed test, or
# an oops, WARN, BUG, lockdep or RCU splat in the log fails the run.
. "$(dirname "$0")/lib.sh"

config=kunit
rootfs=
build=1
log=
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--config) config=$2; shift 2 ;;
	--rootfs) rootfs=$2; shift 2 ;;
	--no-build) build=; shift ;;
	--log) log=$2; shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
timeout=${QEMU_TIMEOUT:-300}

if [ -n "$build" ]; then
	O=$("$(dirname "$0")/build.sh" "$config" bzImage)
else
	O=$BUILD_ROOT/$config
	[ -f "$O/arch/x86/boot/bzImage" ] || die "no kernel built for config $config ($O); run scripts/build.sh $config"
fi

say "building the userspace tests (tests/iowq)"
tdir=$REPO/tests/iowq
target=x86_64-unknown-linux-gnu
(cd "$tdir" && RUSTFLAGS="-C target-feature=+crt-static" cargo build -q --release \
	--target "$target" --target-dir "$CACHE/cargo-target") ||
	die "building tests/iowq failed (see above); it needs cargo and the crates registry"
bin=$CACHE/cargo-target/$target/release/iowq-test

run=$CACHE/run/$config
mkdir -p "$run"
cat >"$run/initramfs.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/null 0666 0 0 c 1 3
dir /proc 0755 0 0
dir /tmp 1777 0 0
file /init $bin 0755 0 0
EOF
"$O/usr/gen_init_cpio" "$run/initramfs.list" >"$run/initramfs.cpio" ||
	die "gen_init_cpio failed; is CONFIG_BLK_DEV_INITRD set in config $config?"
mem=${QEMU_MEM:-1024}
if [ -n "$rootfs" ]; then
	# The userland, packed once; the kernel unpacks concatenated archives.
	dir=$(GUEST_SUITE=$rootfs "$(dirname "$0")/guest-rootfs.sh")
	packed=$CACHE/rootfs-$rootfs.cpio.gz
	if [ ! -f "$packed" ] || [ "$dir/.complete" -nt "$packed" ]; then
		say "packing the $rootfs userland into $packed"
		# Padded: the kernel looks for the next (uncompressed) archive
		# only at a 4-byte boundary after the compressed one.
		(cd "$dir" && find . -xdev ! -name .complete | cpio -o -H newc --quiet | gzip -1) >"$packed.tmp" &&
			mv "$packed.tmp" "$packed" || die "packing $dir failed"
	fi
	truncate -s %512 "$packed"
	cat "$packed" "$run/initramfs.cpio" >"$run/initramfs-$rootfs.cpio"
	initrd=$run/initramfs-$rootfs.cpio
	mem=${QEMU_MEM:-2048}
else
	initrd=$run/initramfs.cpio
fi

log=${log:-$run/console.log}
mkdir -p "$(dirname "$log")"
a=$(IFS=,; echo "${args[*]:-}")
say "booting $config under QEMU (TCG): iowq-test ${args[*]:-(all scenarios)}; console log: $log"
start=$SECONDS
rc=0
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 -accel tcg -nodefaults -display none \
	-m "$mem" -smp 2 -no-reboot -serial stdio \
	-kernel "$O/arch/x86/boot/bzImage" -initrd "$initrd" \
	-append "console=ttyS0 rdinit=/init panic=-1 kunit.enable=0 iowq.args=$a" \
	</dev/null >"$log" 2>&1 || rc=$?

grep -E '^(PASS|FAIL) ' "$log" || true
check_splats "$log"
if [ $rc = 124 ] || [ $rc = 137 ]; then
	tail -n 40 "$log" >&2
	die "the guest did not finish within $timeout s (log: $log)"
elif ! summary=$(grep -E '^iowq-test: [0-9]+ passed, [0-9]+ failed' "$log"); then
	tail -n 40 "$log" >&2
	die "the tests did not run to the end: no summary in the console log (log: $log)"
elif ! grep -q ' 0 failed' <<<"$summary"; then
	die "$summary (config $config; log: $log)"
fi
say "$summary (config $config, $((SECONDS - start)) s in QEMU)"
