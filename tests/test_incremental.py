"""Incremental builds: after every kind of edit, the site equals a clean build byte for byte."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import run_build, sharing_a_trie_node, term_text, terms, tree_bytes, write_project
from glossary_build.build import build
from glossary_build.config import load_config

START = terms(
    parameter=term_text("Parameter", "A learned number.", body="Weights and biases are parameters. See [[lora]].",
                        category="Basics", related=["weight"]),
    weight=term_text("Weight", "A multiplier.", body="A weight is a parameter.", category="Basics"),
    lora=term_text("LoRA", "Low-rank adapters.", aliases=["low-rank adaptation"], category="Tuning",
                   body='LoRA trains few parameters.\n\n{{ figure("lora_params", rank=4) }}'),
    mixture=term_text("Mixture of experts", "Many experts.", aliases=["MoE"],
                      body="An MoE uses parameters sparsely; each expert is a weight block."),
)


def edit(root, name, text):
    write_project(root, {f"content/terms/{name}.md": text})


EDITS = [
    ("body", lambda root: edit(root, "weight", term_text("Weight", "A multiplier.", body="A weight scales a parameter.", category="Basics"))),
    ("title", lambda root: edit(root, "weight", term_text("Weights", "A multiplier.", body="A weight scales a parameter.", category="Basics"))),
    ("summary", lambda root: edit(root, "lora", term_text("LoRA", "Small adapters.", aliases=["low-rank adaptation"], category="Tuning",
                                                          body='LoRA trains few parameters.\n\n{{ figure("lora_params", rank=4) }}'))),
    ("alias", lambda root: edit(root, "weight", term_text("Weights", "A multiplier.", aliases=["expert"], body="A weight scales a parameter.", category="Basics"))),
    ("related", lambda root: edit(root, "mixture", term_text("Mixture of experts", "Many experts.", aliases=["MoE"], related=["lora"],
                                                             body="An MoE uses parameters sparsely; each expert is a weight block."))),
    ("category", lambda root: edit(root, "mixture", term_text("Mixture of experts", "Many experts.", aliases=["MoE"], related=["lora"], category="Tuning",
                                                              body="An MoE uses parameters sparsely; each expert is a weight block."))),
    ("link across categories", lambda root: edit(root, "weight", term_text("Weight", "A multiplier.", body="A weight scales a parameter, as in [[lora]].", category="Basics"))),
    ("new term", lambda root: edit(root, "block", term_text("Block", "A layer group.", body="A block holds weights.", category="Basics"))),
    ("deleted term", lambda root: (root / "content/terms/block.md").unlink()),
    ("renamed file", lambda root: (root / "content/terms/mixture.md").rename(root / "content/terms/mixture-of-experts.md")),
    ("autolink off", lambda root: edit(root, "weight", term_text("Weights", "A multiplier.", aliases=["expert"], autolink="false", body="A weight scales a parameter.", category="Basics"))),
    ("mention", lambda root: edit(root, "lora", term_text("LoRA", "Small adapters.", aliases=["low-rank adaptation"], category="Tuning",
                                                          body="LoRA answers queries cheaply."))),
    ("term named in a plural", lambda root: edit(root, "query", term_text("Query", "A question.", body="Asked of a model."))),
    ("link in another spelling", lambda root: edit(root, "weight", term_text("Weight", "A multiplier.", body="A weight scales a parameter, as in [[moe]].", category="Basics"))),
    ("that alias moves", lambda root: (
        edit(root, "mixture-of-experts", term_text("Mixture of experts", "Many experts.", related=["lora"], category="Tuning",
                                                   body="A mixture uses parameters sparsely; each expert is a weight block.")),
        edit(root, "lora", term_text("LoRA", "Small adapters.", aliases=["low-rank adaptation", "MoE"], category="Tuning",
                                     body="LoRA answers queries cheaply.")))),
    ("template", lambda root: write_project(root, {"glossary.yaml": "title: Renamed glossary\n"})),
    ("nothing", lambda root: None),
]


def test_incremental_builds_equal_clean_builds_after_each_edit(tmp_path):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    for name, change in EDITS:
        change(root)
        result = run_build(root)
        clean = tmp_path / f"clean-{name.replace(' ', '-')}"
        shutil.copytree(root / "content", clean / "content")
        if (root / "glossary.yaml").exists():
            shutil.copy(root / "glossary.yaml", clean / "glossary.yaml")
        config, _ = load_config(clean)
        build(config, incremental=False)
        mine, theirs = tree_bytes(root / "site"), tree_bytes(clean / "site")
        mine.pop(".glossary-site.json"), theirs.pop(".glossary-site.json")
        assert mine.keys() == theirs.keys(), name
        for path in mine:
            assert mine[path] == theirs[path], f"{name}: {path} differs from a clean build"
        if name == "nothing":
            assert result.written == 0 and result.reused == len(mine)


def test_a_body_edit_rerenders_only_that_page(tmp_path):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    edit(root, "weight", term_text("Weight", "A multiplier.", body="A weight is a parameter, edited.", category="Basics"))
    result = run_build(root)
    assert result.written == 1  # terms/weight/index.html; the index and exports did not change


def test_a_summary_edit_rerenders_pages_that_show_it(tmp_path):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    edit(root, "weight", term_text("Weight", "A new summary.", body="A weight is a parameter.", category="Basics"))
    result = run_build(root)
    # its own page, the page linking to it (parameter) and the one listing it as related,
    # the index, its category page and terms.json; not lora or mixture unless they mention it
    assert 4 <= result.written < result.files - 2


def test_hand_edited_output_is_rewritten(tmp_path):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    page = root / "site/terms/weight/index.html"
    original = page.read_bytes()
    page.write_bytes(b"tampered")
    run_build(root)
    assert page.read_bytes() == original


def test_cache_is_safe_to_delete_or_corrupt(tmp_path):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    before = tree_bytes(root / "site")
    for name in ("build.bin", "last.bin"):
        (root / ".glossary-cache" / name).write_bytes(b"\x00not marshal")
    (root / "content/terms/weight.md").touch()  # past the no-op check, which reads only state.bin
    assert run_build(root).reused == 0
    (root / ".glossary-cache/state.bin").write_bytes(b"[]")
    assert run_build(root).reused == 0
    shutil.rmtree(root / ".glossary-cache")
    run_build(root)
    assert tree_bytes(root / "site") == before
    assert (root / ".glossary-cache/.gitignore").read_text() == "*\n"


def test_nothing_changed_imports_no_renderer(tmp_path):
    """The no-op rebuild's speed is mostly imports: Markdown, Jinja2, the sanitiser and worker processes stay out."""
    import subprocess
    import sys

    root = write_project(tmp_path / "project", START)
    run_build(root)
    script = ("import sys; from glossary_build.cli import main\n"
              "try:\n    main(['build', '--src', sys.argv[1], '-q'])\nexcept SystemExit as stop:\n    assert not stop.code\n"
              "print(sorted(m for m in ('markdown', 'jinja2', 'nh3', 'multiprocessing') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    (root / "content/terms/weight.md").write_text(
        (root / "content/terms/weight.md").read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True, check=True)
    assert "markdown" in done.stdout  # a real rebuild renders


