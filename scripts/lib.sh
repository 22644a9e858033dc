# SPDX-License-Identifier: GPL-2.0
# Common helpers for the workbench scripts.  Source it; do not run it.
#
# Environment knobs (all optional):
#   BASE=v7.3.4        which bases/<BASE>/ to work on
#   CACHE=<dir>        where downloads, trees and build dirs live
#                      (default: ${XDG_CACHE_HOME:-$HOME/.cache}/iowq-eoi)
#   JOBS=<n>           parallel make jobs (default: nproc)

set -euo pipefail

# --help of every script that sources this file: its header comment.
case "${1:-}" in
--help | -h)
	sed -n '3,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
	;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${BASE:-v7.3.4}
BASE_DIR=$REPO/bases/$BASE
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iowq-eoi}
# Kbuild records absolute paths: resolve links so they stay the same.
CACHE=$(realpath -m "$CACHE")
JOBS=${JOBS:-$(nproc)}
TOOLS=$CACHE/tools

# A failure prints one line that says what failed and what to do.
die() {
	printf '\nerror: %s\n' "$*" >&2
	exit 1
}

say() {
	printf '==> %s\n' "$*" >&2
}

# What a bug detector prints in a console log: oopses, WARN and BUG (lockdep,
# KASAN, KCSAN, list debugging, sleeping in atomic context, soft lockups),
# UBSAN, hung tasks, RCU stalls, kmemleak reports.
SPLATS='Oops|BUG:|WARNING:|Kernel panic|INFO: (task .* blocked|rcu_.*detected (expedited )?stall)|possible (recursive|circular) locking|KASAN:|UBSAN:|general protection|suspected memory leaks|unreferenced object'

# check_splats <log>: fails with the first splat and its context.
check_splats() {
	local splat
	splat=$(grep -E -m5 "$SPLATS" "$1" || true)
	[ -z "$splat" ] && return 0
	grep -E -B5 -A30 -m1 "$SPLATS" "$1" | head -n 60 >&2
	die "the kernel log has a splat: $(echo "$splat" | head -n1) (log: $1)"
}

[ -f "$BASE_DIR/base.conf" ] ||
	die "unknown base '$BASE': no $BASE_DIR/base.conf (known: $(ls "$REPO/bases" | tr '\n' ' '))"
# shellcheck source=/dev/null
. "$BASE_DIR/base.conf"

BASE_CACHE=$CACHE/$BASE
KSRC=${KSRC:-$BASE_CACHE/linux}  # git repo: tag $BASE_TAG, branch "series"
SERIES_DIR=${SERIES_DIR:-$BASE_DIR/patches}
CONFIG_DIR=$BASE_DIR/configs
BUILD_ROOT=$BASE_CACHE/build     # one O= dir per config name

# Toolchain: Debian's rustc (its sysroot carries the library sources that
# the kernel needs; rustup's toolchain has no rust-src), LLVM 19 and the
# bindgen that scripts/setup.sh installs into the cache.  KBINDGEN names
# another bindgen (scripts/min-toolchain.sh: the minimum one).
export PATH=$TOOLS/bin:/usr/bin:$PATH
KMAKE=(make -C "$KSRC" LLVM=-19 RUSTC=/usr/bin/rustc
	RUSTFMT=/usr/bin/rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver
	BINDGEN="${KBINDGEN:-$TOOLS/bin/bindgen}" -j"$JOBS")

need_disk() {	# need_disk <dir> <GiB>
	local dir=$1 gib=$2 avail
	mkdir -p "$dir"
	avail=$(df -Pk "$dir" | awk 'NR == 2 { print int($4 / 1048576) }')
	[ "$avail" -ge "$gib" ] ||
		die "only ${avail} GiB free under $dir, need ${gib} GiB; free some space or set CACHE=<dir>"
}

need_tree() {
	[ -e "$KSRC/.git" ] || die "no kernel tree at $KSRC; run 'make tree' first"
}

