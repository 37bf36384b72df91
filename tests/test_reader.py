"""The shipped glossary in a real browser: what a reader sees when searching, hovering and clicking.

The real content (content/ and glossary.yaml) is copied into a temporary folder and
built once for the module; every page is opened from disk (file:// URLs), the way
the README promises it works. Every page collects console errors and uncaught
exceptions and the test fails on any: a Content-Security-Policy violation shows up
as a console error, so there must be none.

Without Playwright or Chromium the module is skipped, except when the CI
environment variable is set: there a missing browser is a failure, so CI can
never pass by silently skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from browsing import expect, require_browser
from conftest import REPO, write_project

from glossary_build.build import build
from glossary_build.config import load_config



MISSING = require_browser("browser tests")

MOE = "terms/mixture-of-experts/index.html"
BODY_TERM_LINK = "article .body a.term-link"
HOSTILE_TITLE = "<img src=x onerror=window.__pwned=1>"


# -- fixtures ------------------------------------------------------------------


def build_project(root: Path) -> Path:
    """Build the project in root from scratch; return the output folder."""
    config, problems = load_config(root)
    assert not problems, [p.format() for p in problems]
    build(config, config_problems=problems, incremental=False)
    return config.out_dir


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """The shipped glossary, copied and built once: {"out": folder, "terms": {slug: entry}, "title": ...}."""
    root = tmp_path_factory.mktemp("reader-site")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy2(REPO / "glossary.yaml", root / "glossary.yaml")
    out = build_project(root)
    export = json.loads((out / "terms.json").read_text(encoding="utf-8"))
    return {"out": out, "terms": {t["slug"]: t for t in export["terms"]}, "title": export["title"]}


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    """A two-term project whose first title is markup and whose summary holds a <b> tag."""
    root = tmp_path_factory.mktemp("hostile-site")
    write_project(root, {
        "content/terms/img.md": (
            "---\n"
            f"title: \"{HOSTILE_TITLE}\"\n"
            "summary: \"Looks like markup: <b>bold</b> stays text.\"\n"
            "---\n"
            "This term links to [[plain]].\n"
        ),
        "content/terms/plain.md": "---\ntitle: Plain\nsummary: A plain term.\n---\nBack to [[img]].\n",
    })
    return build_project(root)


# -- helpers -------------------------------------------------------------------


def uri(out: Path, path: str) -> str:
    return (out / path).as_uri()


def goto(page, out: Path, path: str):
    page.goto(uri(out, path))
    expect(page.locator(".site-search")).to_have_class(re.compile(r"\bready\b"))  # glossary.js has run


def fold(text: str) -> str:
    """The search's own folding: accents removed, lower case."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


def search(page, query: str) -> list[dict]:
    """Type query into the search box and return the results as the reader sees them.

    The index arrives in two files; the list is complete (summaries under each title,
    summary matches included) once both are in, so type again until summaries show.
    """
    box = page.locator("#search-input")
    box.focus()
    options = page.locator("#search-results [role=option]")
    for _ in range(50):
        box.fill("")
        box.fill(query)
        expect(page.locator("#search-results")).to_be_visible()
        if options.count() and options.first.locator(".result-summary").count():
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"no results with summaries for {query!r}: {page.locator('#search-results').inner_text()!r}")
    expect(box).to_have_attribute("aria-expanded", "true")
    return options.evaluate_all("""options => options.map(option => ({
        id: option.id,
        title: option.querySelector('.result-title').textContent,
        alias: (option.querySelector('.result-alias') || {textContent: null}).textContent,
        href: option.dataset.href,
        marks: Array.from(option.querySelectorAll('.result-title mark, .result-alias mark'), m => m.textContent),
        selected: option.getAttribute('aria-selected'),
    }))""")


def titles(results: list[dict]) -> list[str]:
    return [result["title"] for result in results]


def boxes_overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("ARTIFACTS_DIR") or REPO / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- 1. search -----------------------------------------------------------------


def test_search_finds_terms_by_alias_and_despite_typos(open_tab, site):
    page = open_tab().page
    goto(page, site["out"], "index.html")

    # by alias: the alias is shown after the title, and it is what is marked
    moe = search(page, "MoE")
    assert moe[0]["title"] == "Mixture of experts", titles(moe)
    assert moe[0]["alias"] == " (MoE)"
    assert moe[0]["marks"] == ["MoE"]
    assert moe[0]["href"] == uri(site["out"], MOE)

    # a swap of two letters inside the first five, a dropped letter, a prefix with a swap
    for query, expected in [("mixtrue", "Mixture of experts"), ("qunatization", "Quantization"),
                            ("quantizaton", "Quantization"), ("qunat", "Quantization")]:
        results = search(page, query)
        assert expected in titles(results), (query, titles(results))
        hit = results[titles(results).index(expected)]
        assert hit["marks"] and fold(hit["marks"][0]) == fold(expected.split()[0]), (query, hit)
    assert titles(search(page, "quantizaton"))[0] == "Quantization"
    assert titles(search(page, "mixtrue"))[0] == "Mixture of experts"


