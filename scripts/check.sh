#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The checks a maintainer or a bot would run on the series:
#
#   meta         Signed-off-by of the author, subject prefixes, Fixes: and
#                Cc: stable on fixes, "commit <sha> upstream." on stable
#                backports, cover letter (base-commit, changelog, testing,
#                every file listed)
#   checkpatch   scripts/checkpatch.pl --strict on every patch: no error,
#                no warning, no check
#   docs         the .rst files the series adds or changes parse cleanly
#   rustfmt      make rustfmtcheck
#   clippy       CLIPPY=1 on the series' Rust object: no warning
#   w1           W=1 on the io_uring objects: no warning in io_uring/
#   sigcheck     a Rust function with a parameter more than its C prototype
#                must fail to build (the negative control of the signature
#                check; not in the default list: 6.12's TEST_STEPS run it)
#   bisect       every prefix of the series builds with each config of
#                BISECT_CONFIGS (v7.3.4: the Rust option on, config kunit,
#                and CONFIG_RUST=n, config norust): the tip to bzImage,
#                each earlier prefix to vmlinux.o (every object compiled,
#                the partial link), and linked in full where its vmlinux.o
#                leaves a symbol undefined that the tip's does not
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
	for p in $(series_patches); do
		# FILE_PATH_CHANGES ("does MAINTAINERS need updating?") fires on
		# any new file; instead, check below that MAINTAINERS covers them.
		# UNKNOWN_COMMIT_ID: the tree is Debian's tarball in one commit, with
		# no upstream history to look a Fixes: hash up in (the form of the
		# tag is still checked, by GIT_COMMIT_ID, and by 'meta').
		out=$(cd "$KSRC" && perl scripts/checkpatch.pl --strict --no-tree -q --color=never \
			--ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID "$p" 2>&1) || true
		if [ -n "$out" ]; then
			echo "${p#"$SERIES_DIR"/}:" >&2
			echo "$out" | sed 's/^/  /' >&2
			bad=1
		fi
	done
	# Every new file must be in a MAINTAINERS section of its own subsystem:
	# THE REST ("F: *") takes any path, and get_maintainer.pl always names
	# its list, so ask for the sections (--subsystem) and drop THE REST.
	# The path goes in as a diff header on stdin: no file is read, so any
	# path can be asked about.  CHECKPATCH_FILES="<path>..." asks about
	# these paths instead of the series' new files
	# (tests/checkpatch-maintainers-broken.sh).
	local f files secs covered=()
	files=${CHECKPATCH_FILES:-$(kgit diff --name-only --diff-filter=A "$BASE_TAG" series)}
	# The primary base's series adds files: finding none means the check
	# looks in the wrong place.  Another base's may add none (6.12's C).
	[ -n "$files" ] || [ "${NEW_FILES_IN_REPO:-0}" = 0 ] ||
		{ echo "  no new files found in $BASE_TAG..series to check against MAINTAINERS" >&2; bad=1; }
	for f in $files; do
		if ! secs=$(printf 'diff --git a/%s b/%s\n' "$f" "$f" | (cd "$KSRC" && perl scripts/get_maintainer.pl \
			--no-git --no-git-fallback --no-email --no-l --no-keywords --subsystem)); then
			echo "  $f: get_maintainer.pl failed (above)" >&2
			bad=1
		elif ! secs=$(grep -vx 'THE REST' <<<"$secs" | grep .); then
			echo "  $f: no MAINTAINERS section covers it but THE REST; add an F: line for it to its subsystem's section" >&2
			bad=1
		else
			covered+=("$f ($(paste -sd, <<<"$secs"))")
		fi
	done
	[ $bad = 0 ] || die "checkpatch.pl --strict or the MAINTAINERS check complains (above)"
	say "checkpatch --strict: 0 errors, 0 warnings, 0 checks on $(series_patches | wc -l) patches"
	say "MAINTAINERS: ${covered[*]:-the series adds no file}"
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

