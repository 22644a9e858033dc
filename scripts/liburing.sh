#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# liburing's own regression suite on the base's kernels under QEMU (TCG),
# compared with the unpatched base:
#
#   scripts/liburing.sh [--debug] [--rows R1,R2] [--only T1,T2] [--no-build]
#   scripts/liburing.sh --fetch     only fetch and build liburing's tests
#
# liburing comes from Debian's source package (LIBURING_VERSION below, its
# upstream tarball pinned by SHA-256), fetched with a private apt state from
# this machine's mirror and kept in the cache.  Its test/Makefile builds
# every test on the host, liburing linked statically (the guest has no
# liburing.so), glibc from the guest's Debian sid userland.  The guest's
# /init, tests/liburing/guest-init.sh, runs them with runtests.sh's
# semantics: a per-test timeout (LIBURING_TIMEOUT, default 60 s, as
# runtests.sh), exit 77 is SKIP, any other failure is FAIL, and so is a
# kernel report after the test started; each test in its own dir on tmpfs.
# LIBURING_JOBS tests at a time (default 4), as liburing's own
# 'make -j runtests-parallel', longest first (their times in the last
# results file), then LIBURING_ALONE one at a time.
#
# The rows: LIBURING_ROWS in bases/<base>/base.conf, "<row> <config>
# [<commit>]" (with a commit, that commit of the tree built in place in the
# config's build dir: BUILD_REV in scripts/build.sh).  rust is the series
# with the option on, c the series on the C path, base the unpatched tree,
# all from one config family.  --debug: LIBURING_DEBUG_ROWS, the same on the
# kernels with the bug detectors (slower; make qemu-test-matrix).
#
# The run fails on:
#   - a regression: a test that fails or times out on rust or c, and not on
#     base, or on base only by chance (it passed both reruns alone there),
#     and does not pass both of two reruns of it alone on its row: one
#     failed rerun is enough (its name and the last lines of its output are
#     printed);
#   - io-wq-unused-exit (the feature's own test) not PASS on rust and c;
#   - on a base without exit-on-idle, each test of LIBURING_BASE_MUST_FAIL
#     not failing on base for its reason;
#   - a test that fails on base and is not in LIBURING_BASE_FAILS (the
#     known failures, each with the reason its output gives), or a listed
#     one that fails on any row for another reason.  A listed test that now
#     passes on every row is reported.
# The table (test x row: result and seconds) is written, with the series'
# commit, the date and each row's counts and wall time, to
# bases/<base>/results/liburing.txt (--debug: liburing-debug.txt).
# The base row's results are kept in the cache, keyed by its kernel, the
# tests, the guest and how they run, and taken from there while these are
# the same (see row_key; LIBURING_BOOT_ALL=1 boots it anyway).
# --rows and --only run a part, and --judge, which boots nothing, judges the
# last run's results again (after a change to the lists in base.conf); they
# write no results file.  --no-build boots the kernels as last built.
. "$(dirname "$0")/lib.sh"
S=$(dirname "$0")

LIBURING_VERSION=2.15-1
LIBURING_SUITE=sid
LIBURING_ORIG_SHA256=efd299ff27cde40a45efc7dbb97ebe40a0c461921cb462f1d62611642bb4ee86
# The tests of this version that run alone, one at a time after the others,
# because other tests running beside them make them fail: they check their
# own elapsed time against fixed bounds (the first 13), or their progress
# against a 5 s alarm (mshot-shutdown-race: "Seems stuck"), read the whole
# system's iowait from /proc/stat (iowait), or take pid + 2 for their io-wq
# worker (wq-aff); or alone they take a large part of the timeout under
# TCG, and beside three others they time out (futex, poll-many,
# poll-mshot-update, multicqes_drain: they timed out in full runs and
# passed both reruns alone, on both bases).  Found
# by running the suite 4 at a time and reading the sources; review it with
# every new LIBURING_VERSION.
LIBURING_ALONE=(7ad0e4b2f83c fadvise io-cancel io-wq-unused-exit link-timeout madvise
	min-timeout min-timeout-wait reg-wait sqpoll-sleep submit-and-wait timeout timeout-new
	mshot-shutdown-race iowait wq-aff futex poll-many poll-mshot-update multicqes_drain)