def test_search_ranks_exact_and_prefix_title_matches_first(open_tab, site):
    page = open_tab().page
    goto(page, site["out"], "index.html")
    for query in ("token", "parameter", "lora"):
        results = search(page, query)
        shown = titles(results)
        # the exact title is first; titles starting with the query come before everything else
        exact = [t["title"] for t in site["terms"].values() if fold(t["title"]) == query]
        assert exact and shown[0] == exact[0], (query, shown)
        prefixed = [t for t in shown if fold(t).startswith(query)]
        assert shown[:len(prefixed)] == prefixed, (query, shown)
        # the matched word is wrapped in <mark>
        assert results[0]["marks"] and fold(results[0]["marks"][0]) == query, results[0]
    shown = titles(search(page, "token"))
    assert shown[0] == "Token" and "Tokenizer" in shown[1:], shown
    assert page.locator("#search-results .result-title mark").first.inner_text() == "Token"


# -- 2. keyboard ---------------------------------------------------------------


def test_search_keyboard_slash_arrows_enter_and_escape(open_tab, site):
    page = open_tab().page
    goto(page, site["out"], MOE)
    box = page.locator("#search-input")
    expect(box).not_to_be_focused()

    page.keyboard.press("/")
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # the slash itself is not typed into the box

    results = search(page, "token")
    assert len(results) >= 3, titles(results)
    options = page.locator("#search-results [role=option]")

    def selected_is(k: int):
        expect(box).to_have_attribute("aria-activedescendant", results[k]["id"])
        expect(options.nth(k)).to_have_attribute("aria-selected", "true")
        expect(page.locator('#search-results [role=option][aria-selected="true"]')).to_have_count(1)

    selected_is(0)
    page.keyboard.press("ArrowDown")
    selected_is(1)
    page.keyboard.press("ArrowDown")
    selected_is(2)
    page.keyboard.press("ArrowUp")
    selected_is(1)
    expect(box).to_be_focused()  # the focus stays in the box, the selection moves

    page.keyboard.press("Enter")
    expect(page).to_have_url(results[1]["href"])
    expect(page.locator("h1")).to_have_text(results[1]["title"])

    # a click on a result opens it too
    results = search(page, "token")
    options.nth(2).click()
    expect(page).to_have_url(results[2]["href"])

    # Escape closes the list
    goto(page, site["out"], MOE)
    page.keyboard.press("/")
    search(page, "token")
    expect(page.locator("#search-results")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#search-results")).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    assert box.get_attribute("aria-activedescendant") is None
    expect(box).to_be_focused()
    assert page.url == uri(site["out"], MOE)  # nothing opened


# -- 3. results are text -------------------------------------------------------


def test_result_text_is_inserted_as_text(open_tab, hostile_site):
    page = open_tab().page
    goto(page, hostile_site, "index.html")
    results = search(page, "img")
    assert titles(results)[0] == HOSTILE_TITLE
    listing = page.locator("#search-results")
    expect(listing.locator("[role=option]").first.locator(".result-summary")).to_have_text(
        "Looks like markup: <b>bold</b> stays text.")
    assert listing.locator("img").count() == 0
    assert listing.locator("b").count() == 0
    assert page.locator("img").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"

    # the preview card takes the same data: still text
    page.locator("#search-input").blur()
    expect(listing).to_be_hidden()
    page.locator('main a[data-term="img"]').hover()
    card = page.locator("#term-preview")
    expect(card).to_be_visible()
    expect(card.locator(".preview-title")).to_have_text(HOSTILE_TITLE)
    expect(card.locator(".preview-summary")).to_have_text("Looks like markup: <b>bold</b> stays text.")
    assert card.locator("img, b").count() == 0

    # and the term page itself
    goto(page, hostile_site, "terms/img/index.html")
    expect(page.locator("h1")).to_have_text(HOSTILE_TITLE)
    assert page.locator("img").count() == 0
    page.wait_for_timeout(100)
    assert page.evaluate("typeof window.__pwned") == "undefined"


# -- 4. the index is loaded on demand ------------------------------------------


def test_search_index_is_not_inlined_and_loads_on_first_focus(open_tab, site):
    out = site["out"]
    for html in out.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert "GlossarySearch.names(" not in text, html
        assert "GlossarySearch.summaries(" not in text, html

    page = open_tab().page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    goto(page, out, "index.html")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    names = uri(out, "assets/search-names.js")
    summaries = uri(out, "assets/search-summaries.js")
    assert names not in requested and summaries not in requested, requested

    page.locator("#search-input").focus()
    expect(page.locator('script[src$="search-summaries.js"]')).to_have_count(1)
    for _ in range(50):
        if summaries in requested:
            break
        page.wait_for_timeout(50)
    assert requested.count(names) == 1, requested
    assert requested.count(summaries) == 1, requested

    # typing, blurring and focusing again reuse what is loaded
    search(page, "token")
    page.locator("#search-input").blur()
    page.locator("#search-input").focus()
    search(page, "lora")
    assert requested.count(names) == 1 and requested.count(summaries) == 1, requested


# -- 5. previews ---------------------------------------------------------------


def test_hover_preview_shows_the_terms_summary_beside_the_link(open_tab, site):
    page = open_tab().page
    goto(page, site["out"], MOE)

    # the card replaces the native tooltip: no term link keeps its title attribute
    expect(page.locator("a[data-term][title]")).to_have_count(0)
    assert page.locator("a.term-link[data-term]").count() > 10
    assert page.locator("a.term-link[data-term]").evaluate_all(
        "links => links.every(link => link.dataset.summary)")

    link = page.locator(BODY_TERM_LINK).first
    slug = link.get_attribute("data-term")
    term = site["terms"][slug]
    card = page.locator("#term-preview")
    link.hover()
    expect(card).to_be_visible()
    expect(card.locator(".preview-title")).to_have_text(term["title"])
    expect(card.locator(".preview-summary")).to_have_text(term["summary"])
    expect(link).to_have_attribute("aria-describedby", "term-preview")
    expect(card).to_have_attribute("role", "tooltip")
    card_box, link_box = card.bounding_box(), link.bounding_box()
    assert not boxes_overlap(card_box, link_box), (card_box, link_box)
    # previews never nest: the card holds no link to hover
    assert card.locator("a, [data-term]").count() == 0

    # from the link into the card: the card stays (it closes 200 ms after leaving)
    page.mouse.move(card_box["x"] + 12, card_box["y"] + 12, steps=4)
    page.wait_for_timeout(500)
    expect(card).to_be_visible()
    expect(card.locator(".preview-title")).to_have_text(term["title"])
    page.mouse.move(card_box["x"] + card_box["width"] / 2, card_box["y"] + card_box["height"] / 2, steps=3)
    page.wait_for_timeout(300)
    expect(card).to_be_visible()

    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    assert link.get_attribute("aria-describedby") is None

    # leaving for plain text closes it
    link.hover()
    expect(card).to_be_visible()
    page.locator("h1").hover()
    expect(card).to_be_hidden()


def test_keyboard_focus_on_a_term_link_opens_the_preview_and_blur_closes_it(open_tab, site):
    page = open_tab().page
    goto(page, site["out"], MOE)
    card = page.locator("#term-preview")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({BODY_TERM_LINK!r})"):
            break
        # no preview for anything that is not a term link in the text
    else:
        pytest.fail("Tab never reached a term link in the body")
    focused = page.locator(":focus")
    slug = focused.get_attribute("data-term")
    expect(card).to_be_visible()
    expect(card.locator(".preview-title")).to_have_text(site["terms"][slug]["title"])
    expect(card.locator(".preview-summary")).to_have_text(site["terms"][slug]["summary"])
    expect(focused).to_have_attribute("aria-describedby", "term-preview")
    assert not boxes_overlap(card.bounding_box(), focused.bounding_box())

    page.locator("h1").click()  # the focus leaves the link
    expect(card).to_be_hidden()


# -- 6. touch ------------------------------------------------------------------


def test_tapping_a_term_link_on_a_touch_screen_navigates(open_tab, site):
    page = open_tab(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 844}).page
    goto(page, site["out"], MOE)
    link = page.locator(BODY_TERM_LINK).first
    slug = link.get_attribute("data-term")
    target = link.evaluate("link => link.href")
    link.tap()
    expect(page).to_have_url(target)
    expect(page.locator("h1")).to_have_text(site["terms"][slug]["title"])


