#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a built kernel under QEMU (TCG) with the userspace tests as /init,
# and run them:
#
#   scripts/qemu-test.sh [--config NAME] [--rootfs sid] [--no-build] [--log FILE]
#                        [--icount] [--expect-rust|--expect-c] [scenario|--option=value...]
#   scripts/qemu-test.sh --check-log FILE [--expect-rust|--expect-c] [scenario...]
#
# --rootfs sid adds a Debian sid userland (scripts/guest-rootfs.sh) under the
# test binary, for the criu scenario.  --rev boots that commit of the tree,
# built in place in the config's build dir and stashed (BUILD_REV in
# scripts/build.sh).  --no-build boots the kernel as last built (scripts/bench.sh boots the same two kernels many times).  --log
# keeps the console log in FILE.  --icount boots one vCPU under TCG with
# -icount shift=0,sleep=off: the guest clock advances one nanosecond per
# instruction executed (and jumps to the next timer when the vCPU idles),
# so a guest-side timing is an instruction count (scripts/bench.sh).
# QEMU_MEM (MiB) and QEMU_TIMEOUT (s) override the defaults.
# The tests (tests/iowq, a Cargo crate) are built statically and packed
# into an initramfs with the kernel's own usr/gen_init_cpio.  The console
# log is kept.  A boot failure, a hang past the deadline, a failed test, or
# an oops, WARN, BUG, lockdep or RCU splat in the log fails the run, and so
# does a summary that does not count every scenario asked for as passed.
# --check-log runs only these checks, on a console log kept earlier.
. "$(dirname "$0")/lib.sh"

config=kunit
rev=
rootfs=
build=1
log=
check_log=
icount=
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--config) config=$2; shift 2 ;;
	--rev) rev=$2; shift 2 ;;
	--rootfs) rootfs=$2; shift 2 ;;
	--no-build) build=; shift ;;
	--log) log=$2; shift 2 ;;
	--check-log) check_log=$2; shift 2 ;;
	--icount) icount=1; shift ;;
	*) args+=("$1"); shift ;;
	esac
done
# A watchdog for a hung guest, not a bound of any test: every scenario
# has its own. All 14 scenarios, CRIU included, take about 240 s on the
# debug kernel under TCG alone, and over 300 s beside a kernel build.
timeout=${QEMU_TIMEOUT:-900}
tdir=$REPO/tests/iowq

# The scenarios iowq-test runs for these arguments, as its main() picks
# them (tests/iowq/src/main.rs): rust-path for --expect-rust, c-path for
# --expect-c, then each scenario named, or every one of its SCENARIOS list
# when none is named, then rust-calls or c-calls; --options are not
# scenarios.
all_scenarios=()
while read -r n; do all_scenarios+=("$n"); done < <(scenario_names)
[ ${#all_scenarios[@]} -gt 0 ] ||
	die "no scenario names read from 'const SCENARIOS' in $tdir/src/main.rs; make scripts/qemu-test.sh read the list as main.rs now writes it"
expected=()
names=()
for a in ${args[@]+"${args[@]}"}; do
	case $a in
	--*) ;;
	*) names+=("$a") ;;
	esac
