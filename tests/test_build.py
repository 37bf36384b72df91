"""The pipeline as a whole: deterministic output, check() that writes nothing, drafts, --strict."""

from __future__ import annotations

import json
import shutil
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup

from conftest import page, run_build, run_check, term_text, terms, tree_bytes, tree_listing
from glossary_build.diagnostics import WARNING, BuildFailed

# -- determinism ------------------------------------------------------------------------

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

DETERMINISM_TERMS = {
    "content/terms/eclair.md": """\
---
title: Éclair
summary: A long choux pastry filled with cream.
aliases: [choux bun, Chou à la crème]
category: Pâtisserie
tags: [sweet, french]
related: [zeta, 42 rule]
updated: 2026-11-20T23:30:00-10:00
faqs:
  - q: Is an Éclair the same as a profiterole?
    a: No. Both use choux pastry, but see [[zeta]] for the naming rule.
  - q: Why is it glazed?
    a: Tradition, and the **42 rule**.
---
An Éclair is a choux bun with a glaze. Its shape follows the 42 rule; compare Zeta.
""",
    "content/terms/zeta.md": """\
---
title: Zeta
summary: The sixth letter of the Greek alphabet.
aliases: [ζ, zeta function name]
category: Letters
updated: 2026-01-02
---
Zeta comes after epsilon. Bakers name each Éclair batch after a letter, following the [[42-rule|rule]].
""",
    "content/terms/42-rule.md": """\
---
title: 42 rule
summary: Every answer is forty-two.
aliases: [answer rule]
category: Letters
related: [Ångström]
faqs:
  - q: Where does the rule come from?
    a: A novel; the answer rule appears with each [[Zeta]] chapter.
---
The 42 rule applies to every choux bun and to the Ångström too.
""",
    "content/terms/angstrom.md": """\
---
title: Ångström
summary: A unit of length, 0.1 nanometres.
category: Units
---
One Ångström is tiny; an éclair is about 10^11 of them, says the 42 rule.
""",
    "content/terms/alpha.md": """\
---
title: alpha
summary: The first Greek letter, lowercase on purpose.
category: letters and more
tags: [greek]
---
Alpha precedes Zeta and names the first Éclair of the day.
""",
}


def write_in_order(root: Path, names: list[str], first_mtime: int, step: int) -> None:
    """Create the term files one by one in the given order, each with its own mtime."""
    for position, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DETERMINISM_TERMS[name], encoding="utf-8")
        stamp = first_mtime + position * step
        os.utime(path, (stamp, stamp))
    (root / "glossary.yaml").write_text("title: Bakery & Letters\nbase_url: https://example.org/g/\n", encoding="utf-8")


def build_command(src: Path, out: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "glossary_build", "build", "--src", str(src), "--out", str(out)],
        env={**os.environ, **env}, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_builds_are_byte_identical_across_environments_and_file_order(tmp_path):
    names = sorted(DETERMINISM_TERMS)
    first, second = tmp_path / "first", tmp_path / "second"
    write_in_order(first, names, first_mtime=1_700_000_000, step=60)
    write_in_order(second, list(reversed(names)), first_mtime=1_800_000_000, step=-3600)
    runs = [
        build_command(first, tmp_path / "out-first", {"TZ": "UTC", "PYTHONHASHSEED": "1", "LC_ALL": "C"}, first),
        build_command(second, tmp_path / "out-second",
                      {"TZ": "Pacific/Kiritimati", "PYTHONHASHSEED": "2", "LC_ALL": "C.UTF-8"}, tmp_path),
    ]
    for run in runs:
        stdout, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, stderr.decode()

    one, two = tree_bytes(tmp_path / "out-first"), tree_bytes(tmp_path / "out-second")
    assert sorted(one) == sorted(two)
    assert [path for path in one if one[path] != two[path]] == []
    assert {"index.html", "terms/eclair/index.html", "terms/42-rule/index.html", "sitemap.xml",
            "terms.json", "categories/patisserie/index.html"} <= set(one)

    for tree in (tmp_path / "out-first", tmp_path / "out-second"):
        eclair = BeautifulSoup((tree / "terms/eclair/index.html").read_text(encoding="utf-8"), "html.parser")
        assert eclair.find("time")["datetime"] == "2026-11-20"
        assert eclair.find("time").get_text() == "2026-11-20"
        sitemap = ElementTree.parse(tree / "sitemap.xml").getroot()
        lastmod = {
            url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
            for url in sitemap.iter(f"{SITEMAP}url") if url.find(f"{SITEMAP}lastmod") is not None
        }
        assert lastmod == {
            "https://example.org/g/terms/eclair/": "2026-11-20",
            "https://example.org/g/terms/zeta/": "2026-01-02",
        }


