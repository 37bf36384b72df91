"""Shared helpers: small glossary projects written into tmp_path, and parsed pages."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from glossary_build.build import build, check
from glossary_build.config import load_config

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = ["browsing"]  # the browser and open_tab fixtures of the browser test modules


def term_text(title: str, summary: str | None = None, body: str = "Some text.", **fields) -> str:
    """A term file's text; extra fields are written as YAML flow values."""
    lines = ["---", f"title: {title}", f"summary: {summary or 'About ' + title + '.'}"]
    for key, value in fields.items():
        if isinstance(value, (list, tuple)):
            lines.append(f"{key}: [{', '.join(value)}]")
        else:
            lines.append(f"{key}: {value}")
    lines += ["---", textwrap.dedent(body).strip(), ""]
    return "\n".join(lines)


def write_project(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write files (path relative to root -> text or bytes) and return root."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_site(tmp_path, monkeypatch):
    """make_site({"content/terms/x.md": "...", ...}) -> project folder (also the cwd)."""
    monkeypatch.chdir(tmp_path)

    def make(files: dict[str, str | bytes], root: Path | None = None) -> Path:
        return write_project(root or tmp_path, files)

    return make


def terms(**texts: str) -> dict[str, str]:
    """terms(lora=term_text(...)) -> {"content/terms/lora.md": ...}."""
    return {f"content/terms/{slug.rstrip('_').replace('_', '-')}.md": text for slug, text in texts.items()}


def sharing_a_trie_node(monkeypatch, trie: str) -> dict[str, str]:
    """Three terms where "buses" is both Buses' title and the plural of Omnibus' alias Bus:
    the first of them in the index wins Reader's mention. trie="made again": builds make
    the automatic-link trie afresh instead of updating it."""
    if trie == "made again":
        from glossary_build import links

        monkeypatch.setattr(links, "TRIE_EDITS", -1)
    return terms(
        omnibus=term_text("Omnibus", "A vehicle.", body="Rides to the [[reader]].", aliases=["Bus"]),
        buses=term_text("Buses", "Plural.", body="See the [[reader]] and the [[omnibus]]."),
        reader=term_text("Reader", "Reads.", body="The buses run late."),
    )


def run_check(root: Path, strict: bool = False, **options):
    config, problems = load_config(root, **options)
    return check(config, strict=strict, config_problems=problems)


def messages(result) -> list[str]:
    return [d.format() for d in result.diagnostics]


def run_build(root: Path, strict: bool = False, incremental: bool = True, **options):
    config, problems = load_config(root, **options)
    return build(config, strict=strict, config_problems=problems, incremental=incremental)


def page(root: Path, path: str, out: str = "site") -> BeautifulSoup:
    return BeautifulSoup((root / out / path).read_text(encoding="utf-8"), "html.parser")


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file below folder, by relative path, for byte-for-byte comparisons."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def tree_listing(folder: Path) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, n), folder) for d, ds, ns in os.walk(folder) for n in ds + ns)