# -- 7. from disk --------------------------------------------------------------


def test_links_between_pages_resolve_from_disk(open_tab, site):
    out = site["out"]
    page = open_tab().page
    goto(page, out, MOE)

    # a term link in the text
    page.locator(f'{BODY_TERM_LINK}[data-term="router"]').first.click()
    expect(page).to_have_url(uri(out, "terms/router/index.html"))
    expect(page.locator("h1")).to_have_text(site["terms"]["router"]["title"])

    # a "Related terms" / "Referenced by" chip back
    page.locator('.connections a[data-term="mixture-of-experts"]').first.click()
    expect(page).to_have_url(uri(out, MOE))

    # the category in the breadcrumbs, then a term listed there
    category = site["terms"]["mixture-of-experts"]["category"]
    page.locator(".breadcrumbs a", has_text=category).click()
    expect(page.locator("h1")).to_have_text(category)
    page.locator('main a[data-term="mixture-of-experts"]').click()
    expect(page).to_have_url(uri(out, MOE))

    # the site header back to the index, and a term from the index
    page.locator(".site-nav a", has_text="A–Z index").click()
    expect(page).to_have_url(uri(out, "index.html"))
    expect(page.locator("h1")).to_have_text(site["title"])
    page.locator('main a[data-term="lora"]').click()
    expect(page).to_have_url(uri(out, "terms/lora/index.html"))
    page.locator(".pager a.up").click()
    expect(page).to_have_url(re.compile(re.escape(uri(out, "index.html")) + "#"))

    # every local link and asset of every page names a file that exists (and an id that exists)
    broken = []
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            doc = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
            ids[path] = {element["id"] for element in doc.find_all(id=True)}
        return ids[path]

    for html in sorted(out.rglob("*.html")):
        if html.name == "404.html":
            continue  # served by a host at any depth, so its links start at the site root
        doc = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
        for element in doc.find_all(["a", "link", "script"]):
            ref = element.get("href") or element.get("src")
            if not ref or ref.startswith("#") or urlsplit(ref).scheme:
                continue
            resolved = urlsplit(urljoin(html.as_uri(), ref))
            target = Path(unquote(resolved.path))
            if not target.is_file():
                broken.append(f"{html.relative_to(out)}: {ref} (no file)")
            elif resolved.fragment and target.suffix == ".html" and resolved.fragment not in ids_of(target):
                broken.append(f"{html.relative_to(out)}: {ref} (no such id)")
    assert not broken, "\n".join(broken)