# keep_dirs <O> <dir...>: a copy of these dirs of the build dir (objects,
# their .cmd files, built-in.a), which put_back_dirs puts back.  clippy and
# W=1 compile objects again with other flags: ours, and what they depend on
# (W=1 and CLIPPY=1 change the flags of rust/'s crates and of modpost too:
# KEPT_DIRS).  With what the last build made put back, the next build of
# the same tree compiles nothing again (before: 14-16 objects, about 60 s,
# after each of the two checks).
KEPT_DIRS="io_uring rust scripts/mod"
keep_dirs() {
	local O=$1 d
	shift
	for d in "$@"; do
		rm -rf "$O/.kept/$d"
		mkdir -p "$(dirname "$O/.kept/$d")"
		cp -a "$O/$d" "$O/.kept/$d"
	done
}
put_back_dirs() {
	local O=$1 d
	shift
	for d in "$@"; do
		rm -rf "${O:?}/$d"
		mv "$O/.kept/$d" "$O/$d"
	done
}

check_clippy() {
	local O warn
	O=$("$S/build.sh" kunit bzImage)
	keep_dirs "$O" $KEPT_DIRS
	# Rebuild only our objects under clippy; the rest is already built.
	"${KMAKE[@]}" O="$O" CLIPPY=1 $RUST_OBJS >"$O/clippy.log" 2>&1 || {
		tail -n 40 "$O/clippy.log" >&2
		die "CLIPPY=1 build of $RUST_OBJS failed (above)"
	}
	grep -q CLIPPY "$O/clippy.log" || die "CLIPPY=1 did not run on $RUST_OBJS (log: $O/clippy.log)"
	warn=$(grep -c '^warning' "$O/clippy.log" || true)
	[ "$warn" = 0 ] || { grep -A12 '^warning' "$O/clippy.log" | head -n 60 >&2; die "clippy: $warn warnings in $RUST_OBJS (above)"; }
	put_back_dirs "$O" $KEPT_DIRS
	say "clippy: 0 warnings in $RUST_OBJS"
}

