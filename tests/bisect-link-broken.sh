#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The negative control of 'scripts/check.sh bisect': a prefix that compiles
# but does not link must fail it.  The bisect builds a prefix before the
# tip only to vmlinux.o (ld -r, which leaves undefined symbols alone) and
# links it in full only where vmlinux.o needs a symbol the tip's does not;
# this shows that such a prefix does get the full link, and fails there.
#
# On a branch of its own, two commits on top of series: the first calls a
# function that nothing defines (io_uring/io-wq.c, from an initcall; it
# compiles), the second reverts it, so the tip is the series and links.
# The bisect of those two commits with config norust must fail with
# "does not link", naming the symbol.  The branch goes afterwards, and
# norust's build dir is rebuilt on series.  About 3 minutes, warm.
#
#   tests/bisect-link-broken.sh [--help]
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"

case ${1:-} in
'') ;;
*) die "unknown argument '$1' (see --help)" ;;
esac
need_tree
S=$REPO/scripts
sym=io_wq_bisect_link_broken
branch=bisect-link-broken

[ -z "$(kgit status --porcelain --untracked-files=no)" ] ||
	die "$KSRC has uncommitted changes; commit or stash them first"
cleanup() {
	kgit checkout -q series
	kgit branch -q -D "$branch" 2>/dev/null || true
}
trap cleanup EXIT
kgit checkout -q -B "$branch" series
cat >>"$KSRC/io_uring/io-wq.c" <<EOF

void $sym(void);
static int __init io_wq_bisect_link_check(void)
{
	$sym();
	return 0;
}
late_initcall(io_wq_bisect_link_check);
EOF
kgit commit -q -a -m "bisect-link-broken: call $sym(), which nothing defines"
kgit revert --no-edit HEAD >/dev/null

rc=0
out=$(BISECT_REF=$branch BISECT_FROM=series BISECT_ONLY=norust "$S/check.sh" bisect 2>&1) || rc=$?
cleanup
trap - EXIT
"$S/build.sh" norust bzImage >/dev/null

echo "$out" | grep -E '^==> bisect|^error:' >&2 || true
[ $rc != 0 ] || die "the bisect passed a prefix that does not link: its partial build checks nothing at the link"
echo "$out" | grep -q "vmlinux.o needs $sym, which the tip's does not; linking in full" ||
	die "the bisect failed, but not because vmlinux.o needed $sym (output above)"
echo "$out" | grep -q '^error: patch 1/2 (bisect-link-broken: .*) does not link with config norust' ||
	die "the bisect failed, but not at the full link of the broken prefix (output above)"
say "bisect-link-broken: a prefix that compiles but leaves $sym undefined fails the bisect at its full link"
