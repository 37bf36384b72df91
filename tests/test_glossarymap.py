"""The map of categories on the categories page: every category a link, sized and connected."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conftest import page, run_build, term_text, terms
from glossary_build.glossarymap import category_links, glossary_map_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_categories_page_shows_a_map_whose_nodes_link_to_each_category(make_site):
    root = make_site(terms(
        a=term_text("Alpha", category="Basics", body="See beta and gamma."),
        b=term_text("Beta", category="Basics", body="See alpha."),
        c=term_text("Gamma", category="Advanced", body="See alpha."),
    ))
    run_build(root)
    doc = page(root, "categories/index.html")
    svg = doc.find("svg", class_="glossary-map")
    links = {a["href"]: a.find("text").get_text() for a in svg.find_all("a")}
    assert links == {"advanced/index.html": "Advanced (1)", "basics/index.html": "Basics (2)"}
    for href in links:
        assert (root / "site/categories" / href).is_file()
    (edge,) = svg.find_all("line")
    assert edge.find("title").get_text() == "Advanced and Basics: 2 links"  # alpha -> gamma, gamma -> alpha


def test_map_is_escaped_deterministic_and_well_formed():
    hostile = '<img src=x onerror=alert(1)> & "more"'
    categories = [("a", hostile, 3), ("b", "Plain", 1)]
    weights = category_links([("a", "b"), ("b", "a"), ("a", "a")])
    assert weights == {("a", "b"): 2}
    first, second = glossary_map_svg(categories, weights), glossary_map_svg(list(categories), dict(weights))
    assert first == second
    tree = ET.fromstring(first)
    assert [t.text for t in tree.iter(f"{SVG}text")][0] == f"{hostile} (3)"
    assert not any(name.startswith("on") for element in tree.iter() for name in element.attrib)


def test_no_categories_no_map():
    assert glossary_map_svg([], {}) == ""