check_w1() {
	local O warn o want=(io-wq.o tctx.o) missing=() removed=()
	O=$("$S/build.sh" kunit bzImage)
	keep_dirs "$O" $KEPT_DIRS
	# W=1 warns only about what it compiles: remove io_uring's objects so
	# that all of them are compiled again, and below, require the log to
	# show it (V=0: the "CC <object>" lines, whatever KBUILD_VERBOSE says).
	for o in "$O"/io_uring/*.o; do
		[ -e "$o" ] && removed+=("${o#"$O"/}")
	done
	rm -f "$O"/io_uring/*.o
	"${KMAKE[@]}" O="$O" V=0 W=1 io_uring/ >"$O/w1.log" 2>&1 || {
		tail -n 40 "$O/w1.log" >&2
		die "W=1 build of io_uring/ failed (above)"
	}
	! grep -qx 'CONFIG_IO_WQ_IDLE_RUST=y' "$O/.config" || want+=(io_wq_idle.o)
	for o in "${want[@]}"; do
		grep -qE "^ +(CC|RUSTC)( \[M\])? +io_uring/${o//./\\.}\$" "$O/w1.log" || missing+=("io_uring/$o")
	done
	for o in ${removed[@]+"${removed[@]}"}; do
		[ -e "$O/$o" ] || [[ " ${missing[*]:-} " == *" $o "* ]] || missing+=("$o")
	done
	[ ${#missing[@]} = 0 ] ||
		die "W=1 did not compile ${missing[*]} (no CC/RUSTC line in $O/w1.log, or the object was not made again), so it checked nothing there; check_w1 in scripts/check.sh removes $O/io_uring/*.o first: see that the W=1 make of io_uring/ rebuilds them"
	warn=$(grep -c 'warning:' "$O/w1.log" || true)
	[ "$warn" = 0 ] || { grep -A6 'warning:' "$O/w1.log" | head -n 60 >&2; die "W=1: $warn warnings in io_uring/ (above)"; }
	put_back_dirs "$O" $KEPT_DIRS
	say "W=1: 0 warnings in io_uring/; compiled again: $(grep -cE '^ +(CC|RUSTC)( \[M\])? +io_uring/' "$O/w1.log") objects, ${want[*]} among them"
}

# BISECT_REF, BISECT_FROM and BISECT_ONLY (default: series, the base tag,
# BISECT_CONFIGS) pick other commits and configs: the prefixes of
# BISECT_FROM..BISECT_REF (tests/bisect-link-broken.sh).
check_bisect() {
	local n i c subj cfg opts absent start O new full=0 partial=0
	local ref=${BISECT_REF:-series} from=${BISECT_FROM:-$BASE_TAG} BISECT_CONFIGS=${BISECT_ONLY:-$BISECT_CONFIGS}
	n=$(kgit rev-list --count "$from..$ref")
	start=$SECONDS
	kgit diff --quiet HEAD || die "uncommitted changes in $KSRC; commit them first"
	kgit checkout -q "$ref"
	save_mtimes "$BUILD_ROOT/bisect.mtimes" "$from" "$ref"
	# The series' own options, as the configs ask for them.
	opts=$(cat "$CONFIG_DIR"/*.config | sed -n 's/^\(CONFIG_IO_WQ_IDLE_RUST[A-Z_]*\)=.*/\1/p' | sort -u | tr '\n' ' ')
	# The tip, linked in full.  Every symbol its vmlinux.o leaves undefined
	# is one the final link provides (the linker script's, kallsyms'), or
	# the tip would not link.
	for cfg in $BISECT_CONFIGS; do
		O=$("$S/build.sh" "$cfg" bzImage)
		llvm-nm-19 -u "$O/vmlinux.o" | awk '{ print $NF }' | sort -u >"$O/bisect-undefined.tip"
	done
	# The prefixes before it: compiled in full (make walks the whole tree)
	# and partially linked (vmlinux.o: ld -r fails on a symbol defined
	# twice; objtool runs on it), without the final link, unless vmlinux.o
	# leaves a symbol undefined that the tip's does not: then the final
	# link decides.
	trap 'kgit checkout -q series' EXIT
	for i in $(seq "$n" -1 2); do
		c=$(kgit rev-parse "$ref~$((i - 1))")
		subj=$(kgit log -1 --format=%s "$c")
		kgit checkout -q --detach "$c"
		# Before the patch that adds them, the options do not exist; from
		# that patch on, build.sh checks that they are set as asked.
		if git -C "$KSRC" grep -q '^config IO_WQ_IDLE_RUST$' "$c" -- '*Kconfig*'; then
			say "bisect: patch $((n - i + 1))/$n: $subj (checked: $opts)"
			absent=
		else
			say "bisect: patch $((n - i + 1))/$n: $subj (no $opts yet)"
			absent=$opts
		fi
		for cfg in $BISECT_CONFIGS; do
			O=$(KCONFIG_ABSENT=$absent "$S/build.sh" "$cfg" vmlinux_o) ||
				die "patch $((n - i + 1))/$n ($subj) does not build with config $cfg"
			new=$(llvm-nm-19 -u "$O/vmlinux.o" | awk '{ print $NF }' | sort -u |
				comm -23 - "$O/bisect-undefined.tip" | paste -sd' ')
			partial=$((partial + 1))
			[ -n "$new" ] || continue
			say "bisect: patch $((n - i + 1))/$n, config $cfg: vmlinux.o needs $new, which the tip's does not; linking in full"
			KCONFIG_ABSENT=$absent "$S/build.sh" "$cfg" bzImage >/dev/null ||
				die "patch $((n - i + 1))/$n ($subj) does not link with config $cfg"
			full=$((full + 1))
		done
	done
	kgit checkout -q "$ref"
	trap - EXIT
	# Back to the tip, as the other steps expect the build dirs.
	for cfg in $BISECT_CONFIGS; do
		"$S/build.sh" "$cfg" bzImage >/dev/null
	done
	# The other configs' build dirs were built from these contents.
	restore_mtimes "$BUILD_ROOT/bisect.mtimes"
	kgit checkout -q series
	say "bisect: all $n prefixes build with configs ${BISECT_CONFIGS// / and } ($((SECONDS - start)) s): the tip linked in full, $partial prefix builds to vmlinux.o with no symbol undefined that the tip's link does not provide, $full of them linked in full"
}