def test_nothing_changed_is_reported_without_rendering(tmp_path, monkeypatch):
    root = write_project(tmp_path / "project", START)
    first = run_build(root)
    from glossary_build import build as build_module

    monkeypatch.setattr(build_module, "load_terms", lambda *a: pytest.fail("read the terms of an unchanged project"))
    again = run_build(root)
    assert (again.written, again.reused, again.terms) == (0, first.files, 4)
    assert again.diagnostics == first.diagnostics  # the warnings are reported again
    monkeypatch.undo()
    (root / "content/terms/weight.md").touch()  # a save, even without a change, is looked at
    assert run_build(root).written == 0


def test_strict_with_warnings_never_takes_the_shortcut(tmp_path):
    from glossary_build.diagnostics import BuildFailed

    root = write_project(tmp_path / "project", START)
    run_build(root)
    with pytest.raises(BuildFailed):
        run_build(root, strict=True)


def test_unchanged_term_files_are_not_parsed_again(tmp_path, monkeypatch):
    from glossary_build import source

    root = write_project(tmp_path / "project", START)
    run_build(root)
    edit(root, "weight", term_text("Weight", "A multiplier.", body="A weight is a parameter, edited.", category="Basics"))
    parsed = []
    real = source.parse_term
    monkeypatch.setattr(source, "parse_term", lambda text, slug, path: parsed.append(slug) or real(text, slug, path))
    run_build(root)
    assert parsed == ["weight"]


