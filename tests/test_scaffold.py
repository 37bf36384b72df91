"""`glossary new` and `glossary init`: start points that build at once and never overwrite."""

from __future__ import annotations

import datetime

from click.testing import CliRunner

from conftest import messages, run_check, term_text, terms
from glossary_build.cli import main
from glossary_build.scaffold import term_skeleton


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_new_writes_a_skeleton_that_passes_check(make_site):
    root = make_site(terms(alpha=term_text("Alpha", body="See beta.")))
    result = invoke("new", "Mixture of Experts")
    assert result.exit_code == 0
    assert result.stdout == "content/terms/mixture-of-experts.md\n"
    text = (root / "content/terms/mixture-of-experts.md").read_text()
    assert text.startswith('---\ntitle: "Mixture of Experts"\n')
    found = run_check(root)
    assert found.glossary is not None
    assert all(": warning: orphan" in m for m in messages(found))  # nothing links to a brand-new term yet


def test_new_refuses_to_overwrite(make_site):
    root = make_site(terms(alpha=term_text("Alpha", body="Mine.")))
    result = invoke("new", "alpha")
    assert result.exit_code == 1
    assert result.stderr == "Error: content/terms/alpha.md already exists; edit it, or choose another name\n"
    assert (root / "content/terms/alpha.md").read_text() == term_text("Alpha", body="Mine.")


def test_new_quotes_titles_that_yaml_would_misread(make_site):
    root = make_site({})
    assert invoke("new", 'Yes: "quoted" #1').exit_code == 0
    (path,) = (root / "content/terms").iterdir()
    assert path.name == "yes-quoted-1.md"
    assert run_check(root).glossary.terms["yes-quoted-1"].title == 'Yes: "quoted" #1'


def test_skeleton_is_dated():
    assert "updated: 2026-11-23" in term_skeleton("X", datetime.date(2026, 11, 23))


def test_init_starts_a_project_that_builds_cleanly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "my-glossary")
    assert result.exit_code == 0
    root = tmp_path / "my-glossary"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        ".gitignore", "content/terms/glossary.md", "content/terms/term.md", "glossary.yaml",
    ]
    assert (root / ".gitignore").read_text() == "/site/\n.glossary-cache/\n"
    checked = run_check(root, strict=True)
    assert messages(checked) == []
    assert checked.glossary.referenced_by == {"glossary": ["term"], "term": ["glossary"]}
    monkeypatch.chdir(root)
    assert invoke("build").exit_code == 0


def test_init_refuses_a_folder_with_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = invoke("init", "taken")
    assert result.exit_code == 1
    assert "is not an empty folder" in result.stderr
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]
