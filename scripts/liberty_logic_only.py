#!/usr/bin/env python3
"""Copy a (gzipped) Liberty file without its non-logic cells.

ABC would otherwise pick power-isolation, probe or spare cells as logic
(see shared/pdk/README.md). Usage: liberty_logic_only.py IN.lib.gz OUT.lib
"""
import gzip
import re
import sys

SKIP = re.compile(r"lpflow_|probe|sparecell|diode|fill|tapvpwr|tapvgnd|decap|dlygate|dlymetal|clkdly|conb")
CELL = re.compile(r'^\s*cell\s*\(\s*"?([^")\s]+)"?\s*\)')


def main(src, dst):
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt") as f:
        lines = f.readlines()
    out, kept, dropped = [], 0, 0
    i = 0
    while i < len(lines):
        m = CELL.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        depth, j = 0, i
        while True:  # the cell's block ends where its braces balance
            depth += lines[j].count("{") - lines[j].count("}")
            j += 1
            if depth == 0 and j > i and "{" in "".join(lines[i:j]):
                break
        if SKIP.search(m.group(1)):
            dropped += 1
        else:
            out.extend(lines[i:j])
            kept += 1
        i = j
    with open(dst, "w") as f:
        f.writelines(out)
    print(f"{dst}: kept {kept} cells, dropped {dropped}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
