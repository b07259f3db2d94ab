#!/usr/bin/env python3
"""Writes the PTX held in a gpu.binary (format=isa) of an MLIR file to a file.

Usage: extract_ptx.py IN.mlir OUT.ptx
"""
import re
import sys


def main():
    s = open(sys.argv[1]).read()
    m = re.search(r'assembly = "((?:[^"\\]|\\.)*)"', s)
    if not m:
        sys.exit("no PTX assembly found in " + sys.argv[1])
    raw = m.group(1)
    ptx = re.sub(r"\\([0-9A-Fa-f]{2})", lambda x: chr(int(x.group(1), 16)), raw)
    ptx = ptx.replace('\\"', '"').replace("\\\\", "\\")
    with open(sys.argv[2], "w") as f:
        f.write(ptx.rstrip("\0"))


if __name__ == "__main__":
    main()