# -- 8. screenshots ------------------------------------------------------------


def test_screenshots_for_review(open_tab, site):
    folder = screenshot_dir()
    written = []
    for width in (390, 1280):
        tab = open_tab(viewport={"width": width, "height": 900})
        for scheme in ("light", "dark"):
            tab.page.emulate_media(color_scheme=scheme)
            for name, path in (("index", "index.html"), ("mixture-of-experts", MOE)):
                goto(tab.page, site["out"], path)
                target = folder / f"{name}-{width}-{scheme}.png"
                tab.page.screenshot(path=str(target), full_page=True)
                written.append(target)
    for target in written:
        assert target.is_file() and target.stat().st_size > 0, target


# -- 9. the neighbourhood map --------------------------------------------------


def test_term_map_links_lead_to_term_pages(open_tab, site):
    out = site["out"]
    maps = {}
    for slug in site["terms"]:
        html = out / "terms" / slug / "index.html"
        doc = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
        svg = doc.select_one("svg.term-map")
        if svg is not None:
            maps[html] = svg
    if not maps:
        pytest.skip("no page has an svg.term-map yet")

    pages = {(out / "terms" / slug / "index.html").resolve() for slug in site["terms"]}
    broken = []
    for html, svg in maps.items():
        links = svg.find_all("a")
        if not links:
            broken.append(f"{html.relative_to(out)}: the map has no links")
        for a in links:
            ref = a.get("href") or a.get("xlink:href")
            target = Path(unquote(urlsplit(urljoin(html.as_uri(), ref or "")).path)).resolve()
            if target not in pages:
                broken.append(f"{html.relative_to(out)}: {ref!r} is not a term page")
    assert not broken, "\n".join(broken)

    # and in the browser: the map shows, and following a node opens that term
    page = open_tab().page
    html = out / MOE if (out / MOE) in maps else next(iter(maps))
    goto(page, out, str(html.relative_to(out)))
    svg = page.locator("svg.term-map")
    expect(svg).to_be_visible()
    node = svg.locator("a").first
    target = node.evaluate("a => new URL(a.getAttribute('href') || a.getAttribute('xlink:href'), document.baseURI).href")
    node.click()
    expect(page).to_have_url(target)


def test_print_hides_the_search_box_and_shows_link_addresses(open_tab, site):
    page = open_tab().page
    goto(page, site["out"], MOE)
    page.emulate_media(media="print")
    expect(page.locator(".site-search")).to_be_hidden()
    expect(page.locator(".pager")).to_be_hidden()
    source = page.locator(".sources a").first
    after = source.evaluate("a => getComputedStyle(a, '::after').content")
    assert source.get_attribute("href") in after
