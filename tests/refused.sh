# SPDX-License-Identifier: GPL-2.0
# Sourced by the negative controls in tests/.
#
# refused <what> <text> <command...>: the command must fail, and its output
# must hold <text> (a fixed string).  Prints the line that says it, or what
# went wrong; on a miss sets fail=1 in the caller.
refused() {
	local what=$1 want=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ $rc = 0 ]; then
		echo "  passed on $what: $*" >&2
		fail=1
	elif ! grep -qF -- "$want" <<<"$out"; then
		echo "  failed on $what, but without \"$want\": $*" >&2
		echo "$out" | tail -n 5 >&2
		fail=1
	else
		echo "  $what: $(grep -m1 -F -- "$want" <<<"$out" | sed 's/^ *//')"
	fi
}
