"""glossary serve after a save: prose edits render one page; every edit gives what a fresh build gives."""

from __future__ import annotations

import os
import re

import pytest

from conftest import sharing_a_trie_node, term_text, terms, write_project
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


NAMES_EDITED = {  # (term, old text, new text)
    "title": ("gamma", "title: Gamma", "title: Gamma Ray"),
    "summary": ("gamma", "Third letter.", "The third letter."),
    "alias": ("gamma", "category:", "aliases: [G]\ncategory:"),
    "title that moves in the index": ("alpha", "title: Alpha", "title: Zeta"),
    "title another body mentions": ("gamma", "title: Gamma", "title: Comes"),  # "Alpha comes before"
    "alias that goes": ("gamma", "title: Gamma", "title: Gamma\naliases: [the end]"),
    "summary and body": ("alpha", "First letter.\n", "The first letter.\n"),
}


@pytest.mark.parametrize("change", NAMES_EDITED)
def test_an_edit_of_names_or_summary_renders_what_shows_them_and_equals_a_fresh_build(tmp_path, change):
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    edit(root, *NAMES_EDITED[change])
    diagnostics = quick(live)
    assert 1 <= live.written < len(live.snapshot.files)
    assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root)
    if change == "title another body mentions":
        assert b'data-term="gamma"' in live.snapshot.files["terms/alpha/index.html"].split(b"<article")[1]


def test_names_edited_one_after_another_equal_fresh_builds(tmp_path):
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    for slug, old, new in [("gamma", "title: Gamma", "title: Omega\naliases: [the end]"),
                           ("alpha", "comes before [[beta]].", "comes before [[beta]], not the end."),
                           ("gamma", "aliases: [the end]", "aliases: [last]"),
                           ("alpha", "title: Alpha", "title: Zulu"),
                           ("beta", "leads to [[gamma]]", "leads to the last one")]:
        edit(root, slug, old, new)
        diagnostics = quick(live)
        assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root), (slug, new)


SHOWN_ELSEWHERE = {  # (term, old text, new text)
    "title another term has": ("gamma", "title: Gamma", "title: Alpha"),
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


def test_one_full_rebuild_after_another_equals_a_fresh_build(tmp_path, monkeypatch):
    """The server keeps page keys and export lines from one rebuild to the next (render.PlanMemo)."""
    root = write_project(tmp_path / "p", FILES)
    live = served(root)
    monkeypatch.setattr(quick_module, "quick_rebuild", lambda *a: None)  # every rebuild the full way
    for change in ["title", "summary", "category", "related", "alias"]:
        edit(root, *(NAMES_EDITED.get(change) or SHOWN_ELSEWHERE[change]))
        diagnostics = live.rebuild()
        assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root), change
    write_project(root, terms(delta=term_text("Delta", body="After [[gamma]] and [[beta]].")))
    diagnostics = live.rebuild()
    assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root)


def test_random_edits_of_names_equal_fresh_builds(tmp_path):
    """Titles, aliases and summaries changed at random: terms move in the index, related
    lists reorder, names come and go in other bodies; every rebuild equals a fresh one."""
    import random

    rng = random.Random(3)
    words = ["Alpha", "Beta", "Gamma", "Delta", "Omega", "Token", "Tokens", "Query", "Layer", "Head", "Zeta"]
    slugs = ["alpha", "beta", "gamma", "delta", "eps", "zed"]

    def text(slug, title, aliases, summary):
        others = [s for s in slugs if s != slug]
        body = f"{title} meets {rng.choice(words).lower()} and {rng.choice(words)}; see [[{rng.choice(others)}]]."
        return term_text(title, summary, body=body, aliases=aliases, category=rng.choice(["Greek", "Latin"]),
                         related=[rng.choice(others)])

    state = {slug: (slug.capitalize(), [], f"About {slug}.") for slug in slugs}
    root = write_project(tmp_path / "p", terms(**{slug: text(slug, *state[slug]) for slug in slugs}))
    live = served(root)
    quick_ones = 0
    for _ in range(25):
        slug = rng.choice(slugs)
        title, aliases, summary = state[slug]
        kind = rng.choice(["title", "alias", "summary"])
        if kind == "title":
            title = f"{rng.choice(words)} {slug}"
        elif kind == "alias":
            aliases = [] if aliases else [f"{rng.choice(words)} {rng.choice(words)}"]
        else:
            summary = f"A {rng.choice(words).lower()} summary."
        path = root / "content" / "terms" / f"{slug}.md"
        before = path.read_text(encoding="utf-8")
        head, _, rest = before.partition("\nsummary:")
        rest = rest.split("\n", 1)[1]
        lines = [line for line in rest.split("\n") if not line.startswith("aliases:")]
        new = head.replace(head.split("\n")[1], f"title: {title}") + f"\nsummary: {summary}\n"
        new += (f"aliases: [{', '.join(aliases)}]\n" if aliases else "") + "\n".join(lines)
        path.write_text(new, encoding="utf-8")
        state[slug] = (title, aliases, summary)
        answers = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(quick_module, "quick_rebuild", lambda *a: answers.append(quick_rebuild(*a)) or answers[-1])
            diagnostics = live.rebuild()
        quick_ones += answers != [None]
        assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root), (slug, kind, new)
    assert quick_ones >= 10  # most took the shortcut; a clash of names takes the full way


def test_an_alias_that_moves_to_another_term_moves_the_links_written_with_it(tmp_path):
    root = write_project(tmp_path / "p", FILES)
    edit(root, "gamma", "category:", "aliases: [The Last]\ncategory:")
    edit(root, "alpha", "comes before [[beta]]", "comes before [[beta]] and [[the last]]")
    live = served(root)
    edit(root, "gamma", "aliases: [The Last]\n", "")  # one save of two files (a rename across them)
    edit(root, "beta", "category:", "aliases: [The Last]\ncategory:")
    diagnostics = quick(live)
    assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root)
    alpha = live.snapshot.files["terms/alpha/index.html"].decode()
    assert re.search(r'data-term="beta"[^>]*>the last</a>', alpha)


@pytest.mark.parametrize("trie", ["updated", "made again"])
def test_a_term_that_moves_in_the_index_may_win_mentions_from_another(tmp_path, monkeypatch, trie):
    """"buses" is both Buses' title and the plural of Omnibus' alias Bus: the first name in
    the index wins it. Omnibus renamed Autobus moves ahead of Buses, and takes the mention."""
    root = write_project(tmp_path / "p", sharing_a_trie_node(monkeypatch, trie))
    live = served(root)
    assert b'data-term="buses"' in live.snapshot.files["terms/reader/index.html"]
    edit(root, "omnibus", "title: Omnibus", "title: Autobus")
    diagnostics = quick(live)
    assert (live.snapshot.files, [d.format() for d in diagnostics]) == fresh(root)
    assert b'data-term="omnibus"' in live.snapshot.files["terms/reader/index.html"]