# -- check() --------------------------------------------------------------------------


def test_check_writes_nothing_and_reports_every_problem_sorted(make_site):
    root = make_site({
        **terms(
            zulu=term_text("Zulu", body="Zulu mentions Mike and Alpha.\n\nThen [[nothing here]].\n\nAnd [[nor-this]]."),
            mike=term_text("Mike", body="Mike mentions Zulu.", relatd="[zulu]"),
            kilo="---\ntitle: Kilo\n---\nKilo has no summary.\n",
            alpha=term_text("Alpha", body="Alpha links [[zulu]].", related=["missing-one"]),
        ),
    })
    before = tree_listing(root), tree_bytes(root)

    result = run_check(root)

    assert result.glossary is None
    assert not (root / "site").exists()
    assert (tree_listing(root), tree_bytes(root)) == before
    found = [(d.path, d.line, d.severity) for d in result.diagnostics]
    assert found == [
        ("content/terms/alpha.md", 4, "error"),  # related: [missing-one]
        ("content/terms/kilo.md", 1, "error"),  # no summary
        ("content/terms/mike.md", 4, "error"),  # unknown key relatd
        ("content/terms/zulu.md", 7, "error"),  # [[nothing here]]
        ("content/terms/zulu.md", 9, "error"),  # [[nor-this]]
    ]
    messages = [d.message for d in result.diagnostics]
    assert "missing-one" in messages[0]
    assert "summary" in messages[1]
    assert "relatd" in messages[2] and "related" in messages[2]
    assert "[[nothing here]]" in messages[3]
    assert "[[nor-this]]" in messages[4]


def test_check_of_a_good_project_writes_nothing(make_site):
    root = make_site(terms(
        one=term_text("One", body="One before [[two]]."),
        two=term_text("Two", body="Two after [[one]]."),
    ))
    result = run_check(root)
    assert result.glossary is not None and sorted(result.glossary.terms) == ["one", "two"]
    assert result.diagnostics == []
    assert sorted(p.name for p in root.iterdir()) == ["content"]


# -- drafts ---------------------------------------------------------------------------


def draft_project() -> dict[str, str]:
    return terms(
        lora=term_text("LoRA", body="LoRA adapts a [[base-model]]."),
        base_model=term_text("Base model", body="A base model is what LoRA starts from."),
        secret=term_text("Secret sauce", body="Not ready: mentions LoRA.", draft="true"),
    )


def test_draft_is_left_out_unless_drafts(make_site):
    root = make_site(draft_project())

    run_build(root)
    assert not (root / "site/terms/secret").exists()
    published = json.loads((root / "site/terms.json").read_text(encoding="utf-8"))
    assert [t["slug"] for t in published["terms"]] == ["base-model", "lora"]
    assert "Secret sauce" not in (root / "site/index.html").read_text(encoding="utf-8")
    assert "terms/secret/" not in (root / "site/sitemap.xml").read_text(encoding="utf-8")

    run_build(root, drafts=True)
    assert page(root, "terms/secret/index.html").h1.get_text() == "Secret sauce"
    published = json.loads((root / "site/terms.json").read_text(encoding="utf-8"))
    assert [t["slug"] for t in published["terms"]] == ["base-model", "lora", "secret"]


def test_link_to_a_draft_fails_naming_file_and_line_unless_drafts(make_site):
    root = make_site({
        **draft_project(),
        **terms(lora=term_text("LoRA", body="LoRA adapts a [[base-model]].\n\nIts trick: [[secret]].")),
    })

    with pytest.raises(BuildFailed) as failed:
        run_build(root)
    problems = [(d.path, d.line) for d in failed.value.diagnostics if "draft" in d.message]
    assert problems == [("content/terms/lora.md", 7)]
    assert "[[secret]]" in failed.value.diagnostics[0].message
    assert not (root / "site").exists()

    result = run_build(root, drafts=True)
    assert result.terms == 3
    link = page(root, "terms/lora/index.html").find("a", href="../../terms/secret/index.html")
    assert link is not None and link.get_text() == "secret"


