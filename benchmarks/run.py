#!/usr/bin/env python3
"""Time glossary builds on a synthetic corpus: clean, no-op and one-edit rebuilds.

    python benchmarks/run.py --terms 1000 5000 --runs 3

Generates each corpus with the shared make_corpus.py (``--corpus-script``), then
runs `glossary build` in a subprocess, as a user would, and prints a Markdown
table of medians with the peak memory of the builds. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gzip
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCRIPT = REPO.parent / "shared" / "bench" / "make_corpus.py"


def glossary(project: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "glossary_build", "build", "--src", str(project), "-q", *args],
                   check=True, cwd=REPO)
    return time.perf_counter() - started


def edit_body(project: Path, round_: int) -> None:
    path = sorted((project / "content/terms").glob("*.md"))[round_ * 7 % 50]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + f"\n\nEdited in round {round_}.\n", encoding="utf-8")


def edit_title(project: Path, round_: int) -> None:
    """A new title, keeping the old one as an alias so every link still resolves."""
    path = sorted((project / "content/terms").glob("*.md"))[11 + round_]
    text = path.read_text(encoding="utf-8")
    old = re.search(r"^title: (.*)$", text, re.M).group(1)
    text = text.replace(f"title: {old}", f"title: {old} Revised {round_}", 1)
    text = re.sub(r"^aliases: \[(.*)\]$", lambda m: f"aliases: [{m.group(1)}, {old}]", text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")


def measure(project: Path, runs: int) -> dict[str, float]:
    results: dict[str, list[float]] = {"clean": [], "no-op": [], "body edit": [], "title edit": []}
    for round_ in range(runs):
        results["clean"].append(glossary(project, "--clean"))
        results["no-op"].append(glossary(project))
        edit_body(project, round_)
        results["body edit"].append(glossary(project))
        edit_title(project, round_)
        results["title edit"].append(glossary(project))
    return {name: statistics.median(times) for name, times in results.items()}


def sizes(site: Path) -> dict[str, str]:
    """Raw and gzip-compressed size of the files a reader's search downloads."""
    found = {}
    for name in ("assets/search-names.js", "assets/search-summaries.js", "terms.json"):
        data = (site / name).read_bytes()
        found[name] = f"{len(data) / 1024:,.0f} KB ({len(gzip.compress(data, 6)) / 1024:,.0f} KB gzip)"
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terms", type=int, nargs="+", default=[1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus-script", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--workdir", type=Path, help="where corpora are written (default: a temporary folder)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="glossary-bench-"))
    rows = []
    for count in args.terms:
        project = workdir / f"corpus-{count}"
        shutil.rmtree(project, ignore_errors=True)
        subprocess.run([sys.executable, str(args.corpus_script), "--terms", str(count), "--out", str(project),
                        "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
        (project / "glossary.yaml").write_text("summary_length: 400\n", encoding="utf-8")
        times = measure(project, args.runs)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append((count, times, peak, sizes(project / "site")))

    print(f"glossary build on {platform.machine()}, Python {platform.python_version()}, "
          f"median of {args.runs} runs, corpus from make_corpus.py --seed 1\n")
    print("| terms | clean build | no-op rebuild | one body edited | one title edited | peak memory |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count, times, peak, _ in rows:
        print(f"| {count:,} | {times['clean']:.2f} s | {times['no-op']:.2f} s | {times['body edit']:.2f} s "
              f"| {times['title edit']:.2f} s | {peak:.0f} MiB |")
    print("\n| terms | search: names (before the first result) | search: summaries | terms.json |")
    print("|---:|---:|---:|---:|")
    for count, _, _, size in rows:
        print(f"| {count:,} | {size['assets/search-names.js']} | {size['assets/search-summaries.js']} "
              f"| {size['terms.json']} |")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
