#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that every measured number the texts quote is in a results file.

The texts: README.md, each base's cover letters (bases/<base>/covers/) and
the commit messages of its patches (bases/<base>/patches/*/, up to the
"---" line).  The results files: what the measuring runs wrote,
bases/<base>/results/* and bases/<base>/bench/*.txt, as committed (HEAD)
and as in the working tree.  Both, because a run of make test rewrites
its results files in the working tree (CI's clone included) while the
texts quote the committed ones, and a session checks its texts against
the files a run has just written, before it commits them.

A measured number is, in a text:
  - a number with a time or ratio unit: "46.4 ms", "5 s", "0.2 %", "3x";
    both ends of a range, "33-118 ms";
  - a duration "N min M s" or "N h M min" (checked as seconds), or "N min"
    (any whole number of seconds in a results file that rounds to it);
  - a decimal with three or more places ("1.0020": a ratio);
  - an integer of four or more digits ("345268 requests", "1,401,008
    states"), not a year, a date, a hash, an address or a version;
  - a number alone in a cell of a Markdown table of README.md.
Each must be found in a results file, as a whole number (not part of a
longer one).  What it cannot see: a small integer with a unit ("5 s")
is in almost every results file, so a wrong one passes; a number written
in words; a number outside these forms.  Constants that are not measured
(bounds, timeouts, budgets) are found in the results files that print
them, or are listed in CONSTANTS below with what they are.

usage: scripts/claims.py [--repo <dir>] [--verbose]
Exits 1, naming each text, line and number that no results file holds.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

# Numbers the texts give that no run measures: name them here, with what
# they are, rather than loosening the forms above.
CONSTANTS = {
    "90 min": "CI's time limit",
    "40 min": "issue 23's goal for a warm make test-all",
    "15 min": "issue 23's goal for make demo from nothing",
    "60 s": "liburing.sh's per-test timeout; CRIU's dump deadline",
    "25 s": "stress.sh's short profile: seconds per program",
    "240 s": "stress.sh's long profile: seconds per program",
    "2 s": "the scenarios' bound on close-to-exit (2000 ms)",
    "5 s": "io-wq's idle timeout (IO_WORKER_IDLE_TIMEOUT, 5 * HZ)",
    "6.5 s": "how long a scenario waits to see a worker kept past the idle timeout",
    "3 s": "iowq-aff's lower bound",
    "120 s": "the hung-task timeout during the guest's boot (debug.config)",
}

UNIT = r"(?:ms|s|µs|us|ns|min|minutes|h|%|x)"
NUM = r"\d+(?:\.\d+)?"
# Forms, most specific first; each match is consumed so its parts are not
# taken again by a later form.
FORMS = [
    ("hmin", re.compile(r"(?<![\w.])(\d+) h (\d+) min\b")),
    ("mins", re.compile(r"(?<![\w.])(\d+) min (\d+) s\b")),
    ("range", re.compile(rf"(?<![\w.])({NUM}) ?(?:-|–|\.\.) ?({NUM}) ?({UNIT})(?![\w])")),
    ("min", re.compile(r"(?<![\w.])(\d+) (?:min|minutes)\b")),
    ("unit", re.compile(rf"(?<![\w.])({NUM}) ?({UNIT})(?![\w])")),
    ("ratio", re.compile(r"(?<![\w.])(\d+\.\d{3,})(?![\d.])")),
    ("grouped", re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+)(?![\d]|,\d)")),
    ("big", re.compile(r"(?<![\w.:/@+#-])(\d{4,})(?![\w.:/@-])")),
]


def is_not_measured_big(text, m):
    n = m.group(1)
    if 1990 <= int(n) <= 2099:  # a year
        return True
    return False


RESULTS = ("bases/*/results/*", "bases/*/bench/*.txt")


def committed_results(repo):
    """The results files as HEAD has them; none if repo is not a git work tree."""
    git = ["git", "-C", repo]
    try:
        top = subprocess.run(git + ["rev-parse", "--show-toplevel"], capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return []
    if os.path.realpath(top) != os.path.realpath(repo):
        return []
    files = subprocess.run(git + ["ls-tree", "-r", "--name-only", "HEAD", "--", "bases"], capture_output=True,
                           text=True, check=True).stdout.split("\n")
    out = []
    for f in files:
        if any(re.fullmatch(p.replace(".", r"\.").replace("*", "[^/]*"), f) for p in RESULTS):
            out.append(subprocess.run(git + ["show", f"HEAD:{f}"], capture_output=True, text=True,
                                      errors="replace", check=True).stdout)
    return out


def results_numbers(repo):
    text = committed_results(repo)
    for pat in RESULTS:
        for f in sorted(glob.glob(os.path.join(repo, pat))):
            if os.path.isfile(f):
                with open(f, errors="replace") as fh:
                    text.append(fh.read())
    text = "\n".join(text)
    nums = set(re.findall(r"(?<![\d.])\d+(?:\.\d+)?(?![\d]|\.\d)", text))
    ints = {int(n) for n in nums if "." not in n}
    return text, nums, ints


def texts(repo):
    yield "README.md", open(os.path.join(repo, "README.md")).read()
    for f in sorted(glob.glob(os.path.join(repo, "bases/*/covers/*"))):
        yield os.path.relpath(f, repo), open(f).read()
    for f in sorted(glob.glob(os.path.join(repo, "bases/*/patches/*/[0-9]*.patch"))):
        if os.path.basename(f).startswith("0000-"):
            continue
        body = open(f).read()
        # The message: after the headers, up to the "---" before the diffstat.
        head, _, rest = body.partition("\n\n")
        msg = rest.split("\n---\n", 1)[0]
        # Keep line numbers: count the header lines as blank ones.
        yield os.path.relpath(f, repo), "\n" * (head.count("\n") + 2) + msg


def strip_code(line):
    """Blank out `code` spans and URLs, keeping the columns."""
    line = re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), line)
    line = re.sub(r"https?://\S+|<[^>\s]+@[^>\s]+>|\S+@\S+\.\w+", lambda m: " " * len(m.group(0)), line)
    # Hashes, dates and times, versions, ids: not measurements.
    line = re.sub(r"\b[0-9a-f]{7,40}\b", lambda m: " " * len(m.group(0)), line)
    line = re.sub(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{2}:\d{2}(?::\d{2})?\b", lambda m: " " * len(m.group(0)), line)
    line = re.sub(r"\bv?\d+\.\d+(?:\.\d+)+(?:-\S+)?|\bv\d+\.\d+\b|\b\d+\.\d+\.y\b", lambda m: " " * len(m.group(0)), line)
    return line


def claims(name, text):
    """Yield (line number, the words, [numbers], kind) for each measured number."""
    in_fence = False
    for i, raw in enumerate(text.split("\n"), 1):
        if raw.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        line = strip_code(raw)
        for kind, rx in FORMS:
            def take(m):
                if kind == "big" and is_not_measured_big(line, m):
                    return m.group(0)
                found.append((kind, m))
                return " " * len(m.group(0))
            found = []
            line = rx.sub(take, line)
            for k, m in found:
                yield i, m.group(0), k, m
        if name == "README.md" and raw.lstrip().startswith("|") and not re.match(r"^\s*\|[\s|:-]+\|\s*$", raw):
            for cell in line.strip().strip("|").split("|"):
                m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)(?:\s*\([^)]*\))?\s*", cell)
                if m:
                    yield i, m.group(1), "cell", m


def holds(kind, m, nums, ints):
    g = m.groups()
    if kind == "hmin":
        return int(g[0]) * 3600 + int(g[1]) * 60 in ints or any(
            int(g[0]) * 3600 + int(g[1]) * 60 <= n < int(g[0]) * 3600 + int(g[1]) * 60 + 60 for n in ints)
    if kind == "mins":
        return int(g[0]) * 60 + int(g[1]) in ints
    if kind == "min":
        return any(round(n / 60) == int(g[0]) for n in ints)
    if kind == "range":
        return g[0] in nums and g[1] in nums
    if kind == "grouped":
        return g[0].replace(",", "") in nums
    return g[0] in nums


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="the repo to check (default: this one)")
    ap.add_argument("--verbose", action="store_true", help="print every number and where it was found")
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.repo, "README.md")):
        sys.exit(f"error: {a.repo} has no README.md: give the repo's top directory with --repo")
    _, nums, ints = results_numbers(a.repo)
    if not nums:
        sys.exit(f"error: no results files under {a.repo}/bases/*/results: run make test first")
    bad = total = 0
    for name, text in texts(a.repo):
        for line, words, kind, m in claims(name, text):
            total += 1
            if words in CONSTANTS or holds(kind, m, nums, ints):
                if a.verbose:
                    print(f"  ok {name}:{line}: {words}")
                continue
            bad += 1
            print(f"  {name}:{line}: \"{words}\" is in no results file")
    if bad:
        print(f"error: {bad} of the {total} measured numbers in the texts are in no results file "
              "(bases/*/results, bases/*/bench): quote what a run wrote, or rerun what measured it",
              file=sys.stderr)
        sys.exit(1)
    print(f"==> claims: all {total} measured numbers in README, covers and commit messages are in results files",
          file=sys.stderr)


if __name__ == "__main__":
    main()