# Git in the kernel tree; commits the bench makes need some identity.
kgit() {
	if [ -n "$(git -C "$KSRC" config user.email 2>/dev/null)" ]; then
		git -C "$KSRC" "$@"
	else
		git -C "$KSRC" -c user.name="iowq-eoi bench" -c user.email=bench@localhost "$@"
	fi
}

# A checkout and the one back give each file in which the two commits
# differ a new mtime, and every build dir then compiles and links it again,
# though its contents are what that dir was built from.  save_mtimes <file>
# <commit> <commit> writes the mtimes those files have now; restore_mtimes
# <file> gives them back once the tree is as it was (and a build dir that
# was rebuilt in between, from the old contents, is newer still).
save_mtimes() {
	(cd "$KSRC" && git diff -z --name-only "$2" "$3" |
		xargs -0r stat -c '%.9Y %n' 2>/dev/null) >"$1" || true
}
restore_mtimes() {
	local t f
	[ -f "$1" ] || return 0
	while read -r t f; do
		[ ! -e "$KSRC/$f" ] || touch -m -d "@$t" "$KSRC/$f"
	done <"$1"
	rm -f "$1"
}

# The series of the base, in the order they apply (SERIES_SETS in base.conf:
# "<dir under patches/>:<branch in the tree>:<subject prefix>").
set_dir() { echo "${1%%:*}"; }
set_branch() { local r=${1#*:}; echo "${r%%:*}"; }
set_prefix() { echo "${1#*:*:}"; }
# A series that applies to the base itself, not on top of the ones before it
# in the tree (SERIES_ON_BASE in base.conf: their dirs): it goes to other
# maintainers and touches none of their files.
set_on_base() { [[ " ${SERIES_ON_BASE:-} " == *" $(set_dir "$1") "* ]]; }

# The patch files of every series, in the order they apply, without the
# cover letters; or of one series: series_patches <dir>.
series_patches() {
	local dir=$SERIES_DIR depth=2
	[ -z "${1:-}" ] || { dir=$SERIES_DIR/$1; depth=1; }
	find "$dir" -mindepth $depth -maxdepth $depth -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' 2>/dev/null | sort
}

# Apply the series to the base in a scratch index (the tree's files are not
# touched) and print the resulting tree's id.  A patch that does not apply
# ends the script with its name, git's reason and the base it expected.
series_tree() {
	local idx p out
	idx=$(mktemp)
	GIT_INDEX_FILE=$idx git -C "$KSRC" read-tree "$BASE_TAG"
	while read -r p; do
		[ -n "$p" ] || continue
		if ! out=$(GIT_INDEX_FILE=$idx git -C "$KSRC" apply --cached "$p" 2>&1); then
			# -v shows the failing hunk's text ("while searching for:").
			GIT_INDEX_FILE=$idx git -C "$KSRC" apply --cached --check -v "$p" 2>&1 |
				sed -n '/^error: while searching for:/,/^error: patch failed/p' | head -n 30 >&2 || true
			rm -f "$idx"
			die "patch ${p#"$SERIES_DIR"/} does not apply to $BASE_TAG ($BASE_VERSION, base commit $(git -C "$KSRC" rev-parse --short "$BASE_TAG")): $(echo "$out" | grep -m1 'error:' || echo "$out" | head -n1)"
		fi
	done < <(series_patches)
	GIT_INDEX_FILE=$idx git -C "$KSRC" write-tree
	rm -f "$idx"
}

# The Debian mirror this machine's apt already uses; no host name is written
# anywhere in this repository.  mirror_uri <suite>: the URI of the source
# that lists <suite> (the security suites live in an archive of their own);
# without one, or for a suite no source lists (an extra suite such as
# trixie-backports), the machine's main Debian mirror.
mirror_uri() {
	local suite=${1:-} uri=
	if [ -n "$suite" ]; then
		if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
			uri=$(awk -v s="$suite" '/^URIs:/ { u = $2 }
				/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s && u) { print u; exit } }' \
				/etc/apt/sources.list.d/*.sources | head -n1 || true)
		fi
		if [ -z "$uri" ]; then
			uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
				awk -v s="$suite" '$1 == "deb" { for (i = 2; i < NF; i++) if ($i ~ /:\/\// && $(i + 1) == s) { print $i; exit } }' || true)
		fi
		if [ -z "$uri" ] && [[ $suite == *-security ]]; then
			die "suite $suite is in Debian's security archive, which this machine's apt sources do not list; add it (deb <security mirror> $suite main) and rerun"
		fi
		[ -z "$uri" ] || { echo "$uri"; return 0; }
	fi
	if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
		# deb822: the URIs: line of a stanza whose suites name a Debian release.
		uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / (bookworm|trixie|sid|stable)/ && u { print u; exit }' \
			/etc/apt/sources.list.d/*.sources | grep -v -- '-security' | head -n1 || true)
	fi
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' || true)
	fi
	[ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}; add one so that apt-get can reach Debian"
	echo "$uri"
}

