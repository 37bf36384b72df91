"""Pages as a reader sees them: term pages, the A–Z index, categories, exports and metadata."""

from __future__ import annotations

import json
import posixpath
import xml.etree.ElementTree as ET
from urllib.parse import urldefrag, urlparse

import pytest

from conftest import page, run_build, term_text, terms

FULL_TERM = """---
title: Mixture of experts
summary: Runs a few expert sub-networks per token.
aliases: [MoE, sparse MoE]
category: Model architecture
tags: [efficiency, scaling]
related: [router]
faqs:
  - q: Is it cheaper to run?
    a: Per token, yes; see the **router**.
misconceptions:
  - myth: The experts vote.
    reality: A router picks a few per token.
takeaways: [Memory follows total parameters.]
examples:
  - title: Mixtral
    text: Eight experts, two active.
sources:
  - title: Mixtral of Experts (arXiv:2401.04088)
    url: https://arxiv.org/abs/2401.04088
authors: [Ada]
updated: 2026-11-20
---
A layer design with a router.
"""


@pytest.fixture
def site(make_site):
    root = make_site(terms(
        mixture_of_experts=FULL_TERM,
        router=term_text("Router", "Picks experts.", category="Model architecture", body="Part of a MoE."),
        eclair=term_text("Éclair", "A pastry.", category="Food", body="Not a router."),
        apple=term_text("apple", "A fruit.", category="Food", body="Like an éclair."),
        zeta=term_text("Zeta", "Last letter.", body="After the apple and the router."),
        rule=term_text("42 rule", "A number.", body="See zeta."),
    ))
    run_build(root)
    return root


def test_term_page_shows_every_section(site):
    doc = page(site, "terms/mixture-of-experts/index.html")
    article = doc.find("article")
    assert article.find("h1").get_text() == "Mixture of experts"
    assert article.select_one(".summary").get_text() == "Runs a few expert sub-networks per token."
    assert [a.get_text() for a in article.select(".aliases .alias")] == ["MoE", "sparse MoE"]
    assert article.select_one(".meta .category").get_text() == "Model architecture"
    assert "1 min read" in article.select_one(".meta").get_text()
    assert article.select_one(".meta time")["datetime"] == "2026-11-20"
    assert "by Ada" in article.select_one(".meta").get_text()
    assert article.select_one(".example h3").get_text() == "Mixtral"
    assert article.select_one(".misconceptions dt").get_text(" ", strip=True) == "Myth The experts vote."
    assert article.select_one(".faqs summary").get_text() == "Is it cheaper to run?"
    assert article.select_one(".faqs .answer strong").get_text() == "router"
    assert article.select_one(".takeaways li").get_text() == "Memory follows total parameters."
    assert [a.get_text() for a in article.select(".connections a")] == ["Router", "Router"]  # related, referenced by
    source = article.select_one(".sources a")
    assert (source.get_text(), source["href"]) == ("Mixtral of Experts (arXiv:2401.04088)", "https://arxiv.org/abs/2401.04088")
    assert [t.get_text() for t in article.select(".tags .tag")] == ["efficiency", "scaling"]


def test_related_and_referenced_links_carry_summaries(site):
    doc = page(site, "terms/router/index.html")
    related = doc.select_one("#term-related").find_next("a")
    assert related["title"] == "Runs a few expert sub-networks per token."


def test_previous_and_next_follow_the_index_order(site):
    doc = page(site, "terms/eclair/index.html")
    assert doc.select_one(".pager .prev")["href"] == "../../terms/apple/index.html"
    assert doc.select_one(".pager .next")["href"] == "../../terms/mixture-of-experts/index.html"
    assert doc.select_one(".pager .up")["href"] == "../../index.html#letter-E"


def test_index_groups_by_letter_ignoring_case_and_accents(site):
    doc = page(site, "index.html")
    groups = {
        section.find("h2").get_text(): [a.get_text() for a in section.select(".term-list > li > a")]
        for section in doc.select("section.letter-group")
    }
    assert groups == {"#": ["42 rule"], "A": ["apple"], "E": ["Éclair"], "M": ["Mixture of experts"],
                      "R": ["Router"], "Z": ["Zeta"]}
    assert list(groups) == ["A", "E", "M", "R", "Z", "#"]
    bar = doc.select_one(".letter-bar")
    assert [a.get_text() for a in bar.select("a")] == ["A", "E", "M", "R", "Z", "#"]
    assert bar.select_one("a[href='#letter-num']").get_text() == "#"
    assert len(bar.select(".empty")) == 27 - 6
    assert "Runs a few expert sub-networks per token." in doc.get_text()


