#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""reStructuredText syntax check of the series' Documentation/ pages.

Parses each file with docutils at warning level, with Sphinx's toctree
directive known (its entries must exist), and fails on any message.
Usage: rst-check.py <Documentation dir of the tree> <file.rst>...
"""
import os
import sys

import docutils.core
import docutils.utils
from docutils.parsers.rst import Directive, directives


class TocTree(Directive):
    has_content = True
    option_spec = {"maxdepth": directives.nonnegative_int, "caption": directives.unchanged,
                   "glob": directives.flag, "hidden": directives.flag, "numbered": directives.flag,
                   "titlesonly": directives.flag}

    def run(self):
        base = os.path.dirname(self.state.document.current_source)
        for entry in self.content:
            entry = entry.strip()
            if entry and not os.path.exists(os.path.join(base, entry + ".rst")):
                raise self.error(f"toctree entry {entry!r} has no {entry}.rst")
        return []


directives.register_directive("toctree", TocTree)
bad = 0
for path in sys.argv[2:]:
    full = os.path.join(sys.argv[1], path)
    try:
        docutils.core.publish_doctree(
            open(full, encoding="utf-8").read(), source_path=full,
            settings_overrides={"report_level": 2, "halt_level": 2, "warning_stream": sys.stderr})
    except docutils.utils.SystemMessage as e:
        print(f"{path}: {e}", file=sys.stderr)
        bad = 1
sys.exit(bad)