# apt_private <state dir> <sources line>: an apt state of our own (its own
# sources list, lists and archives; this machine's dpkg status), so that
# nothing system-wide changes.  Sets APT_OPTS, the options that select it,
# and updates its index; fails as apt-get update does.
apt_private() {
	mkdir -p "$1/lists/partial" "$1/archives/partial"
	echo "$2" >"$1/sources.list"
	APT_OPTS=(-o Dir::Etc::sourcelist="$1/sources.list" -o Dir::Etc::sourceparts=/nonexistent
		-o Dir::State::Lists="$1/lists" -o Dir::Cache::archives="$1/archives"
		-o Dir::State::status=/var/lib/dpkg/status -o APT::Get::List-Cleanup=0
		-o APT::Sandbox::User=root)
	apt-get "${APT_OPTS[@]}" -qq update
}

# packed_rootfs <suite>: the guest userland of scripts/guest-rootfs.sh as a
# gzipped cpio archive, packed once and kept in the cache; prints its path.
# Padded to 512 bytes: the kernel looks for a next (uncompressed) archive
# concatenated after it only at a 4-byte boundary after the compressed one.
packed_rootfs() {
	local dir packed=$CACHE/rootfs-$1.cpio.gz
	dir=$(GUEST_SUITE=$1 "$REPO/scripts/guest-rootfs.sh")
	# One packer at a time (scripts/prefetch.sh packs it ahead).
	(
		flock 9
		if [ ! -f "$packed" ] || [ "$dir/.complete" -nt "$packed" ]; then
			say "packing the $1 userland into $packed"
			(cd "$dir" && find . -xdev ! -name .complete | cpio -o -H newc --quiet | gzip -1) >"$packed.tmp" &&
				mv "$packed.tmp" "$packed" || die "packing $dir failed"
		fi
		truncate -s %512 "$packed"
	) 9>"$packed.lock" || exit 1
	echo "$packed"
}

# The names in tests/iowq's SCENARIOS list (its main.rs), one per line, in
# order: the scenarios iowq-test runs when none is named.
scenario_names() {
	awk '/^const SCENARIOS: &\[Scenario\] = &\[/ { f = 1; next } f && /^\];/ { exit } f' \
		"$REPO/tests/iowq/src/main.rs" | sed -n 's/^ *("\([^"]*\)",.*/\1/p'
}

# Whether 'make patches' on the tree's series branch gives exactly the
# series directory.
series_matches_patches() {
	local tmp rc=0
	tmp=$(mktemp -d)
	"$REPO/scripts/patches.sh" "$tmp" >/dev/null 2>&1 && diff -rq "$SERIES_DIR" "$tmp" >/dev/null 2>&1 || rc=1
	rm -rf "$tmp"
	return $rc
}