def test_category_pages_and_list(site):
    listing = page(site, "categories/index.html")
    assert [a.get_text() for a in listing.select(".category-list a")] == ["Food", "Model architecture"]
    food = page(site, "categories/food/index.html")
    assert food.find("h1").get_text() == "Food"
    assert [a.get_text() for a in food.select(".term-list a")] == ["apple", "Éclair"]


def test_every_internal_link_resolves_to_a_file(site):
    """Relative links make the site work opened from disk and under any sub-path."""
    out = site / "site"
    for html in out.rglob("*.html"):
        if html.name == "404.html":
            continue
        doc = page(out, html.relative_to(out).as_posix(), out=".")
        for element in doc.find_all(["a", "link"], href=True):
            href, anchor = urldefrag(element["href"])
            if urlparse(href).scheme or not href:
                continue
            assert not href.startswith("/"), f"{html}: absolute link {href}"
            target = posixpath.normpath(posixpath.join(html.relative_to(out).parent.as_posix(), href))
            assert (out / target).is_file(), f"{html}: {element['href']} -> {target}"
            if anchor:
                assert page(out, target, out=".").find(id=anchor), f"{html}: missing #{anchor} in {target}"


def test_json_ld_parses_with_the_right_types(site):
    def blocks(path):
        return [json.loads(s.string) for s in page(site, path).find_all("script", type="application/ld+json")]

    defined, faq = blocks("terms/mixture-of-experts/index.html")
    assert defined["@type"] == "DefinedTerm"
    assert defined["name"] == "Mixture of experts"
    assert defined["alternateName"] == ["MoE", "sparse MoE"]
    assert defined["inDefinedTermSet"]["@type"] == "DefinedTermSet"
    assert faq["@type"] == "FAQPage"
    assert faq["mainEntity"][0]["acceptedAnswer"]["text"] == "Per token, yes; see the router."
    assert len(blocks("terms/router/index.html")) == 1  # no FAQs, no FAQPage
    (term_set,) = blocks("index.html")
    assert term_set["@type"] == "DefinedTermSet"
    assert len(term_set["hasDefinedTerm"]) == 6


def test_script_end_tags_in_content_cannot_break_json_ld(make_site):
    nasty = 'Ends </script><script>alert(1)</script> & "quotes"'
    root = make_site(terms(x=f"---\ntitle: X\nsummary: '{nasty}'\n---\nBody.\n"))
    run_build(root)
    doc = page(root, "terms/x/index.html")
    scripts = doc.find_all("script", src=False)
    assert [s["type"] for s in scripts] == ["application/ld+json"]
    assert json.loads(scripts[0].string)["description"] == nasty
    assert [s["src"] for s in doc.find_all("script", src=True)] == ["../../assets/glossary.js"]
    assert doc.find("meta", attrs={"name": "description"})["content"] == nasty


def test_meta_without_base_url_has_no_canonical(site):
    doc = page(site, "terms/router/index.html")
    assert doc.find("meta", attrs={"name": "description"})["content"] == "Picks experts."
    assert doc.find("link", rel="canonical") is None


