#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The checks a maintainer or a bot would run on the series:
#
#   checkpatch   scripts/checkpatch.pl --strict on every patch: no error,
#                no warning, no check
#   rustfmt      make rustfmtcheck
#   clippy       CLIPPY=1 on the series' Rust object: no warning
#   w1           W=1 on the io_uring objects: no warning in io_uring/
#   bisect       every prefix of the series builds with the Rust option on
#                (config kunit) and with CONFIG_RUST=n (config norust)
#
#   scripts/check.sh [check...]     default: all of them, in that order
. "$(dirname "$0")/lib.sh"

checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(checkpatch rustfmt clippy w1 bisect)
need_tree
S=$(dirname "$0")
# The Rust objects the series adds: its new .rs files that a Makefile names.
RUST_OBJS=$(kgit diff --name-only --diff-filter=A "$BASE_TAG" series -- '*.rs' | while read -r f; do
	o=${f%.rs}.o
	! grep -qw "${o##*/}" "$KSRC/$(dirname "$f")/Makefile" 2>/dev/null || echo "$o"
done)

check_checkpatch() {
	local p out bad=0
	for p in "$SERIES_DIR"/[0-9][0-9][0-9][0-9]-*.patch; do
		[[ $p == */0000-* ]] && continue
		# FILE_PATH_CHANGES ("does MAINTAINERS need updating?") fires on
		# any new file; instead, check below that MAINTAINERS covers them.
		out=$(cd "$KSRC" && perl scripts/checkpatch.pl --strict --no-tree -q --color=never \
			--ignore FILE_PATH_CHANGES "$p" 2>&1) || true
		if [ -n "$out" ]; then
			echo "$(basename "$p"):" >&2
			echo "$out" | sed 's/^/  /' >&2
			bad=1
		fi
	done
	local f
	for f in $(kgit diff --name-only --diff-filter=A "$BASE_TAG" series); do
		(cd "$KSRC" && perl scripts/get_maintainer.pl --no-git --no-rolestats -f "$f") | grep -v "linux-kernel@vger" | grep -q . ||
			{ echo "  $f: no MAINTAINERS entry covers it" >&2; bad=1; }
	done
	[ $bad = 0 ] || die "checkpatch.pl --strict complains (above)"
	say "checkpatch --strict: 0 errors, 0 warnings, 0 checks on $(ls "$SERIES_DIR"/0*.patch | grep -vc 0000-) patches"
}

check_rustfmt() {
	local O
	O=$("$S/build.sh" kunit prepare)
	"${KMAKE[@]}" -s O="$O" rustfmtcheck >"$O/rustfmt.log" 2>&1 || {
		head -n 40 "$O/rustfmt.log" >&2
		die "make rustfmtcheck is not clean (above); run 'make -C $KSRC O=$O LLVM=-19 rustfmt'"
	}
	say "rustfmtcheck: clean"
}

check_clippy() {
	local O warn
	O=$("$S/build.sh" kunit bzImage)
	# Rebuild only our objects under clippy; the rest is already built.
	"${KMAKE[@]}" O="$O" CLIPPY=1 $RUST_OBJS >"$O/clippy.log" 2>&1 || {
		tail -n 40 "$O/clippy.log" >&2
		die "CLIPPY=1 build of $RUST_OBJS failed (above)"
	}
	grep -q CLIPPY "$O/clippy.log" || die "CLIPPY=1 did not run on $RUST_OBJS (log: $O/clippy.log)"
	warn=$(grep -c '^warning' "$O/clippy.log" || true)
	[ "$warn" = 0 ] || { grep -A12 '^warning' "$O/clippy.log" | head -n 60 >&2; die "clippy: $warn warnings in $RUST_OBJS (above)"; }
	say "clippy: 0 warnings in $RUST_OBJS"
}

check_w1() {
	local O warn
	O=$("$S/build.sh" kunit bzImage)
	"${KMAKE[@]}" O="$O" W=1 io_uring/ >"$O/w1.log" 2>&1 || {
		tail -n 40 "$O/w1.log" >&2
		die "W=1 build of io_uring/ failed (above)"
	}
	warn=$(grep -c 'warning:' "$O/w1.log" || true)
	[ "$warn" = 0 ] || { grep -A6 'warning:' "$O/w1.log" | head -n 60 >&2; die "W=1: $warn warnings in io_uring/ (above)"; }
	say "W=1: 0 warnings in io_uring/"
}

check_bisect() {
	local n i c subj
	n=$(kgit rev-list --count "$BASE_TAG..series")
	start=$SECONDS
	kgit diff --quiet HEAD || die "uncommitted changes in $KSRC; commit them first"
	trap 'kgit checkout -q series' EXIT
	for i in $(seq "$n" -1 1); do
		c=$(kgit rev-parse "series~$((i - 1))")
		subj=$(kgit log -1 --format=%s "$c")
		say "bisect: patch $((n - i + 1))/$n: $subj"
		kgit checkout -q --detach "$c"
		for cfg in kunit norust; do
			# The series' options do not exist before the patch that adds them.
			KCONFIG_LAX=1 "$S/build.sh" "$cfg" bzImage >/dev/null ||
				die "patch $((n - i + 1))/$n ($subj) does not build with config $cfg"
		done
	done
	kgit checkout -q series
	trap - EXIT
	say "bisect: all $n prefixes build with configs kunit and norust ($((SECONDS - start)) s)"
}

for c in "${checks[@]}"; do
	declare -F "check_$c" >/dev/null || die "unknown check '$c' (known: checkpatch rustfmt clippy w1 bisect)"
	"check_$c"
done