# The build-time check of the Rust signatures against the C prototypes
# (6.12's #[no_mangle] functions are each followed by a constant that only
# compiles if the function has the type of bindgen's binding): give
# io_wq_idle_verdict() one parameter more than io_wq_idle.h has, and the
# Rust object must fail to build with E0308.  The tree is restored after.
check_sigcheck() {
	local O f=io_uring/io_wq_idle.rs log
	O=$("$S/build.sh" kunit bzImage)
	log=$O/sigcheck.log
	kgit diff --quiet HEAD -- "$f" || die "uncommitted changes in $KSRC/$f; commit them first"
	# Restored on any exit from here; the trap clears itself, so that it
	# does not fire on later functions' returns.
	trap 'kgit checkout -q -- io_uring/io_wq_idle.rs; trap - RETURN' RETURN
	perl -0pi -e 's/(\n    create_pending: bool,\n)(\) -> bindings::io_wq_worker_verdict \{)/$1    extra: bool,\n$2/' "$KSRC/$f"
	! kgit diff --quiet -- "$f" || die "the sigcheck edit changed nothing in $f: its pattern no longer matches; update it in $0"
	if "${KMAKE[@]}" O="$O" io_uring/io_wq_idle.o >"$log" 2>&1; then
		die "io_wq_idle.o built with io_wq_idle_verdict() taking a parameter io_wq_idle.h does not have: the signature check checks nothing (log: $log)"
	fi
	grep -q 'error\[E0308\]' "$log" ||
		{ tail -n 20 "$log" >&2; die "the mismatched io_wq_idle.o failed, but not with E0308 (log: $log)"; }
	kgit checkout -q -- "$f"
	"${KMAKE[@]}" O="$O" io_uring/io_wq_idle.o >/dev/null 2>&1 || die "io_wq_idle.o does not build again after the sigcheck edit was undone"
	say "sigcheck: io_wq_idle_verdict() with a parameter more than its prototype fails to build: $(grep -m1 -A0 'error\[E0308\]' "$log")"
}