# -- --strict ---------------------------------------------------------------------------


def orphan_project() -> dict[str, str]:
    return terms(
        one=term_text("One", body="One before [[two]]."),
        two=term_text("Two", body="Two after [[one]]."),
        lonely=term_text("Lonely", body="Nobody mentions this term."),
    )


def test_orphan_is_a_warning_in_a_normal_build(make_site):
    root = make_site(orphan_project())
    result = run_build(root)
    assert result.terms == 3
    assert [(d.path, d.line, d.severity) for d in result.diagnostics] == [
        ("content/terms/lonely.md", 1, WARNING)
    ]
    assert "orphan" in result.diagnostics[0].message
    assert (root / "site/terms/lonely/index.html").is_file()


def test_strict_turns_orphan_warning_into_failure(make_site):
    root = make_site(orphan_project())
    with pytest.raises(BuildFailed) as failed:
        run_build(root, strict=True)
    assert [(d.path, d.severity) for d in failed.value.diagnostics] == [("content/terms/lonely.md", WARNING)]
    assert not (root / "site").exists()


def test_strict_failure_keeps_the_previous_site(make_site):
    root = make_site(orphan_project())
    (root / "content/terms/lonely.md").write_text(
        term_text("Lonely", body="Lonely mentions [[one]] and One mentions it back."), encoding="utf-8"
    )
    (root / "content/terms/one.md").write_text(
        term_text("One", body="One before [[two]] and [[lonely]]."), encoding="utf-8"
    )
    run_build(root, strict=True)
    before = tree_bytes(root / "site")
    (root / "content/terms/one.md").write_text(term_text("One", body="One before [[two]]."), encoding="utf-8")

    with pytest.raises(BuildFailed):
        run_build(root, strict=True)
    assert tree_bytes(root / "site") == before


def test_long_summaries_and_sources_without_url_are_warnings(make_site):
    from conftest import messages

    long = "A" * 161
    text = (f"---\ntitle: Alpha\nsummary: {long}\nsources:\n  - title: A book\n---\nSee beta.\n")
    root = make_site(terms(alpha=text, beta=term_text("Beta", body="See alpha.")))
    assert messages(run_check(root)) == [
        "content/terms/alpha.md:3: warning: summary is 161 characters; tooltips and search results show 160 "
        "(summary_length in glossary.yaml)",
        "content/terms/alpha.md:5: warning: source 'A book' has no url",
    ]
    make_site({"glossary.yaml": "summary_length: 200\n"})
    assert [m for m in messages(run_check(root)) if "summary" in m] == []


def test_parallel_build_equals_single_process_build(tmp_path, monkeypatch):
    from glossary_build import parallel
    from glossary_build.build import build
    from glossary_build.config import load_config

    monkeypatch.setattr(parallel, "MIN_ITEMS", 2)  # spread even this small glossary over processes
    shipped = Path(__file__).resolve().parent.parent
    trees = {}
    for workers in (1, 2):
        project = tmp_path / f"w{workers}"
        shutil.copytree(shipped / "content", project / "content")
        shutil.copy(shipped / "glossary.yaml", project / "glossary.yaml")
        config, _ = load_config(project)
        result = build(config, incremental=False, workers=workers)
        assert result.written == result.files
        trees[workers] = tree_bytes(project / "site")
    assert trees[1] == trees[2]
    # an update in place, written by the worker processes themselves
    for workers in (1, 2):
        project = tmp_path / f"w{workers}"
        for term in (project / "content/terms").glob("*.md"):
            term.write_text(term.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
        config, _ = load_config(project)
        build(config, workers=workers)
        trees[workers] = tree_bytes(project / "site")
    assert trees[1] == trees[2]
    assert all(b"One more line." in data for path, data in trees[2].items() if path.startswith("terms/"))