debug= only= want_rows= build=1 judge= fetch_only=
while [ $# -gt 0 ]; do
	case $1 in
	--fetch) fetch_only=1; shift ;;
	--debug) debug=1; shift ;;
	--judge) judge=1; build=; shift ;;
	--rows) want_rows=,$2,; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--no-build) build=; shift ;;
	*) die "unknown argument '$1'; usage: scripts/liburing.sh [--debug] [--rows R1,R2] [--only T1,T2] [--no-build|--judge] | --fetch (--help says more)" ;;
	esac
done
if [ -n "$debug" ]; then
	[ -n "${LIBURING_DEBUG_ROWS+x}" ] || die "bases/$BASE/base.conf has no LIBURING_DEBUG_ROWS; add the rows of the kernels with the bug detectors"
	rows=("${LIBURING_DEBUG_ROWS[@]}")
else
	[ -n "${LIBURING_ROWS+x}" ] || die "bases/$BASE/base.conf has no LIBURING_ROWS; add \"<row> <config> [<commit>]\" for rust, c and base"
	rows=("${LIBURING_ROWS[@]}")
fi
declare -p LIBURING_BASE_FAILS >/dev/null 2>&1 || declare -A LIBURING_BASE_FAILS=()
declare -p LIBURING_BASE_MUST_FAIL >/dev/null 2>&1 || declare -A LIBURING_BASE_MUST_FAIL=()
timeout=${LIBURING_TIMEOUT:-60}
par_tests=${LIBURING_JOBS:-4}
[[ $par_tests =~ ^[1-9][0-9]*$ ]] || die "LIBURING_JOBS='$par_tests': give the number of tests to run at a time in each guest (1 = runtests.sh's one by one)"