# What a maintainer's scripts and bots look at besides the code.
check_meta() {
	local set dir cover p name bad=0 from subj raw files prefix f want n_before=0 n_prereq tmp_body
	local want_prereq earlier_files=
	tmp_body=$(mktemp)
	trap 'rm -f "$tmp_body"' RETURN
	for set in "${SERIES_SETS[@]}"; do
		dir=$(set_dir "$set") cover=$SERIES_DIR/$(set_dir "$set")/0000-cover-letter.patch
		want=$(set_prefix "$set")
		[ -f "$cover" ] || { echo "  $dir: no cover letter" >&2; bad=1; continue; }
		grep -q "^Subject: \[$want 0/[0-9]*\] " "$cover" || { echo "  $dir: cover letter subject is not [$want 0/N]" >&2; bad=1; }
		grep -q '^base-commit: [0-9a-f]\{40\}$' "$cover" || { echo "  $dir: cover letter has no base-commit:" >&2; bad=1; }
		grep -qi '^changelog' "$cover" || { echo "  $dir: cover letter has no Changelog section" >&2; bad=1; }
		grep -qi '^testing' "$cover" || { echo "  $dir: cover letter has no Testing section (test results)" >&2; bad=1; }
		# A series on top of another names every patch it needs, and says so;
		# one on the base (SERIES_ON_BASE) names none, and touches no file of
		# the series before it in the tree, so that it applies to the base.
		n_prereq=$(grep -c '^prerequisite-patch-id: [0-9a-f]\{40\}$' "$cover" || true)
		want_prereq=$n_before
		! set_on_base "$set" || want_prereq=0
		[ "$n_prereq" = "$want_prereq" ] ||
			{ echo "  $dir: cover letter has $n_prereq prerequisite-patch-id lines, expected $want_prereq$(set_on_base "$set" && echo ' (SERIES_ON_BASE: it applies to the base)' || echo ", the patches of the series before it")" >&2; bad=1; }
		[ "$want_prereq" = 0 ] || grep -qi 'depends on\|applies on top of\|based on' "$cover" ||
			{ echo "  $dir: cover letter does not say which series it depends on" >&2; bad=1; }
		if set_on_base "$set"; then
			for f in $(for p in $(series_patches "$dir"); do sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$p"; done | sort -u); do
				! grep -qxF "$f" <<<"$earlier_files" ||
					{ echo "  $dir: applies to the base (SERIES_ON_BASE), but touches $f, which a series before it in the tree touches too" >&2; bad=1; }
			done
		fi
		for p in $(series_patches "$dir"); do
			name=$dir/${p##*/}
			n_before=$((n_before + 1))
			from=$(git mailinfo /dev/null /dev/null <"$p" | sed -n 's/^Author: //p')
			from="$from <$(git mailinfo /dev/null /dev/null <"$p" | sed -n 's/^Email: //p')>"
			subj=$(git mailinfo /dev/null /dev/null <"$p" | sed -n 's/^Subject: //p')
			raw=$(sed -n '/^Subject: /{N;s/\n//;p}' "$p")
			grep -qxF "Signed-off-by: $from" "$p" ||
				{ echo "  $name: no Signed-off-by: $from (the author)" >&2; bad=1; }
			grep -q "^Subject: \[$want [0-9]*/[0-9]*\] " <<<"$raw" ||
				{ echo "  $name: subject is not [$want N/M]" >&2; bad=1; }
			# A fix names the commit that brought the bug in, Fixes: <12-char
			# hash> ("subject"), or says in its message that there is "no
			# Fixes: tag" and why (the commit is not known); it has Cc:
			# stable, or a paragraph "Not for stable: <why>" and no Cc:
			# stable (stable-kernel-rules.rst).
			if [[ $dir == *-fixes ]]; then
				git mailinfo "$tmp_body" /dev/null <"$p" >/dev/null
				grep -Eq '^Fixes: [0-9a-f]{12} \(".+"\)$' "$p" || grep -q 'no Fixes: tag' "$tmp_body" ||
					{ echo "  $name: no Fixes: <12-char hash> (\"subject\") tag, and no word in the message that there is \"no Fixes: tag\" and why" >&2; bad=1; }
				if grep -q '^Not for stable: ' "$tmp_body"; then
					! grep -q '^Cc: .*stable@' "$p" ||
						{ echo "  $name: says 'Not for stable:' and has a Cc: to stable" >&2; bad=1; }
				else
					grep -qx 'Cc: stable@vger.kernel.org' "$p" ||
						{ echo "  $name: no Cc: stable@vger.kernel.org, and no 'Not for stable: <why>' paragraph" >&2; bad=1; }
				fi
			fi
			# Stable backports say which upstream commit they are, in the
			# first line of the body, as stable-kernel-rules.rst asks.
			if [[ $dir == *-stable ]]; then
				git mailinfo "$tmp_body" /dev/null <"$p" >/dev/null
				sed -n '/./{p;q}' "$tmp_body" | grep -Eqx 'commit [0-9a-f]{40} upstream\.' ||
					{ echo "  $name: a stable backport whose body does not start with 'commit <40-char sha> upstream.'" >&2; bad=1; }
			fi
			# Subject prefixes as in upstream history: "io_uring/<file>: ",
			# "io_uring: ", "rust: <area>: ", "Documentation: io_uring: ",
			# "tools/io_uring: " (the tools/<dir>: form of tools/ commits).
			files=$(sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$p")
			earlier_files+=$'\n'$files
			prefix=${subj%%: *}
			case $prefix in
			io_uring/*) f=${prefix#io_uring/}
				tr - _ <<<"$files" | grep -q "^io_uring/${f//-/_}" ||
				{ echo "  $name: prefix '$prefix:' but touches no io_uring/$f*" >&2; bad=1; } ;;
			io_uring) grep -q '^io_uring/' <<<"$files" || { echo "  $name: prefix 'io_uring:' but touches no io_uring/" >&2; bad=1; } ;;
			rust) grep -q '^rust/' <<<"$files" || { echo "  $name: prefix 'rust:' but touches no rust/" >&2; bad=1; } ;;
			Documentation) grep -q '^Documentation/' <<<"$files" ||
				{ echo "  $name: prefix 'Documentation:' but touches no Documentation/" >&2; bad=1; } ;;
			tools/io_uring) grep -q '^tools/io_uring/' <<<"$files" || { echo "  $name: prefix 'tools/io_uring:' but touches no tools/io_uring/" >&2; bad=1; } ;;
			*) echo "  $name: subject prefix '$prefix:' is none of io_uring/<file>, io_uring, rust, Documentation, tools/io_uring" >&2; bad=1 ;;
			esac
			# Every file a patch touches is in its cover letter's diffstat.
			for f in $files; do
				grep -q "^ $f  *|" "$cover" || { echo "  $name: touches $f, which its cover letter does not list" >&2; bad=1; }
			done
		done
	done
	[ $bad = 0 ] || die "the series' metadata is not ready to send (above)"
	say "meta: ${#SERIES_SETS[@]} series; Signed-off-by matches the author, subject prefixes fit, fixes carry Fixes: and Cc: stable or say why not, cover letters have base-commit, prerequisites, changelog, testing, and list every file"
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
	declare -F "check_$c" >/dev/null || die "unknown check '$c' (known: meta checkpatch docs rustfmt clippy w1 bisect sigcheck)"
	"check_$c"
done