def test_canonical_open_graph_and_sitemap_with_base_url(make_site):
    root = make_site(terms(
        a=term_text("A", "First.", body="See b.", updated="2026-11-20"),
        b=term_text("B", "Second.", body="See a."),
    ) | {"glossary.yaml": "title: Test Glossary\nbase_url: https://example.org/docs\n"})
    run_build(root)
    doc = page(root, "terms/a/index.html")
    assert doc.find("link", rel="canonical")["href"] == "https://example.org/docs/terms/a/"
    og = {m["property"]: m["content"] for m in doc.find_all("meta", property=True)}
    assert og == {"og:type": "article", "og:title": "A", "og:description": "First.",
                  "og:url": "https://example.org/docs/terms/a/", "og:site_name": "Test Glossary"}
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    sitemap = ET.parse(root / "site" / "sitemap.xml").getroot()
    locs = [u.findtext("s:loc", namespaces=ns) for u in sitemap.findall("s:url", ns)]
    assert "https://example.org/docs/terms/a/" in locs and "https://example.org/docs/" in locs
    lastmod = sitemap.find("s:url[s:loc='https://example.org/docs/terms/a/']/s:lastmod", ns)
    assert lastmod.text == "2026-11-20"
    assert "Sitemap: https://example.org/docs/sitemap.xml" in (root / "site" / "robots.txt").read_text()
    not_found = page(root, "404.html")
    assert not_found.find("link", rel="stylesheet")["href"] == "/docs/assets/style.css"


def test_terms_json_exports_published_terms(site):
    export = json.loads((site / "site" / "terms.json").read_text(encoding="utf-8"))
    moe = next(t for t in export["terms"] if t["slug"] == "mixture-of-experts")
    assert moe == {
        "slug": "mixture-of-experts", "title": "Mixture of experts", "aliases": ["MoE", "sparse MoE"],
        "summary": "Runs a few expert sub-networks per token.", "category": "Model architecture",
        "tags": ["efficiency", "scaling"], "related": ["router"], "url": "terms/mixture-of-experts/",
    }
    assert [t["slug"] for t in export["terms"]] == ["rule", "apple", "eclair", "mixture-of-experts", "router", "zeta"]


def test_404_page_and_robots(site):
    doc = page(site, "404.html")
    assert doc.find("h1").get_text() == "Page not found"
    assert doc.find("link", rel="stylesheet")["href"] == "/assets/style.css"
    assert (site / "site" / "robots.txt").read_text() == "User-agent: *\nAllow: /\n"


def test_user_text_is_escaped_everywhere(make_site):
    evil = '<img src=x onerror=alert(1)>'
    root = make_site(terms(x=f"---\ntitle: '{evil}'\nsummary: '{evil}'\naliases: ['{evil}']\n"
                             f"category: '{evil}'\ntags: ['{evil}']\n---\nBody.\n"))
    run_build(root)
    for path in ["terms/x/index.html", "index.html", "categories/index.html", "categories/img-src-x-onerror-alert-1/index.html"]:
        doc = page(root, path)
        assert doc.find("img") is None, path
        assert evil in doc.get_text(), path


def test_pages_make_no_external_requests(site):
    """No CDN, font or script from elsewhere: every src/href of a resource is local."""
    out = site / "site"
    for html in out.rglob("*.html"):
        doc = page(out, html.relative_to(out).as_posix(), out=".")
        for element in doc.find_all(["script", "img", "link", "iframe", "source"]):
            url = element.get("src") or element.get("href") or ""
            if element.name == "link" and element.get("rel") == ["canonical"]:
                continue
            assert not urlparse(url).scheme and not url.startswith("//"), f"{html}: {element}"
    css = (out / "assets" / "style.css").read_text()
    assert "url(" not in css and "@import" not in css


def test_a_long_referenced_by_list_shows_the_first_hundred_and_counts_the_rest(make_site):
    from glossary_build.render import BACKLINKS_SHOWN

    linking = {f"t{n:03d}": term_text(f"Term {n:03d}", body="About the hub.") for n in range(BACKLINKS_SHOWN + 3)}
    root = make_site(terms(hub=term_text("Hub", body="The hub of [[t000]]."), **linking))
    run_build(root)
    chips = page(root, "terms/hub/index.html").select("#term-referenced-by + ul a")
    assert [a["data-term"] for a in chips] == sorted(linking)[:BACKLINKS_SHOWN]
    assert page(root, "terms/hub/index.html").select_one("#term-referenced-by ~ p.more").get_text() == \
        "and 3 more terms link here"
    # a list that fits has no such line, and its map still counts every neighbour
    assert not page(root, "terms/t000/index.html").select("p.more")
    assert f"{BACKLINKS_SHOWN + 3 - 12} more" in page(root, "terms/hub/index.html").select_one("svg desc").get_text()