def test_an_edit_that_keeps_size_and_time_is_still_seen(tmp_path):
    """Coarse file clocks: a same-size save within the same tick must not be missed."""
    root = write_project(tmp_path / "project", START)
    run_build(root)
    path = root / "content/terms/weight.md"
    before = path.stat()
    path.write_text(path.read_text().replace("A weight is", "A weight Is"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    run_build(root)
    assert "A weight Is" in (root / "site/terms/weight/index.html").read_text()


def test_a_cached_term_is_the_term_that_was_parsed(tmp_path):
    """Terms come back from .glossary-cache/ with every field, line and digest they had."""
    from glossary_build.incremental import known_term, term_record
    from glossary_build.source import KnownTerm, load_term

    path = write_project(tmp_path, {"mixture.md": """---
title: Mixture of experts
summary: Many experts, few used per token.
aliases: [MoE, sparse MoE]
category: Architecture
tags: [sparsity]
related: [lora]
calculators: [moe_params]
faqs:
  - q: Is it faster?
    a: Per token, *yes*.
misconceptions:
  - myth: All experts run.
    reality: Only the routed ones.
examples:
  - title: Mixtral
    text: Eight experts, two active.
takeaways: [Total and active parameters differ.]
sources:
  - title: Switch Transformer
    url: https://arxiv.org/abs/2101.03961
updated: 2026-11-01
autolink: false
---
A body.
"""}) / "mixture.md"
    term, problems = load_term(path)
    assert problems == [] and term.faqs and term.examples and term.sources
    again = known_term(term_record(KnownTerm(1, 2, term)))
    assert (again.size, again.mtime) == (1, 2)
    assert again.term == term
    assert (again.term.lines, again.term.digest, again.term.path) == (term.lines, term.digest, term.path)
    assert again.term.line("faqs", 0, "a") == term.line("faqs", 0, "a") > 1


def _clean_build_of(root, tmp_path) -> dict:
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    shutil.copytree(root / "content", clean / "content")
    config, _ = load_config(clean)
    build(config, incremental=False)
    files = tree_bytes(clean / "site")
    files.pop(".glossary-site.json")
    return files


def _site(root) -> dict:
    files = tree_bytes(root / "site")
    files.pop(".glossary-site.json")
    return files


def test_an_edit_appends_one_body_and_one_term_and_leaves_the_others_where_they_are(tmp_path):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    cache = root / ".glossary-cache"
    build_bin = (cache / "build.bin").read_bytes()
    assert b'class="term-link' in (cache / "bodies.bin").read_bytes() and b'class="term-link' not in build_bin
    assert b"A weight is a parameter." in (cache / "terms.bin").read_bytes() and b"A weight is" not in build_bin
    before = {name: (cache / name).read_bytes() for name in ("bodies.bin", "terms.bin")}
    edit(root, "weight", term_text("Weight", "A multiplier.", body="A weight is a parameter, edited.", category="Basics"))
    run_build(root)
    for name, old in before.items():
        after = (cache / name).read_bytes()
        assert after.startswith(old) and b"edited." in after[len(old):], name
    assert _site(root) == _clean_build_of(root, tmp_path)


def _damage(stored: Path, damage: str) -> None:
    data = stored.read_bytes()
    if damage == "changed bytes":  # same size: only the check of each record finds it
        stored.write_bytes(data[:16] + bytes(b ^ 0xFF for b in data[16:]))
    elif damage == "cut short":
        stored.write_bytes(data[: len(data) // 2])
    else:
        stored.unlink()


@pytest.mark.parametrize("damage", ["changed bytes", "cut short", "deleted"])
def test_damaged_stored_bodies_are_rendered_again(tmp_path, damage):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    _damage(root / ".glossary-cache/bodies.bin", damage)
    # LoRA's page title shows on parameter's page, whose body (linking [[lora]] by slug) is reused
    edit(root, "lora", term_text("LoRA adapters", "Low-rank adapters.", aliases=["low-rank adaptation", "LoRA"],
                                 category="Tuning", body='LoRA trains few parameters.\n\n{{ figure("lora_params", rank=4) }}'))
    result = run_build(root)
    assert _site(root) == _clean_build_of(root, tmp_path)
    if damage == "changed bytes":  # found before writing: the build started again without the cache
        assert result.reused == 0
    else:  # found on loading: only the bodies are rendered again
        assert result.reused > 0


@pytest.mark.parametrize("damage", ["changed bytes", "cut short", "deleted"])
def test_damaged_stored_terms_are_parsed_again(tmp_path, damage):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    _damage(root / ".glossary-cache/terms.bin", damage)
    edit(root, "weight", term_text("Weight", "A multiplier.", body="A weight is a parameter, edited.", category="Basics"))
    result = run_build(root)
    assert result.reused == 0  # the cache was set aside whole
    assert _site(root) == _clean_build_of(root, tmp_path)


def test_stored_bodies_no_entry_needs_are_dropped(tmp_path, monkeypatch):
    """Body edits take the quick way (resume.py), which only appends; whenever appending would
    pass the bound, the next build takes the full way and writes the files anew."""
    from glossary_build import incremental

    monkeypatch.setattr(incremental, "APPENDED_SLACK", 0)
    root = write_project(tmp_path / "project", START)
    run_build(root)
    stored = [root / ".glossary-cache" / name for name in ("bodies.bin", "terms.bin")]
    first = [path.stat().st_size for path in stored]
    for round_ in range(12):
        edit(root, "weight", term_text("Weight", "A multiplier.", body=f"A weight, edited {round_} times." * 40,
                                       category="Basics"))
        run_build(root)
    for path, size in zip(stored, first):
        assert path.stat().st_size < 2 * (size + 40 * 40), path.name
    assert _site(root) == _clean_build_of(root, tmp_path)


def test_naming_the_project_another_way_reuses_everything(tmp_path, monkeypatch):
    """`glossary build` in the project, then `--src` with its full path: the same project."""
    root = write_project(tmp_path / "project", START)
    monkeypatch.chdir(root)
    config, _ = load_config(Path("."))
    build(config)
    config, _ = load_config(root.resolve())
    assert build(config).written == 0
    (root / "content/terms/weight.md").touch()  # past the no-op check
    assert build(config).written == 0


@pytest.mark.parametrize("trie", ["updated", "made again"])
def test_a_term_that_moves_in_the_index_may_win_mentions_from_another(tmp_path, monkeypatch, trie):
    """"buses" is both Buses' title and the plural of Omnibus' alias Bus: the first name in
    the index wins it, so renaming Omnibus to Autobus changes the body of a third term."""
    root = write_project(tmp_path / "project", sharing_a_trie_node(monkeypatch, trie))
    run_build(root)
    edit(root, "omnibus", term_text("Autobus", "A vehicle.", body="Rides to the [[reader]].", aliases=["Bus"]))
    run_build(root)
    assert _site(root) == _clean_build_of(root, tmp_path)
    assert 'data-term="omnibus"' in (root / "site/terms/reader/index.html").read_text()


def test_a_title_that_moves_a_term_among_its_category_rewrites_only_the_pages_that_show_it(tmp_path):
    """A term page shows its category's name, not the category's other terms."""
    many = {f"content/terms/t{i:02}.md": term_text(f"Term {i:02}", body=f"A term, next to [[t{(i + 1) % 12:02}]].",
                                                  category="Numbers") for i in range(12)}
    root = write_project(tmp_path / "project", many)
    run_build(root)
    edit(root, "t05", term_text("Zeta term", body="A term, next to [[t06]].", category="Numbers"))
    result = run_build(root)
    # its own page, the one it links to, the one linking to it, its old and new neighbours in the
    # index, the index, the category page, search and terms.json, the sitemap (order): not the other five
    assert "terms/t09/index.html" not in result.paths and len(result.paths) < result.files - 5
    assert _site(root) == _clean_build_of(root, tmp_path)


def test_stats_looked_up_from_the_folder_equal_those_by_full_path(tmp_path, monkeypatch):
    """Where os.stat takes no folder (Windows), every path is joined to it instead."""
    from glossary_build.incremental import stats_in

    (tmp_path / "terms").mkdir()
    (tmp_path / "terms" / "a.html").write_text("x")
    (tmp_path / "b.md").write_text("yy")
    names = ["terms/a.html", "missing.md", "b.md"]
    from_folder = [stat and stat.st_size for stat in stats_in(str(tmp_path), names)]
    monkeypatch.setattr(os, "supports_dir_fd", set())
    by_path = [stat and stat.st_size for stat in stats_in(str(tmp_path), names)]
    assert from_folder == by_path == [1, None, 2]
    assert stats_in(str(tmp_path / "gone"), names) == [None, None, None]
