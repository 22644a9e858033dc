#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The checks a maintainer or a bot would run on the series:
#
#   meta         Signed-off-by of the author, subject prefixes, cover letter
#                (base-commit, changelog, testing, every file listed)
#   checkpatch   scripts/checkpatch.pl --strict on every patch: no error,
#                no warning, no check
#   docs         the .rst files the series adds or changes parse cleanly
#   rustfmt      make rustfmtcheck
#   clippy       CLIPPY=1 on the series' Rust object: no warning
#   w1           W=1 on the io_uring objects: no warning in io_uring/
#   bisect       every prefix of the series builds with the Rust option on
#                (config kunit) and with CONFIG_RUST=n (config norust)
#
#   scripts/check.sh [check...]     default: all of them, in that order
. "$(dirname "$0")/lib.sh"

checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(meta checkpatch docs rustfmt clippy w1 bisect)
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

# What a maintainer's scripts and bots look at besides the code.
check_meta() {
	local p bad=0 from sob subj files prefix f cover=$SERIES_DIR/0000-cover-letter.patch
	[ -f "$cover" ] || die "no cover letter in $SERIES_DIR"
	grep -q '^base-commit: [0-9a-f]\{40\}$' "$cover" || { echo "  cover letter: no base-commit:" >&2; bad=1; }
	grep -qi '^changelog' "$cover" || { echo "  cover letter: no Changelog section" >&2; bad=1; }
	grep -qi '^testing' "$cover" || { echo "  cover letter: no Testing section (test results)" >&2; bad=1; }
	for p in $(series_patches); do
		from=$(git mailinfo /dev/null /dev/null <"$p" | sed -n 's/^Author: //p')
		from="$from <$(git mailinfo /dev/null /dev/null <"$p" | sed -n 's/^Email: //p')>"
		subj=$(git mailinfo /dev/null /dev/null <"$p" | sed -n 's/^Subject: //p')
		grep -qxF "Signed-off-by: $from" "$p" ||
			{ echo "  ${p##*/}: no Signed-off-by: $from (the author)" >&2; bad=1; }
		# Subject prefixes as in upstream history: "io_uring/<file>: ",
		# "io_uring: ", "rust: <area>: ", "Documentation: io_uring: ".
		files=$(sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$p")
		prefix=${subj%%: *}
		case $prefix in
		io_uring/*) f=${prefix#io_uring/}
			tr - _ <<<"$files" | grep -q "^io_uring/${f//-/_}" ||
			{ echo "  ${p##*/}: prefix '$prefix:' but touches no io_uring/$f*" >&2; bad=1; } ;;
		io_uring) grep -q '^io_uring/' <<<"$files" || { echo "  ${p##*/}: prefix 'io_uring:' but touches no io_uring/" >&2; bad=1; } ;;
		rust) grep -q '^rust/' <<<"$files" || { echo "  ${p##*/}: prefix 'rust:' but touches no rust/" >&2; bad=1; } ;;
		Documentation) grep -q '^Documentation/' <<<"$files" ||
			{ echo "  ${p##*/}: prefix 'Documentation:' but touches no Documentation/" >&2; bad=1; } ;;
		*) echo "  ${p##*/}: subject prefix '$prefix:' is none of io_uring/<file>, io_uring, rust, Documentation" >&2; bad=1 ;;
		esac
		# Every file a patch touches is in the cover letter's diffstat.
		for f in $files; do
			grep -q "^ $f  *|" "$cover" || { echo "  ${p##*/}: touches $f, which the cover letter does not list" >&2; bad=1; }
		done
	done
	[ $bad = 0 ] || die "the series' metadata is not ready to send (above)"
	say "meta: Signed-off-by matches the author, subject prefixes fit, cover letter has base-commit, changelog, testing, and lists every file"
}

# The series' documentation: valid reStructuredText, in a toctree.
check_docs() {
	local files
	files=$(kgit diff --name-only --diff-filter=AM "$BASE_TAG" series -- 'Documentation/*.rst' | sed 's|^Documentation/||')
	[ -n "$files" ] || { say "docs: the series has no Documentation/ changes"; return; }
	python3 -c 'import docutils' 2>/dev/null || python3 -m pip install -q docutils ||
		die "docutils is missing; install Debian package python3-docutils or PyPI docutils"
	# shellcheck disable=SC2086
	python3 "$S/rst-check.py" "$KSRC/Documentation" $files || die "reStructuredText errors (above)"
	say "docs: $(echo $files | wc -w) .rst files parse cleanly, toctree entries exist"
}

for c in "${checks[@]}"; do
	declare -F "check_$c" >/dev/null || die "unknown check '$c' (known: meta checkpatch docs rustfmt clippy w1 bisect)"
	"check_$c"
done
