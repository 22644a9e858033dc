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
mkdir -p "$O"

frags=()
for f in ${!var}; do
	[ -f "$CONFIG_DIR/$f.config" ] || die "config '$name' names fragment '$f', but $CONFIG_DIR/$f.config does not exist"
	frags+=("$CONFIG_DIR/$f.config")
done

# Regenerate .config only when a fragment or the Kconfig files changed, so
# that an unchanged config does not touch include/config/ and rebuild.
want=$(cat "${frags[@]}" | sha256sum | cut -c1-16)
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
say "built $name in $((SECONDS - start)) s$([ "$warnings" = 0 ] || echo ", $warnings warning lines")"
echo "$O"