# -- liburing: fetch, check, build (once per version, in the cache) -------
upstream=${LIBURING_VERSION%-*}
LU=$CACHE/liburing
orig=$LU/liburing_$upstream.orig.tar.gz
bin=$LU/bin-$LIBURING_VERSION
mkdir -p "$LU"
# One fetch and build at a time (scripts/prefetch.sh does it ahead, in the
# background): a second caller waits, then finds it complete.
exec {lu_lock}>"$LU/.lock"
flock "$lu_lock"
if [ ! -f "$bin/.complete" ]; then
	if [ ! -f "$orig" ]; then
		mkdir -p "$LU/dl"
		say "fetching Debian's source package liburing=$LIBURING_VERSION ($LIBURING_SUITE)"
		uri=$(mirror_uri "$LIBURING_SUITE")
		apt_private "$CACHE/apt/$LIBURING_SUITE-src" "deb-src $uri $LIBURING_SUITE main" ||
			die "apt-get update for deb-src $LIBURING_SUITE failed (mirror from this machine's apt sources); check the network, then rerun"
		(cd "$LU/dl" && apt-get "${APT_OPTS[@]}" -qq source --download-only "liburing=$LIBURING_VERSION") ||
			die "cannot download the source package liburing=$LIBURING_VERSION from $LIBURING_SUITE; if $LIBURING_SUITE moved on, pin the version it has, and its SHA-256, in $0 (deliberately)"
		mv "$LU/dl/liburing_$upstream.orig.tar.gz" "$orig"
		rm -rf "$LU/dl"
	fi
	sum=$(sha256sum "$orig" | cut -d' ' -f1)
	if [ "$sum" != "$LIBURING_ORIG_SHA256" ]; then
		mv "$orig" "$orig.bad"
		die "checksum mismatch for liburing_$upstream.orig.tar.gz: got $sum, pinned $LIBURING_ORIG_SHA256 (moved to $orig.bad); rerun to download again"
	fi
	say "liburing $upstream: sha256 ok; building its tests (about 30 s)"
	src=$LU/src-$upstream
	rm -rf "$src" "$bin"
	mkdir -p "$src"
	tar -xzf "$orig" -C "$src" --strip-components=1
	(cd "$src" && ./configure --cc=gcc --cxx=g++ >"$LU/build.log" 2>&1 &&
		make -C src -j"$JOBS" ENABLE_SHARED=0 >>"$LU/build.log" 2>&1 &&
		make -C test -j"$JOBS" >>"$LU/build.log" 2>&1) ||
		die "building liburing's tests failed (log: $LU/build.log); they need gcc and g++"
	mkdir -p "$bin.tmp"
	# Every test the Makefile built: its test/*.t.
	for t in "$src"/test/*.t; do
		strip -o "$bin.tmp/$(basename "$t")" "$t"
	done
	(cd "$bin.tmp" && ls -- *.t | sed 's/\.t$//') >"$bin.tmp/list"
	touch "$bin.tmp/.complete"
	mv "$bin.tmp" "$bin"
	rm -rf "$src"
fi
flock -u "$lu_lock"
tests=()
while read -r t; do tests+=("$t"); done <"$bin/list"
say "liburing $LIBURING_VERSION: ${#tests[@]} tests"
[ -z "$fetch_only" ] || exit 0
need_tree
if [ -n "$only" ]; then
	for t in ${only//,/ }; do
		[ -f "$bin/$t.t" ] || die "--only: liburing $upstream has no test '$t' (the names are in $bin/list)"
	done
	n_expected=$(tr ',' '\n' <<<"$only" | sort -u | wc -l)
else
	n_expected=${#tests[@]}
fi

# -- the guest's archive: /init and /liburing ---------------------------------
# A part (--rows, --only) runs in a dir of its own: the last full run stays
# there to be judged again.
run=$CACHE/run/liburing-$BASE
[ -z "$only$want_rows" ] || run=$run/part
mkdir -p "$run"
if [ -z "$judge" ]; then
	rm -rf "$run/stage"
	mkdir -p "$run/stage/liburing"
	cp "$REPO/tests/liburing/guest-init.sh" "$run/stage/init"
	cp "$bin"/*.t "$run/stage/liburing/"
	# Longest first (the slowest row's seconds in the last results file),
	# so that no long test starts last; the ones it does not have after.
	last=$BASE_DIR/results/liburing${debug:+-debug}.txt
	{
		[ ! -f "$last" ] || awk 'NR == FNR { want[$1] = 1; next }
			/^test / { f = 1; next } f && NF == 0 { exit }
			f && ($1 in want) { m = 0; for (i = 3; i <= NF; i += 2) if ($i + 0 > m) m = $i + 0; print m, $1 }' \
			"$bin/list" "$last" | sort -k1,1nr -k2,2 | cut -d' ' -f2
		cat "$bin/list"
	} | awk '!seen[$0]++' >"$run/stage/liburing/list"
	printf '%s\n' "${LIBURING_ALONE[@]}" >"$run/stage/liburing/alone"
	(cd "$run/stage" && find . | cpio -o -H newc --quiet) >"$run/liburing.cpio"
	packed=$(packed_rootfs sid)
	cat "$packed" "$run/liburing.cpio" >"$run/initramfs.cpio"
fi

# -- the rows ------------------------------------------------------------------
# res[<row>:<test>]="<PASS|SKIP|FAIL|TIMEOUT> <seconds> <status>"; out[...]: the
# failed test's last lines.
declare -A res=() out=()
# The kernels first (a build beside a boot would slow the boot down).
names=() kernels=() walls=() kept=()
# A row of a fixed commit (the base) gives the same results as long as its
# kernel, the tests, the guest and the way they run are the same: a full
# run keeps them in $CACHE/liburing/rows/<key> (only a run in which no test
# of that row had to be booted again), and a later run with the same key
# takes them from there instead of booting it (LIBURING_BOOT_ALL=1 boots
# it anyway).
row_key() {
	[ -f "$bin/.sums" ] || (cd "$bin" && sha256sum -- *.t list) >"$bin/.sums"
	{
		sha256sum <"$1"
		cat "$bin/.sums"
		sha256sum <"$REPO/tests/liburing/guest-init.sh"
		sha256sum <"$packed"
		echo "${LIBURING_ALONE[*]} timeout=$timeout jobs=$par_tests qemu=$QEMU_ROW"
	} | sha256sum | cut -c1-16
}
QEMU_ROW="-accel tcg -smp 2 -m 2048"
for row in "${rows[@]}"; do
	set -- $row
	name=$1 config=$2 rev=${3:-}
	[ -z "$want_rows" ] || [[ $want_rows == *",$name,"* ]] || continue
	names+=("$name")
	[ -z "$judge" ] || continue
	if [ -n "$build" ] || [ -n "$rev" ]; then
		O=$(BUILD_REV=$rev "$S/build.sh" "$config" bzImage)
	else
		O=$BUILD_ROOT/$config
	fi
	[ -f "$O/arch/x86/boot/bzImage" ] || die "no kernel for row $name (config $config) in $O; run scripts/build.sh $config"
	kernels+=("$O/arch/x86/boot/bzImage")
	k=
	if [ -n "$rev" ] && [ -z "$only" ]; then
		k=$CACHE/liburing/rows/$(row_key "$O/arch/x86/boot/bzImage")
		[ -z "${LIBURING_BOOT_ALL:-}" ] && [ -f "$k/from" ] || k=-$k
	fi
	kept+=("$k")
	if [ "${k:0:1}" = / ]; then
		say "row $name: config $config at $rev, ${n_expected} tests: the results of $(cat "$k/from") (the same kernel, tests and guest: $k); not booted again"
	else
		say "row $name: config $config${rev:+ at $rev}, ${n_expected} tests (console log: $run/$name.log)"
	fi
done
[ ${#names[@]} -gt 0 ] || die "--rows $want_rows names no row of $(printf '%s\n' "${rows[@]}" | cut -d' ' -f1 | paste -sd,)"

# boot_row <console log> <bzImage> <tests, comma-separated, or empty: all>
# <their count> <tests at a time>: one row's run; the guest's results go to <log>.results,
# QEMU's status and the wall time to <log>.rc and <log>.wall.
boot_row() {
	local log=$1 start=$SECONDS rc=0
	rm -f "$log.results"
	# A watchdog for a hung guest: every test has its own timeout.
	# shellcheck disable=SC2086 # QEMU_ROW is words
	timeout --foreground -k 10 $(($4 * (timeout + 5) + 300)) \
		qemu-system-x86_64 $QEMU_ROW -nodefaults -display none \
		-no-reboot -serial stdio -serial "file:$log.results" -kernel "$2" -initrd "$run/initramfs.cpio" \
		-append "console=ttyS0 rdinit=/init panic=-1 kunit.enable=0 liburing.timeout=$timeout liburing.jobs=$5${3:+ liburing.only=$3}" \
		</dev/null >"$log" 2>&1 || rc=$?
	echo "$rc" >"$log.rc"
	echo $((SECONDS - start)) >"$log.wall"
}
# LIBURING_PARALLEL rows at a time (default 1).  Two guests at once on the
# 2 host cores finish two rows sooner, but slow each one: on v7.3.4
# (2026-12-02) futex then timed out on both series rows and passed on the
# base row, a false regression.
par=${LIBURING_PARALLEL:-1}
for i in "${!names[@]}"; do
	[ -z "$judge" ] || break
	while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n || true; done
	rm -f "$run/${names[$i]}.log.rc"
	if [ "${kept[$i]:0:1}" = / ]; then
		for f in log log.rc log.wall log.results; do cp "${kept[$i]}/$f" "$run/${names[$i]}.$f"; done
		continue
	fi
	boot_row "$run/${names[$i]}.log" "${kernels[$i]}" "$only" "$n_expected" "$par_tests" &
done
wait
for name in "${names[@]}"; do
	log=$run/$name.log
	[ -f "$log.rc" ] || die "row $name: no status from its QEMU run (log: $log)"
	walls+=("$(cat "$log.wall")")
	if [ -z "$judge" ]; then
		[ -f "$log.results" ] || die "row $name: no results from the guest (QEMU status $(cat "$log.rc"); console log: $log)"
		tr -d '\r' <"$log.results" >"$log.txt"
	fi
	[ -f "$log.txt" ] || die "row $name: no results in $log.txt to judge; run scripts/liburing.sh without --judge first"
	if ! grep -aq "^LIBURING-END $n_expected\$" "$log.txt"; then
		tail -n 30 "$log" >&2
		die "row $name: the suite did not run to its end (QEMU status $(cat "$log.rc"); want 'LIBURING-END $n_expected'; log: $log)"
	fi
	while read -r _ t r secs st; do
		res[$name:$t]="$r $secs $st"
	done < <(grep -aE '^LIBURING [^ ]+ (PASS|SKIP|FAIL|TIMEOUT) ' "$log.txt")
	while read -r _ t line; do
		out[$name:$t]+="$line"$'\n'
	done < <(grep -a '^LIBURING-OUT ' "$log.txt")
	say "row $name: $(for r in PASS SKIP FAIL TIMEOUT; do printf '%s %s, ' "$(grep -acE "^LIBURING [^ ]+ $r " "$log.txt")" "$r"; done | sed 's/, $//') in ${walls[-1]} s"
done
# LIBURING_PLANT=<row>:<test>:<FAIL|TIMEOUT>[,...]: the negative control of
# the verdict: that result in place of the full run's (the reruns are
# real).
plant=${LIBURING_PLANT:-}
for p in ${plant//,/ }; do
	IFS=: read -r n t r <<<"$p"
	[ -n "${res[$n:$t]+x}" ] || die "LIBURING_PLANT: no result of $t on row $n to replace"
	say "planted: $t $r on row $n (was ${res[$n:$t]%% *})"
	res[$n:$t]="$r 0.0 1"
	out[$n:$t]="planted by LIBURING_PLANT"$'\n'
done

# -- the verdict ---------------------------------------------------------------
bad() { case $1 in FAIL* | TIMEOUT*) return 0 ;; esac; return 1; }
errors=()
notes=()
# Suspects per row ("t1,t2,"), and what to say if they stay.
declare -A suspects=() suspect_msg=() base_flake=()
has_base=
[[ " ${names[*]} " != *" base "* ]] || has_base=1
run_tests=("${tests[@]}")
[ -z "$only" ] || run_tests=(${only//,/ })

# rerun_suspects <row>: a suspect (a regression, or an unlisted failure on
# base) is booted again alone on its row, twice, one test at a time: a real
# one fails there again; one that passes both times failed once under
# TCG's timing (a test of liburing's own that depends on it, such as
# read-mshot's 1 ms gaps between writes): reported, with the reruns, not
# counted (a rerun that skips, as the test does where it cannot run, did
# not fail either).  Sets flaked[<row>:<test>] for those.
declare -A flaked=()
rerun_suspects() {
	local n=$1 list=${suspects[$1]%,} i k try log t r
	declare -A passes=() seen=()
	if [ -z "$judge" ]; then
		for i in "${!names[@]}"; do [ "${names[$i]}" != "$n" ] || k=${kernels[$i]}; done
		for try in 1 2; do
			log=$run/rerun-$n-$try.log
			say "row $n: booting again with only $list (rerun $try of 2)"
			boot_row "$log" "$k" "$list" "$(tr ',' '\n' <<<"$list" | wc -l)" 1
			for t in ${list//,/ }; do
				r=$(tr -d '\r' <"$log.results" 2>/dev/null | awk -v t="$t" '$1 == "LIBURING" && $2 == t { print $3 }')
				seen[$t]+="${r:-none} "
				case $r in PASS | SKIP) passes[$t]=$((${passes[$t]:-0} + 1)) ;; esac
			done
		done
	fi
	for t in ${list//,/ }; do
		if [ "${passes[$t]:-0}" = 2 ]; then
			flaked[$n:$t]=1
			notes+=("$t: ${res[$n:$t]%% *} on row $n in the full run ($(paste -sd'|' <<<"${out[$n:$t]:-}")), ${seen[$t]% } on the two reruns of it alone: not counted")
		else
			errors+=("${suspect_msg[$n:$t]}  (reruns alone: ${seen[$t]:-none }${judge:+; --judge boots no rerun})")
		fi
	done
}

# The base row first: what it must fail, what it is known to fail, and
# what it fails that it should not.
for t in "${run_tests[@]}"; do
	for n in "${names[@]}"; do
		[ -n "${res[$n:$t]+x}" ] || errors+=("$t: no result on row $n")
	done
	b=${res[base:$t]:-}
	if [ -n "${LIBURING_BASE_MUST_FAIL[$t]+x}" ] && [ -n "$has_base" ]; then
		why=${LIBURING_BASE_MUST_FAIL[$t]}
		{ bad "$b" && grep -qE "$why" <<<"${out[base:$t]:-}"; } ||
			errors+=("$t must FAIL on base (a base without exit-on-idle) with output matching '$why'; got: ${b:-nothing} ${out[base:$t]:+: $(tail -n1 <<<"${out[base:$t]}")}")
	elif [ -n "${LIBURING_BASE_FAILS[$t]+x}" ]; then
		why=${LIBURING_BASE_FAILS[$t]}
		failing=0
		for n in "${names[@]}"; do
			bad "${res[$n:$t]:-}" || continue
			failing=1
			grep -qE "$why" <<<"${res[$n:$t]%% *}: $(paste -sd'|' <<<"${out[$n:$t]:-}")" ||
				errors+=("$t: listed as failing for '$why' (LIBURING_BASE_FAILS), but on row $n it fails otherwise: ${res[$n:$t]} ${out[$n:$t]:+$(tail -n2 <<<"${out[$n:$t]}" | paste -sd'|')}")
		done
		[ $failing = 1 ] || notes+=("$t: in LIBURING_BASE_FAILS, but passes on every row now")
	elif [ -n "$has_base" ] && bad "$b"; then
		suspects[base]+="$t,"
		suspect_msg[base:$t]="$t fails on the unpatched base (${b%% *}) and is not in LIBURING_BASE_FAILS: read its output in $run/base.log and list it with the reason: $(tail -n2 <<<"${out[base:$t]:-}" | paste -sd'|')"
	fi
done
[ -z "${suspects[base]:-}" ] || rerun_suspects base
# Then the series' rows against it: a test that fails there and passes on
# base, or failed on base only by chance (it passed both reruns there), is
# a suspected regression.
for t in "${run_tests[@]}"; do
	[ -z "${LIBURING_BASE_MUST_FAIL[$t]+x}" ] || [ -z "$has_base" ] || continue
	b=${res[base:$t]:-}
	[ -z "${flaked[base:$t]:-}" ] || b=PASS
	for n in "${names[@]}"; do
		[ "$n" != base ] || continue
		if bad "${res[$n:$t]:-}" && ! bad "$b" && [ -n "$has_base" ]; then
			suspects[$n]+="$t,"
			suspect_msg[$n:$t]="REGRESSION: $t ${res[$n:$t]%% *} on row $n, ${b%% *} on base${flaked[base:$t]:+ (after its reruns there)}; its last lines:"$'\n'"$(sed 's/^/    /' <<<"${out[$n:$t]:-}")"
		fi
	done
done
for n in "${!suspects[@]}"; do
	[ "$n" = base ] || rerun_suspects "$n"
done
for n in "${names[@]}"; do
	[ "$n" != base ] || continue
	for t in io-wq-unused-exit; do
		[[ " ${run_tests[*]} " == *" $t "* ]] || continue
		r=${res[$n:$t]:-none}
		[ "${r%% *}" = PASS ] ||
			errors+=("$t (liburing's test of exit-on-idle) is ${r%% *} on row $n, not PASS: $(tail -n2 <<<"${out[$n:$t]:-}" | paste -sd'|')")
	done
done

# Keep the results of a row of a fixed commit that ran in full, booted, and
# had no test booted again (see row_key).
for i in "${!kept[@]}"; do
	k=${kept[$i]} n=${names[$i]}
	[ "${k:0:1}" = - ] && [ -z "${suspects[$n]:-}" ] || continue
	k=${k:1}
	rm -rf "$k.tmp"
	mkdir -p "$k.tmp"
	for f in log log.rc log.wall log.results; do cp "$run/$n.$f" "$k.tmp/$f"; done
	echo "the run of $(date -u '+%Y-%m-%d %H:%M') UTC, series $(git -C "$KSRC" rev-parse --short=12 series)" >"$k.tmp/from"
	rm -rf "$k"
	mv "$k.tmp" "$k"
	say "row $n: results kept for later runs with the same kernel, tests and guest ($k)"
done

# -- the table and the results file ---------------------------------------------
table=$run/table.txt
{
	printf '%-28s' test
	printf ' %-16s' "${names[@]}"
	printf '\n'
	for t in "${run_tests[@]}"; do
		printf '%-28s' "$t"
		for n in "${names[@]}"; do
			set -- ${res[$n:$t]:-none - -}
			printf ' %-16s' "$1 $2"
		done
		printf '\n'
	done
	printf '\n%-28s' 'counts (pass/skip/fail/to)'
	for n in "${names[@]}"; do
		c=()
		for r in PASS SKIP FAIL TIMEOUT; do
			k=0
			for t in "${run_tests[@]}"; do
				v=${res[$n:$t]:-}
				[ "$v" = "${v#"$r "}" ] || k=$((k + 1))
			done
			c+=("$k")
		done
		printf ' %-16s' "$(IFS=/; echo "${c[*]}")"
	done
	printf '\n%-28s' 'wall time (s)'
	printf ' %-16s' "${walls[@]}"
	printf '\n\nWhy: the last lines of each test that did not pass, per row\n'
	for t in "${run_tests[@]}"; do
		for n in "${names[@]}"; do
			v=${res[$n:$t]:-none}
			[ "${v%% *}" != PASS ] || continue
			w=$(tail -n3 <<<"${out[$n:$t]:-}" | sed '/^$/d' | paste -sd'|')
			printf '%s %s %s: %s\n' "$t" "$n" "${v%% *}" "${w:-(it printed nothing)}"
		done
	done
} >"$table"
sed '/^Why:/,$d' "$table" | grep -vE '^[^ ]+ +(PASS [0-9.]+ +)+$' | grep -v '^$' >&2 || true
if [ -z "$only" ] && [ -z "$want_rows" ] && [ -z "$judge" ]; then
	mkdir -p "$BASE_DIR/results"
	results=$BASE_DIR/results/liburing${debug:+-debug}.txt
	{
		echo "# liburing $LIBURING_VERSION regression suite (scripts/liburing.sh${debug:+ --debug}), per-test timeout $timeout s, $par_tests tests at a time"
		echo "# series $(git -C "$KSRC" rev-parse --short=12 series) (tree $(git -C "$KSRC" rev-parse --short=12 'series^{tree}')), $(date -u +%Y-%m-%d)"
		for i in "${!rows[@]}"; do
			k=${kept[$i]:-}
			echo "# row ${rows[$i]}${k:+$([ "${k:0:1}" = / ] && echo ": not booted, the results of $(cat "$k/from")")}"
		done
		[ ${#errors[@]} = 0 ] && echo "# verdict: pass" || echo "# verdict: FAIL (${#errors[@]} errors)"
		for n in ${notes[@]+"${notes[@]}"}; do echo "# note: $n"; done
		cat "$table"
	} >"$results"
	say "results: $results"
fi
for n in ${notes[@]+"${notes[@]}"}; do say "note: $n"; done
if [ ${#errors[@]} -gt 0 ]; then
	printf '%s\n' "${errors[@]}" >&2
	die "liburing's suite: ${#errors[@]} problems (above; logs in $run/)"
fi
say "liburing's suite: no regression on ${names[*]}; io-wq-unused-exit passes with the series${LIBURING_BASE_MUST_FAIL[*]:+; ${!LIBURING_BASE_MUST_FAIL[*]} fails on the unpatched base, as it must}"
