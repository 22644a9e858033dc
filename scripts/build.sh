#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel tree for one named config (see KCONFIG_<name> in
# bases/<base>/base.conf):
#
#   scripts/build.sh <name> [make targets...]     default target: bzImage
#
# The fragments are merged onto alldefconfig with merge_config.sh, and every
# option they ask for is checked in the final .config.  Each config has its
# own O= dir under the cache, so rebuilds are incremental.  Prints the path
# of the build dir on stdout.
#
# KSEED_<name>=<other> (base.conf): the first build of <name> starts from a
# copy of <other>'s build dir (built first if need be).  Kbuild's fixdep
# records the CONFIG_ symbols each object uses, so only the objects that a
# symbol in which the two configs differ touches are compiled again.  After
# a bzImage or vmlinux build, System.map must agree with .config: Rust symbols
# (v0-mangled, _R...) iff CONFIG_RUST=y, the Rust exit-on-idle functions
# iff CONFIG_IO_WQ_IDLE_RUST=y.
#
# BUILD_REV=<commit>: build that commit of the tree instead, in place, in
# the config's own build dir (Kbuild rebuilds what the checkout changed),
# and keep its kernel in a stash keyed by the commit's tree and the config;
# the tree and the build dir then go back to where they were.  Prints the
# stash dir, which has what scripts/qemu-test.sh boots
# (arch/x86/boot/bzImage, usr/gen_init_cpio) and .config, System.map.  A
# later call for the same tree and config only prints it.  Once this build
# dir is rebuilt from the tree as it was, the files the checkouts touched get
# their old mtimes back (save_mtimes in lib.sh), so that the other configs'
# build dirs, built from the same contents, do not compile and link again.
. "$(dirname "$0")/lib.sh"

