"""glossary serve after a save: prose edits render one page; every edit gives what a fresh build gives."""

from __future__ import annotations

import os

import pytest

from conftest import term_text, terms, write_project
from glossary_build import build
from glossary_build import quick as quick_module
from glossary_build.quick import quick_rebuild
from glossary_build.serve import LiveSite

SOURCES = "[{title: A paper, url: 'https://example.org/p'}]"
FILES = terms(
    alpha=term_text("Alpha", "First letter.", body="Alpha comes before [[beta]].", sources=SOURCES, category="Basics"),
    beta=term_text("Beta", "Second letter.", body="Beta follows [[alpha]] and leads to [[gamma]].",
                   category="Letters", faqs="[{q: Why?, a: Because *order* matters.}]"),
    gamma=term_text("Gamma", "Third letter.", body="Gamma ends the list after [[beta]].", category="Letters"),
)


def served(root):
    live = LiveSite(root)
    live.rebuild()
    assert live.last is not None
    return live


def fresh(root):
    """A new server's first build of the same files: what every rebuild must equal."""
    live = LiveSite(root)
    diagnostics = live.rebuild()
    return live.snapshot.files, [d.format() for d in diagnostics]


def edit(root, slug, old, new):
    path = root / "content" / "terms" / f"{slug}.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def quick(live):
    """live.rebuild(), failing the test if it checks the whole glossary again."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build, "check", _refuse)
        return live.rebuild()


def _refuse(*args, **kwargs):
    raise AssertionError("the edit took the full way")


@pytest.mark.parametrize("old, new", [
    ("Beta follows", "Beta, a longer paragraph now, follows"),
    ("Because *order* matters.", "Because **order** matters."),
    ("category: Letters", "category: Letters\nauthors: [Ada]"),
], ids=["body", "answer", "authors"])
def test_an_edit_of_prose_renders_only_its_page_and_equals_a_fresh_build(tmp_path, old, new):
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    version = live.snapshot.version
    edit(root, "beta", old, new)
    diagnostics = quick(live)
    assert live.written == 1
    assert live.snapshot.version == version + 1
    assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root)


def test_warnings_about_the_edited_prose_come_and_go(tmp_path):
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    edit(root, "alpha", ", url: 'https://example.org/p'", "")
    warned = [d.format() for d in quick(live)]
    assert any("source 'A paper' has no url" in line for line in warned)
    assert (live.snapshot.files, warned) == fresh(root)
    edit(root, "alpha", "title: A paper", "title: A paper, url: 'https://example.org/p'")
    assert not any("no url" in d.format() for d in quick(live))


def test_an_error_keeps_the_last_good_site_until_it_is_fixed(tmp_path):
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    good = live.snapshot
    edit(root, "beta", "[[gamma]]", "[[gamma]] and {{ calculator(nothing) }}")
    quick(live)
    assert live.snapshot.files is good.files and live.snapshot.version == good.version
    assert live.snapshot.errors and "beta.md" in live.snapshot.errors[0]
    edit(root, "beta", " and {{ calculator(nothing) }}", ", fixed")
    diagnostics = quick(live)
    assert live.snapshot.errors == [] and live.snapshot.version == good.version + 1
    assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root)


def test_a_save_within_the_clocks_resolution_is_seen(tmp_path):
    """Same size, same time: the bytes tell, as in a full build."""
    root = write_project(tmp_path / "p", FILES)
    path = root / "content" / "terms" / "gamma.md"
    live = served(root)
    before = os.stat(path)
    edit(root, "gamma", "ends the list", "closes the set")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    quick(live)
    assert b"closes the set" in live.snapshot.files["terms/gamma/index.html"]


@pytest.mark.parametrize("slug, old, new, pages", [
    ("gamma", "after [[beta]]", "after [[beta]], far from [[alpha]]",
     {"terms/gamma/index.html", "terms/alpha/index.html", "categories/index.html"}),  # Letters -> Basics
    ("gamma", "after [[beta]]", "after [[beta]] and [[beta|its neighbour]]", {"terms/gamma/index.html"}),
    ("beta", " and leads to [[gamma]]", "", {"terms/beta/index.html", "terms/gamma/index.html"}),
    ("alpha", "Alpha comes before [[beta]].", "Alpha comes first.",
     {"terms/alpha/index.html", "terms/beta/index.html", "categories/index.html"}),  # Basics -/- Letters
], ids=["new link across categories", "the same target again", "lost link, and an orphan", "lost link across categories"])
def test_links_that_come_and_go_render_the_pages_they_reach(tmp_path, slug, old, new, pages):
    """Backlinks, maps, orphan warnings and the map of categories follow, as in a fresh build."""
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    before = dict(live.snapshot.files)
    edit(root, slug, old, new)
    diagnostics = quick(live)
    assert {path for path, data in live.snapshot.files.items() if before.get(path) != data} <= pages
    assert live.written == len(pages)
    assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root)


def test_one_link_edit_after_another_keeps_the_map_of_categories_right(tmp_path):
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    for slug, old, new in [("gamma", "after [[beta]]", "after [[beta]], far from [[alpha]]"),
                           ("alpha", "Alpha comes before [[beta]].", "Alpha comes first."),
                           ("gamma", ", far from [[alpha]]", "")]:
        edit(root, slug, old, new)
        diagnostics = quick(live)
        assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root), (slug, new)


SHOWN_ELSEWHERE = {  # (term, old text, new text)
    "title": ("gamma", "title: Gamma", "title: Gamma Ray"),
    "summary": ("gamma", "Third letter.", "The third letter."),
    "alias": ("gamma", "category:", "aliases: [G]\ncategory:"),
    "category": ("gamma", "category: Letters", "category: Greek"),
    "related": ("gamma", "category:", "related: [alpha]\ncategory:"),
    "draft": ("gamma", "category:", "draft: true\ncategory:"),
    "broken front matter": ("gamma", "title: Gamma", "title: [Gamma"),
}


def _remove_alpha(root):
    (root / "content" / "terms" / "alpha.md").unlink()
    edit(root, "beta", "[[alpha]]", "alpha")


OTHER_CHANGES = {
    "new file": lambda root: write_project(root, terms(delta=term_text("Delta", body="After [[gamma]]."))),
    "removed file": _remove_alpha,
    "config": lambda root: write_project(root, {"glossary.yaml": "title: Another title\n"}),
}


@pytest.mark.parametrize("change", [*SHOWN_ELSEWHERE, *OTHER_CHANGES])
def test_edits_other_pages_show_take_the_full_way_and_equal_a_fresh_build(tmp_path, change):
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    if change in SHOWN_ELSEWHERE:
        edit(root, *SHOWN_ELSEWHERE[change])
    else:
        OTHER_CHANGES[change](root)
    answers = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quick_module, "quick_rebuild", lambda *a: answers.append(quick_rebuild(*a)) or answers[-1])
        diagnostics = live.rebuild()
    assert answers == [None]
    expected_files, expected_diagnostics = fresh(root)
    assert [d.format() for d in diagnostics] == expected_diagnostics
    if expected_files:
        assert live.snapshot.files == expected_files
    else:  # e.g. a link to what is now a draft: the last good site stays, with the errors
        assert live.snapshot.errors


def test_an_edited_template_shows_at_the_next_rebuild(tmp_path, monkeypatch):
    """The server keeps its compiled templates between rebuilds, but never a stale one."""
    import shutil

    from glossary_build import theme

    copy = tmp_path / "theme"
    shutil.copytree(theme.theme_dir(), copy)
    monkeypatch.setattr(theme, "THEME_CANDIDATES", (copy,))
    root = write_project(tmp_path / "project", FILES)
    live = served(root)
    site = live.site
    term_page = copy / "term.html"
    term_page.write_text(term_page.read_text(encoding="utf-8").replace(
        '<article class="term"', '<p class="banner">Edited theme</p>\n<article class="term"', 1), encoding="utf-8")
    os.utime(term_page, ns=(os.stat(term_page).st_mtime_ns + 10**9,) * 2)  # a coarse file clock
    assert not live.rebuild()
    assert live.site is site  # the same renderer, kept
    assert b'<p class="banner">Edited theme</p>' in live.snapshot.files["terms/alpha/index.html"]
    assert live.snapshot.files == fresh(root)[0]


def test_one_full_rebuild_after_another_equals_a_fresh_build(tmp_path):
    """The server keeps page keys and export lines from one rebuild to the next (render.PlanMemo)."""
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    for change in ["title", "summary", "category", "related", "alias"]:
        edit(root, *SHOWN_ELSEWHERE[change])
        diagnostics = live.rebuild()
        assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root), change
    write_project(root, terms(delta=term_text("Delta", body="After [[gamma]] and [[beta]].")))
    diagnostics = live.rebuild()
    assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root)