done
[[ " ${args[*]:-} " != *" --expect-rust "* ]] || expected+=(rust-path)
[[ " ${args[*]:-} " != *" --expect-c "* ]] || expected+=(c-path)
if [ ${#names[@]} -gt 0 ]; then
	expected+=("${names[@]}")
else
	expected+=("${all_scenarios[@]}")
fi
[[ " ${args[*]:-} " != *" --expect-rust "* ]] || expected+=(rust-calls)
[[ " ${args[*]:-} " != *" --expect-c "* ]] || expected+=(c-calls)

# KCSAN (config kcsan) reports a data race wherever in the kernel it sees
# one; its profile is there for io_uring's.  kcsan_outside <console log>
# writes <log>.checked, the log without the KCSAN reports that name no
# function of io_uring or of the Rust helpers (the atomics' C side), and
# lists those it left out.  A function counts as theirs if its name is a
# word of io_uring/ or rust/helpers/ in the tree's series: a superset of
# the functions defined there (callees included), so a report of theirs is
# never taken for another's.  Every other splat stays in the copy.
kcsan_outside() {
	local log=$1 title f ours outside=()
	grep -aq 'BUG: KCSAN: ' "$log" || { cp "$log" "$log.checked"; return 0; }
	kgit rev-parse -q --verify series >/dev/null ||
		die "$log has KCSAN reports, and $KSRC has no series branch to tell io_uring's functions by: run 'make tree' first"
	while IFS= read -r title; do
		ours=
		# "data-race in f / g", "data-race in f+0x82/0x250", "assert: race in f / g"
		for f in $(sed -E 's/^.*race in //; s|\+0x[0-9a-f]+/0x[0-9a-f]+||g; s| / | |' <<<"$title"); do
			case $f in rust_helper_*) ours=1 ;; esac
			[ -n "$(kgit grep -lw -e "$f" series -- io_uring rust/helpers 2>/dev/null | head -n1)" ] && ours=1
		done
		[ -n "$ours" ] || outside+=("$title")
	done < <(grep -aoE 'BUG: KCSAN: .*race in .*' "$log" | tr -d '\r' | sort -u)
	printf '%s\n' ${outside[@]+"${outside[@]}"} | awk 'NR == FNR { if ($0 != "") out[$0] = 1; next }
		{ line = $0; sub(/\r$/, "", line); bare = line; sub(/^\[ *[0-9.]+\] /, "", bare) }
		skip && bare ~ /^=+$/ { skip = 0; next }
		skip { next }
		{ t = line; sub(/^.*BUG: KCSAN: /, "BUG: KCSAN: ", t) }
		line ~ /BUG: KCSAN: / && (t in out) { skip = 1; next }
		{ print }' - "$log" >"$log.checked"
	for title in ${outside[@]+"${outside[@]}"}; do
		say "KCSAN outside io_uring (names no function of io_uring/ or rust/helpers/), not counted: $title"
	done
}

# check_run <console log> <QEMU's exit status> <seconds>: the verdict.
check_run() {
	local log=$1 rc=$2 secs=$3 summary counts n
	grep -E '^(PASS|FAIL) ' "$log" || true
	kcsan_outside "$log"
	check_splats "$log.checked"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		tail -n 40 "$log" >&2
		die "the guest did not finish within $timeout s (log: $log)"
	elif ! summary=$(grep -E -m1 '^iowq-test: [0-9]+ passed, [0-9]+ failed' "$log" | tr -d '\r'); then
		tail -n 40 "$log" >&2
		die "the tests did not run to the end: no summary in the console log (log: $log)"
	fi
	# "<passed> <failed>"
	counts=$(sed -E 's/^iowq-test: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$summary")
	[ "${counts#* }" = 0 ] || die "$summary (config $config; log: $log)"
	[ "${counts% *}" = ${#expected[@]} ] ||
		die "$summary, but ${#expected[@]} scenarios were asked for (${expected[*]}): not every one ran and passed (config $config; log: $log)"
	for n in "${expected[@]}"; do
		grep -q "^PASS $n: " "$log" ||
			die "$summary, but no 'PASS $n:' line in the console log (asked for: ${expected[*]}; config $config; log: $log)"
	done
	say "$summary: ${expected[*]} (config $config, $secs s in QEMU)"
}

if [ -n "$check_log" ]; then
	[ -f "$check_log" ] || die "no console log at $check_log"
	check_run "$check_log" 0 0
	exit 0
fi

if [ -n "$build" ] || [ -n "$rev" ]; then
	O=$(BUILD_REV=$rev "$(dirname "$0")/build.sh" "$config" bzImage)
else
	O=$BUILD_ROOT/$config
	[ -f "$O/arch/x86/boot/bzImage" ] || die "no kernel built for config $config ($O); run scripts/build.sh $config"
fi

say "building the userspace tests (tests/iowq)"
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
	packed=$(packed_rootfs "$rootfs")
	cat "$packed" "$run/initramfs.cpio" >"$run/initramfs-$rootfs.cpio"
	initrd=$run/initramfs-$rootfs.cpio
	mem=${QEMU_MEM:-2048}
else
	initrd=$run/initramfs.cpio
fi

log=${log:-$run/console.log}
mkdir -p "$(dirname "$log")"
# The scenarios 4 at a time (iowq-test --jobs=N; IOWQ_JOBS=1 runs them one
# by one), unless the arguments say otherwise.
[[ " ${args[*]:-} " == *" --jobs="* ]] || args+=("--jobs=${IOWQ_JOBS:-4}")
a=$(IFS=,; echo "${args[*]:-}")
# icount runs the vCPUs in one host thread: one vCPU, so each instruction
# counted is the guest's one CPU.
accel=(-accel tcg -smp 2)
# shellcheck disable=SC2054 # the commas are QEMU's sub-option syntax
[ -z "$icount" ] || accel=(-accel tcg -icount shift=0,sleep=off -smp 1)
say "booting $config under QEMU (${accel[*]}): iowq-test ${args[*]:-(all scenarios)}; console log: $log"
start=$SECONDS
rc=0
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 "${accel[@]}" -nodefaults -display none \
	-m "$mem" -no-reboot -serial stdio \
	-kernel "$O/arch/x86/boot/bzImage" -initrd "$initrd" \
	-append "console=ttyS0 rdinit=/init panic=-1 kunit.enable=0 iowq.args=$a" \
	</dev/null >"$log" 2>&1 || rc=$?

check_run "$log" "$rc" $((SECONDS - start))