name=${1:?usage: build.sh <config name> [targets...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(bzImage)
var=KCONFIG_$name
[ -n "${!var:-}" ] || die "unknown config '$name'; bases/$BASE/base.conf defines: $(compgen -v KCONFIG_ | sed 's/KCONFIG_//' | tr '\n' ' ')"
need_tree
O=$BUILD_ROOT/$name
need_disk "$BUILD_ROOT" 5

frags=()
for f in ${!var}; do
	[ -f "$CONFIG_DIR/$f.config" ] || die "config '$name' names fragment '$f', but $CONFIG_DIR/$f.config does not exist"
	frags+=("$CONFIG_DIR/$f.config")
done
want=$(cat "${frags[@]}" | sha256sum | cut -c1-16)

if [ -n "${BUILD_REV:-}" ]; then
	tree=$(kgit rev-parse -q --verify "$BUILD_REV^{tree}") ||
		die "BUILD_REV=$BUILD_REV is no commit of $KSRC; run 'make tree' (branches: $(kgit branch --format='%(refname:short)' | tr '\n' ' '))"
	stash=$BUILD_ROOT/$name.at/${tree:0:16}-$want
	if [ ! -f "$stash/arch/x86/boot/bzImage" ]; then
		[ -z "$(kgit status --porcelain --untracked-files=no)" ] ||
			die "building $BUILD_REV in place needs a clean tree, and $KSRC has uncommitted changes; commit or stash them"
		back=$(kgit symbolic-ref -q --short HEAD || kgit rev-parse HEAD)
		save_mtimes "$O.mtimes" HEAD "$BUILD_REV"
		say "building $BUILD_REV with config $name in place (then back to $back)"
		trap 'kgit checkout -q "$back"; rm -f "$O.mtimes"' EXIT
		kgit checkout -q --detach "$BUILD_REV"
		BUILD_REV= "$0" "$name" bzImage >/dev/null
		rm -rf "$stash.tmp"
		mkdir -p "$stash.tmp/arch/x86/boot" "$stash.tmp/usr" "$stash.tmp/include/config"
		cp "$O/arch/x86/boot/bzImage" "$stash.tmp/arch/x86/boot/"
		cp "$O/usr/gen_init_cpio" "$stash.tmp/usr/"
		cp "$O/.config" "$O/System.map" "$stash.tmp/"
		cp "$O/include/config/kernel.release" "$stash.tmp/include/config/"
		kgit checkout -q "$back"
		trap - EXIT
		# Leave the build dir as the tree is: --no-build boots rely on it.
		BUILD_REV= "$0" "$name" bzImage >/dev/null
		restore_mtimes "$O.mtimes"
		rm -rf "$stash"
		mv "$stash.tmp" "$stash"
	fi
	say "kernel of $BUILD_REV (tree ${tree:0:12}), config $name: $stash"
	echo "$stash"
	exit 0
fi

seed_var=KSEED_$name
if [ ! -f "$O/.config" ] && [ -n "${!seed_var:-}" ]; then
	seed=${!seed_var}
	"$0" "$seed" "${targets[@]}" >/dev/null
	say "seeding $name from a copy of $seed's build dir (only what differs is compiled)"
	rm -rf "$O.tmp"
	cp -a "$BUILD_ROOT/$seed" "$O.tmp"
	rm -f "$O.tmp/.config.stamp" "$O.tmp"/*.log
	rm -rf "$O"
	mv "$O.tmp" "$O"
fi
mkdir -p "$O"

# Regenerate .config only when a fragment or the Kconfig files changed, so
# that an unchanged config does not touch include/config/ and rebuild.
if [ "$(cat "$O/.config.stamp" 2>/dev/null)" != "$want" ] || [ ! -f "$O/.config" ] ||
	[ -n "$(find "$KSRC" -name 'Kconfig*' -newer "$O/.config.stamp" -print -quit)" ]; then
	say "configuring $name: alldefconfig + ${!var}"
	rm -f "$O/.config.stamp"
	(cd "$KSRC" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$O" "${frags[@]}" >"$O/merge_config.log" 2>&1) ||
		die "merge_config.sh failed for $name; see $O/merge_config.log"
	"${KMAKE[@]}" -s O="$O" KCONFIG_ALLCONFIG="$O/.config" alldefconfig >"$O/kconfig.log" 2>&1 ||
		die "kconfig failed for $name; see $O/kconfig.log"

	# Every option a fragment asks for must be in the final .config; Kconfig
	# drops the ones whose dependencies are not met, silently.
	# KCONFIG_ABSENT="<symbol>...": these may be unknown to Kconfig (a
	# series' own options, in the prefixes before the patch that adds them);
	# once Kconfig knows them, they must be as asked like any other.
	bad=0
	while IFS='=' read -r sym val; do
		if [[ " ${KCONFIG_ABSENT:-} " == *" $sym "* ]] && ! grep -qE "^$sym=|^# $sym is not set" "$O/.config"; then
			say "config $name: $sym does not exist in this tree (KCONFIG_ABSENT)"
			continue
		fi
		case $val in
		n) grep -q "^$sym=" "$O/.config" && { echo "  $sym: asked n, got $(grep "^$sym=" "$O/.config")" >&2; bad=1; } ;;
		*) grep -qx "$sym=$val" "$O/.config" ||
			{ echo "  $sym: asked $val, got $(grep -E "^$sym=|^# $sym is not set" "$O/.config" || echo 'nothing (unknown symbol?)')" >&2; bad=1; } ;;
		esac
	done < <(cat "${frags[@]}" | sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1=\2/p' |
		awk -F= '{ v[$1] = $2; if (!($1 in o)) { o[$1] = n++ } } END { for (k in o) print k "=" v[k] }')
	[ $bad = 0 ] || die "config $name: the options above did not end up as asked; a dependency is missing (check 'make O=$O menuconfig')"
	echo "$want" >"$O/.config.stamp"
fi

say "building $name (${targets[*]}) in $O"
start=$SECONDS
# Progress: a line every 30 s instead of thousands of make lines.
"${KMAKE[@]}" O="$O" ${KMAKE_EXTRA:-} "${targets[@]}" >"$O/build.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
n=0
while kill -0 $pid 2>/dev/null; do
	sleep 1
	n=$((n + 1))
	[ $((n % 30)) != 0 ] ||
		say "  $name: $(grep -c '^  [A-Z]' "$O/build.log") build steps, $((SECONDS - start)) s"
done
trap - EXIT
if ! wait $pid; then
	grep -E -B2 -A6 'error(\[E[0-9]+\])?:|Error [0-9]' "$O/build.log" | head -n 60 >&2
	die "build of $name failed (full log: $O/build.log)"
fi
warnings=$(grep -c '^warning\|: warning:' "$O/build.log" || true)
say "built $name in $((SECONDS - start)) s ($(grep -cE '^ +(CC|RUSTC [A-Z]*|RUSTC)( \[M\])? ' "$O/build.log" || true) objects compiled)$([ "$warnings" = 0 ] || echo ", $warnings warning lines")"

# What the config says is what was linked: a seeded or flipped build dir
# that kept an object it should have rebuilt shows up here.
if [[ " ${targets[*]} " == *" bzImage "* || " ${targets[*]} " == *" vmlinux "* ]]; then
	has() { grep -qE " T $1\$" "$O/System.map"; }
	if grep -qx 'CONFIG_RUST=y' "$O/.config"; then
		grep -qE ' [Tt] _R[A-Za-z0-9_]+$' "$O/System.map" || die "config $name has CONFIG_RUST=y, but its System.map has no Rust symbol (_R...)"
	else
		! grep -qE ' [Tt] _R[A-Za-z0-9_]+$' "$O/System.map" || die "config $name has CONFIG_RUST=n, but its System.map has Rust symbols"
	fi
	if grep -qx 'CONFIG_IO_WQ_IDLE_RUST=y' "$O/.config"; then
		has io_wq_idle_verdict || die "config $name has CONFIG_IO_WQ_IDLE_RUST=y, but its System.map has no io_wq_idle_verdict"
	else
		! has io_wq_idle_verdict || die "config $name has no CONFIG_IO_WQ_IDLE_RUST, but its System.map has io_wq_idle_verdict"
	fi
fi
echo "$O"
