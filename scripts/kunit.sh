#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the KUnit kernel, boot it under QEMU (TCG: KVM hangs the 7.3 kernel
# on these machines), and parse the results with the kernel's kunit.py.
#
# Fails on any failed or crashed test, on a kernel that does not finish in
# time, and when a suite named in KUNIT_SUITES (base.conf) is missing from
# the results: a renamed or compiled-out suite must not look green.
. "$(dirname "$0")/lib.sh"

config=${KUNIT_CONFIG:-kunit}
timeout=${KUNIT_TIMEOUT:-300}
O=$("$(dirname "$0")/build.sh" "$config" bzImage)
log=$O/kunit-console.log
json=$O/kunit.json

say "booting $config under QEMU (TCG) to run KUnit; console log: $log"
start=$SECONDS
rc=0
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 -accel tcg -nodefaults -display none \
	-m 1024 -smp 2 -no-reboot -serial stdio \
	-kernel "$O/arch/x86/boot/bzImage" \
	-append "console=ttyS0 kunit_shutdown=reboot panic=-1 oops=panic" \
	</dev/null >"$log" 2>&1 || rc=$?
elapsed=$((SECONDS - start))
if [ $rc = 124 ] || [ $rc = 137 ]; then
	tail -n 30 "$log" >&2
	die "the kernel did not finish KUnit within $timeout s (log: $log); a hang or a very slow machine (set KUNIT_TIMEOUT)"
elif [ $rc != 0 ]; then
	tail -n 30 "$log" >&2
	die "QEMU exited with $rc (log: $log)"
fi
grep -q 'KTAP version\|TAP version' "$log" || {
	tail -n 30 "$log" >&2
	die "the kernel printed no KUnit results: it did not boot, or KUnit is not built in (log: $log)"
}

# The KUnit kernel has the bug detectors (debug.config): a splat fails it.
check_splats "$log"

rc=0
python3 "$KSRC/tools/testing/kunit/kunit.py" parse --json="$json" "$log" || rc=$?

# The suites we rely on must be there, and must have run.
missing=$(python3 - "$json" $KUNIT_SUITES <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
def walk(g):
    yield g
    for s in g.get("sub_groups", []):
        yield from walk(s)
seen = {}
for g in walk(res):
    cases = g.get("test_cases", [])
    if cases:
        seen[g["name"]] = cases
for want in sys.argv[2:]:
    cases = seen.get(want)
    if not cases:
        print(f"{want} (not in the results)")
    elif any(c["status"] not in ("PASS",) for c in cases):
        print(f"{want} (" + ", ".join(f'{c["name"]}: {c["status"]}' for c in cases if c["status"] != "PASS") + ")")
PY
) || die "could not read the KUnit results ($json)"
[ -z "$missing" ] || die "required KUnit suites missing or not passing: $missing (log: $log)"
[ $rc = 0 ] || die "KUnit reported failures or a crash (kunit.py exit $rc; log: $log)"
say "KUnit passed in $elapsed s under TCG; required suites present: $KUNIT_SUITES"
