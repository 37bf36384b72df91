#!/usr/bin/env python3
"""Time the writer's loop: how long `glossary serve` takes to rebuild after a save.

    python benchmarks/serve_edit.py --terms 1000 10000 --runs 3

`glossary serve` keeps parsed terms, rendered bodies and page keys in memory
between rebuilds, so a save costs less than a `glossary build` in a new process
(benchmarks/run.py measures those). This script generates the same corpus as
run.py, makes the first in-memory build, then times the rebuild after a body edit,
after a new [[link]] and after a title edit, as the server does on a save (without
the HTTP part).
Not part of the test suite; standard library plus glossary itself.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this checkout's glossary, like run.py's `python -m glossary_build`
sys.path.insert(0, str(REPO / "benchmarks"))

from glossary_build.serve import LiveSite  # noqa: E402
from run import DEFAULT_SCRIPT, edit_body, edit_title  # noqa: E402


def timed_rebuild(site: LiveSite) -> tuple[float, int]:
    """Until the new site is published, as a reader waits for it; the server settles
    (collects garbage) after that, as here."""
    started = time.perf_counter()
    problems = [d for d in site.rebuild() if d.severity == "error"]
    seconds = time.perf_counter() - started
    site.settle()
    if problems:
        raise SystemExit(f"the rebuild failed: {problems[0].format()}")
    return seconds, site.written


def add_link(terms: Path, round_: int) -> None:
    """A sentence with a [[link]] to a term the edited one did not link to."""
    files = sorted(terms.glob("*.md"))
    path, target = files[30 + round_], files[-1 - round_].stem
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + f"\n\nCompare [[{target}]].\n", encoding="utf-8")


def measure(project: Path, runs: int) -> dict[str, float]:
    site = LiveSite(project)
    first, _ = timed_rebuild(site)
    terms = project / "content" / "terms"
    times: dict[str, list[float]] = {"body": [], "link": [], "title": []}
    pages: dict[str, list[int]] = {"body": [], "link": [], "title": []}
    for round_ in range(runs):
        for kind, change in (("body", edit_body), ("link", add_link), ("title", edit_title)):
            change(terms, round_)
            seconds, written = timed_rebuild(site)
            times[kind].append(seconds)
            pages[kind].append(written)
    return {"first": first, **{kind: statistics.median(values) for kind, values in times.items()},
            **{f"{kind} pages": statistics.median(values) for kind, values in pages.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terms", type=int, nargs="+", default=[1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus-script", type=Path, default=DEFAULT_SCRIPT)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="glossary-serve-bench-"))
    rows = []
    try:
        for count in args.terms:
            project = workdir / f"corpus-{count}"
            subprocess.run([sys.executable, str(args.corpus_script), "--terms", str(count), "--out", str(project),
                            "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
            (project / "glossary.yaml").write_text("summary_length: 400\n", encoding="utf-8")
            rows.append((count, measure(project, args.runs)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"glossary serve, rebuild after a save (in memory), median of {args.runs}\n")
    print("| terms | first build | one body edited | one link added | one title edited "
          "| pages rendered: body | link | title |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count, row in rows:
        print(f"| {count:,} | {row['first']:.2f} s | {row['body'] * 1000:.0f} ms | {row['link'] * 1000:.0f} ms "
              f"| {row['title']:.2f} s | {row['body pages']:,.0f} | {row['link pages']:,.0f} "
              f"| {row['title pages']:,.0f} |")


if __name__ == "__main__":
    main()
