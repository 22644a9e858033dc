#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table, raw samples and CDF plot from the console logs of scripts/bench.sh.

Logs are named <config>.<round>.log and hold "BENCH <metric> <value>" lines
(tests/iowq/src/bench.rs).  Writes <out>.txt (the table, with the kernels
and the date), <out>.tsv (every sample) and <out>-cdf.png (gnuplot), and
prints the table.  Exits non-zero when a metric is missing for a kernel.

--method icount (scripts/bench.sh's default): the guest ran under QEMU's
-icount shift=0,sleep=off, where a guest nanosecond is one instruction, so
the table gives instructions: per close-to-exit, per cycle, per request
(1e9 / the guest's ops/s), lower is better everywhere.  --method tcg: host
wall time as the guest saw it, microseconds and ops/s.
"""
import argparse
import datetime
import os
import random
import re
import subprocess
import sys


def pct(v, p):
    """Percentile p (0..100) of sorted list v, linear interpolation."""
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def ci(r, c, p, digits, n=2000):
    """95% interval of pct(R, p) / pct(C, p), by resampling whole boots.

    r and c map a boot (round) to its samples.  Samples of one boot are not
    independent (they share the boot's memory layout, caches and the host's
    load at the time), so the bootstrap draws boots with replacement and
    pools their samples; with few boots the interval is wide, as it should be.
    """
    rng = random.Random(1)
    rb, cb = list(r.values()), list(c.values())
    q = []
    for _ in range(n):
        rr = sorted(v for b in (rng.choice(rb) for _ in rb) for v in b)
        cc = sorted(v for b in (rng.choice(cb) for _ in cb) for v in b)
        if pct(cc, p) > 0:
            q.append(pct(rr, p) / pct(cc, p))
    if not q:
        return "n/a"
    q.sort()
    return f"{pct(q, 2.5):.{digits}f}-{pct(q, 97.5):.{digits}f}"


def by_boot(s, m):
    """{round: [values]} of metric m."""
    d = {}
    for rnd, v in s[m]:
        d.setdefault(rnd, []).append(v)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--rust", required=True, help="config name of the Rust kernel")
    ap.add_argument("--c", required=True, help="config name of the C kernel")
    ap.add_argument("--info", action="append", default=[])
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--aa", action="store_true", help="A/A control: both columns are one kernel")
    ap.add_argument("--method", choices=("icount", "tcg"), default="icount")
    ap.add_argument("logs", nargs="+")
    a = ap.parse_args()

    # samples[config][metric] = [(round, value)]
    samples = {a.rust: {}, a.c: {}}
    clock = {}
    for path in a.logs:
        m = re.match(r"(.+)\.(\d+)\.log$", os.path.basename(path))
        if not m or m.group(1) not in samples:
            sys.exit(f"bench-report: unexpected log name {path}")
        cfg, rnd = m.group(1), int(m.group(2))
        with open(path, errors="replace") as f:
            for line in f:
                b = re.match(r"BENCH (\S+) ([-0-9.]+)\s*$", line)
                if b:
                    samples[cfg].setdefault(b.group(1), []).append((rnd, float(b.group(2))))
                c = re.search(r"clocksource (\S+)\)", line)
                if c:
                    clock[cfg] = c.group(1)

    metrics = ["exit_us", "hot_read_qd1_ops", "hot_read_qd32_ops", "hot_write_qd1_ops",
               "hot_write_qd32_ops", "churn_workers", "cycle_us"]
    # NOPs alternating between rings: 2 or 4 rings, one at a time or in batches of 8.
    switch = ["switch_r2_b1_ops", "switch_r2_b8_ops", "switch_r4_b1_ops", "switch_r4_b8_ops"]
    metrics += switch
    missing = [f"{m} on {k}" for k in samples for m in metrics if m not in samples[k]]
    if missing:
        sys.exit("bench-report: no samples for " + ", ".join(missing))

    icount = a.method == "icount"
    if icount:
        # Guest ns are instructions: us -> x1000; ops/s -> 1e9 / rate.
        for k in samples:
            for m, v in samples[k].items():
                if m.endswith("_us"):
                    samples[k][m] = [(r, x * 1e3) for r, x in v]
                elif m.endswith("_ops"):
                    samples[k][m] = [(r, 1e9 / x) for r, x in v]
    digits = 4 if icount else 2
    R, C = samples[a.rust], samples[a.c]
    vals = lambda s, m: sorted(v for _, v in s[m])
    rows = []
    bars = []
    central = []  # ratios of the medians: what the bars and the A/A spread judge

    def row(name, r, c, fmt, interval=""):
        ratio = r / c if c else float("nan")
        rows.append((name, fmt.format(r), fmt.format(c), f"{ratio:.{digits}f}", interval))
        return ratio

    unit = "instructions" if icount else "us"
    num = "{:.0f}" if icount else "{:.1f}"
    for m, label, bar in (("exit_us", f"close() of the last ring to no iou-wrk, {unit}", 1.01 if icount else 1.00),
                          ("cycle_us", f"ring open+write+close cycle, {unit}", 1.01 if icount else None)):
        r, c = vals(R, m), vals(C, m)
        rows.append((f"{label} (n={len(r)}/{len(c)})", "", "", "", ""))
        for p, pn in ((50, "median"), (90, "p90"), (99, "p99")):
            ratio = row(f"  {pn}", pct(r, p), pct(c, p), num, ci(by_boot(R, m), by_boot(C, m), p, digits))
            if p == 50:
                central.append(ratio)
            if bar and p == 50:
                bars.append((f"median {m[:-3]} Rust/C <= {bar:.2f}", ratio, ratio <= bar))
        row("  mean", sum(r) / len(r), sum(c) / len(c), num)
    def per_request_row(m, label, bar_name):
        # A per-request row: instructions per request (icount) or ops/s,
        # the median of the runs, with its bar: Rust at most 0.5% dearer.
        r, c = vals(R, m), vals(C, m)
        ratio = row(f"  {label}", pct(r, 50), pct(c, 50), num if icount else "{:.0f}",
                    ci(by_boot(R, m), by_boot(C, m), 50, digits))
        central.append(ratio)
        if icount:
            bars.append((f"{bar_name} Rust/C <= 1.005", ratio, ratio <= 1.005))
        else:
            bars.append((f"{bar_name} Rust/C >= 0.99", ratio, ratio >= 0.99))

    per = "instructions per request" if icount else "ops/s"
    rows.append((f"hot path, {per} (median of runs)", "", "", "", ""))
    for m in metrics[1:5]:
        per_request_row(m, m[4:-4].replace("_", " "), f"hot path {m[4:-4]}")
    rows.append((f"ring switch (NOPs), {per} (median)", "", "", "", ""))
    for m in switch:
        n, b = re.match(r"switch_r(\d+)_b(\d+)_ops$", m).groups()
        per_request_row(m, f"{n} rings in turn, {'1 NOP' if b == '1' else f'{b} NOPs'} each",
                        f"ring switch {n} rings batch {b}")
    r, c = [int(v) for _, v in sorted(R["churn_workers"])], [int(v) for _, v in sorted(C["churn_workers"])]
    rows.append(("churn: workers created per round", " ".join(map(str, r)), " ".join(map(str, c)),
                 "equal" if r == c else "DIFFERENT", ""))
    bars.append(("churn equal", float("nan"), r == c))

    w = max(len(x[0]) for x in rows)
    ca, cb, cq = f"Rust ({a.rust})", f"C ({a.c})", "Rust/C"
    if a.aa:
        ca, cb, cq = f"A ({a.rust})", f"A again ({a.c})", "A/A"
    head = f"{'':{w}}  {ca:>22}  {cb:>22}  {cq:>8}  {'range':>15}"
    table = [head, "-" * len(head)]
    table += [f"{n:{w}}  {r:>22}  {c:>22}  {q:>8}  {i:>15}" for n, r, c, q, i in rows]
    table.append("")
    table.append("range: 95% bootstrap interval of the ratio, drawing whole boots: samples")
    table.append("of one boot are not independent, boots are.")
    if icount:
        table.append("instructions: guest nanoseconds under -icount shift=0,sleep=off, one vCPU:")
        table.append("every instruction the guest executed in the interval, all tasks and the")
        table.append("kernel's included (the close-to-exit row counts the test's /proc poll loop")
        table.append("while the exit waits for timer-driven steps).")
    table.append("")
    if a.aa:
        spread = max(abs(x - 1) for x in central)
        table.append(f"A/A spread: largest |ratio - 1| of the medians = {100 * spread:.2f}%")
    for name, ratio, ok in [] if a.aa else bars:
        table.append(f"bar: {name}: {'met' if ok else 'NOT met'}"
                     + ("" if ratio != ratio else f" ({ratio:.{digits}f})"))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    how = "instruction counts (QEMU -icount)" if icount else "wall time (QEMU TCG)"
    header = [f"io-wq exit-on-idle: Rust vs C by {how}, {now}" + (" (SMOKE: harness check, not a measurement)" if a.smoke else "")]
    if a.aa:
        header = [f"io-wq exit-on-idle: A/A control by {how}, {a.rust} against itself, {now}",
                  "Both columns are boots of ONE kernel, interleaved as a Rust/C run would be:",
                  "a ratio away from 1.000 here is run-to-run noise of this machine and harness."]
    header += a.info
    if clock:
        header.append("guest clocksource: " + ", ".join(f"{k} {v}" for k, v in sorted(clock.items())))
    header.append("")
    text = "\n".join(header + table) + "\n"
    print(text, end="")
    with open(a.out + ".txt", "w") as f:
        f.write(text)
    with open(a.out + ".tsv", "w") as f:
        f.write("kernel\tround\tmetric\tvalue\n")
        for k in (a.rust, a.c):
            for m in metrics:
                for rnd, v in samples[k][m]:
                    f.write(f"{k}\t{rnd}\t{m}\t{v}\n")

    # CDFs: one data file per kernel and metric, then gnuplot.
    dat = {}
    for k in (a.rust, a.c):
        for m in ("exit_us", "cycle_us"):
            v = vals(samples[k], m)
            p = f"{a.out}.{k}.{m}.dat"
            with open(p, "w") as f:
                for i, x in enumerate(v):
                    f.write(f"{x}\t{(i + 1) / len(v)}\n")
            dat[k, m] = p
    ta, tb = ("A", "A again") if a.aa else ("Rust", "C")
    gp = f"""
set terminal pngcairo size 1200,500 font ",10" noenhanced
set output "{a.out}-cdf.png"
set multiplot layout 1,2 title "io-wq exit-on-idle, {"A" if a.aa else "Rust"} ({a.rust}) vs {"A again" if a.aa else "C"} ({a.c}), {how}, {now}"
set grid
set ylabel "fraction of samples"
set xlabel "close() of the last ring to no iou-wrk thread ({unit})"
set title "close-to-exit latency CDF"
# The curves climb at the right: the legend goes where they are not.
set key top left
plot "{dat[a.rust, 'exit_us']}" using 1:2 with steps lw 2 title "{ta}", \\
     "{dat[a.c, 'exit_us']}" using 1:2 with steps lw 2 title "{tb}"
set xlabel "ring open + IOSQE_ASYNC write + close ({unit})"
set title "open+use+close cycle CDF"
set key bottom right
plot "{dat[a.rust, 'cycle_us']}" using 1:2 with steps lw 2 title "{ta}", \\
     "{dat[a.c, 'cycle_us']}" using 1:2 with steps lw 2 title "{tb}"
unset multiplot
"""
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
    for p in dat.values():
        os.remove(p)
    print(f"results: {a.out}.txt, samples: {a.out}.tsv, plot: {a.out}-cdf.png")


if __name__ == "__main__":
    main()
