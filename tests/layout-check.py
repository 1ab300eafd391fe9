#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks the README's layout table against the tree: every row's directory
# exists; every name a row gives in backticks that looks like a file or a
# directory (a dot or a trailing slash, or a C file's stem in the source
# directories) exists there; and every C source, script and subdirectory of
# the directories below is named in its row, so a new file shows in the
# table or fails this test.
#   layout-check.py [REPOSITORY ROOT]
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..")
readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
table = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]

rows = {}
for line in table.splitlines():
    m = re.match(r"\| `([^`]+)` \| (.*) \|$", line)
    if m:
        rows[m.group(1)] = re.findall(r"`([^`]+)`", m.group(2))

# the directories whose files must all be named: (row, subdir, suffixes)
COMPLETE = [
    ("gst/trickle/", "", (".c",)),
    ("plugins/trickle/", "", (".c",)),
    ("examples/", "", (".c", ".py")),
    ("tools/", "", (".c",)),
    ("tests/", "", (".sh", ".py", ".supp")),
    ("docs/", "", (".md",)),
]
errors = []
for path in ("gst/trickle/", "plugins/trickle/", "examples/", "tools/",
             "tests/", "docs/"):
    if path not in rows:
        errors.append("no row for %s" % path)

for path, names in rows.items():
    d = os.path.join(root, path)
    if not os.path.isdir(d):
        errors.append("row %s: no such directory" % path)
        continue
    stems = {os.path.splitext(f)[0] for f in os.listdir(d)}
    subdirs = [os.path.join(d, s) for s in os.listdir(d)
               if os.path.isdir(os.path.join(d, s))]
    for name in names:
        if ":" in name or " " in name:
            continue
        looks_like_path = re.search(r"\.[a-z]+$", name) or name.endswith("/")
        is_stem = path == "gst/trickle/" and re.fullmatch(r"trickle[a-z]+",
                                                           name)
        if is_stem:
            if name not in stems:
                errors.append("row %s names %s: no such file" % (path, name))
        elif looks_like_path and not name.startswith("build/"):
            # in the row's directory, one of its subdirectories, or the root
            where = [d] + subdirs + [root]
            if not any(os.path.exists(os.path.join(w, name.rstrip("/")))
                       for w in where):
                errors.append("row %s names %s: no such file" % (path, name))

for path, _, suffixes in COMPLETE:
    d = os.path.join(root, path)
    named = set(rows.get(path, []))
    for f in sorted(os.listdir(d)):
        full = os.path.join(d, f)
        if os.path.isdir(full):
            if not any(n == f + "/" or n.startswith(f + "/") for n in named):
                errors.append("%s%s/ is not in the layout table" % (path, f))
        elif f.endswith(suffixes):
            stem = os.path.splitext(f)[0]
            if f not in named and stem not in named:
                errors.append("%s%s is not in the layout table" % (path, f))

for e in errors:
    print(e)
sys.exit(1 if errors else 0)
