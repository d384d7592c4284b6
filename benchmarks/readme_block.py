#!/usr/bin/env python3
"""Copies benchmarks/report.md's tables into README.md between
<!-- bench:begin --> and <!-- bench:end --> (headings one level down, the
raw benchmark output left out), so that the README's timings are always the
last `just bench` run's. benchmarks/readme_test.go checks the same rule."""
import os, sys

def block(report):
    lines = report.split("\n")
    out = []
    for l in lines[2:]:  # after "# Benchmark report" and its blank line
        if l.startswith("```"):
            break
        out.append("#" + l if l.startswith("## ") else l)
    return "\n".join(out).strip("\n")

def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    report = open(os.path.join(root, "benchmarks", "report.md")).read()
    path = os.path.join(root, "README.md")
    readme = open(path).read()
    begin, end = "<!-- bench:begin -->\n", "\n<!-- bench:end -->"
    i, j = readme.find(begin), readme.find(end)
    if i < 0 or j < i:
        sys.exit("README.md: no <!-- bench:begin --> ... <!-- bench:end --> block")
    new = readme[: i + len(begin)] + block(report) + readme[j:]
    tmp = path + ".tmp"
    open(tmp, "w").write(new)
    os.replace(tmp, path)

main()
