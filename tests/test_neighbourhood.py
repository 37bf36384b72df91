"""The neighbourhood map: one inline SVG per term page, laid out at build time."""

from __future__ import annotations

import copy
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from glossary_build.neighbourhood import FONT_SIZE, neighbourhood_svg
from glossary_build.theme import theme_dir

MAP_CSS = (theme_dir() / "assets" / "style.css").read_text(encoding="utf-8")

SVG = "{http://www.w3.org/2000/svg}"
REPO = Path(__file__).resolve().parent.parent


def link(slug: str, title: str | None = None, summary: str | None = None) -> dict:
    """A link context as render.link_context builds it."""
    title = title or slug.replace("-", " ").capitalize()
    return {
        "slug": slug,
        "title": title,
        "summary": f"About {title}." if summary is None else summary,
        "aliases": [],
        "url": f"terms/{slug}/index.html",
        "letter": title[:1].upper(),
    }


CENTER = link("mixture-of-experts", "Mixture of experts", "Runs a few expert sub-networks per token.")


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def anchors(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{SVG}a")


def view_box(root: ET.Element) -> tuple[float, float, float, float]:
    left, top, width, height = map(float, root.get("viewBox").split())
    return left, top, left + width, top + height


def text_extent(text: ET.Element) -> tuple[float, float, float, float]:
    """Estimated box of a label: 0.6 × font size per character, placed by its text-anchor."""
    width = 0.6 * FONT_SIZE * len(text.text)
    x, y = float(text.get("x")), float(text.get("y"))
    anchor = text.get("text-anchor", "start")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return left, y - FONT_SIZE, left + width, y + 0.3 * FONT_SIZE


def sample() -> tuple[dict, list[dict], list[dict], list[dict]]:
    links_to = [link("router", "Router"), link("token", "Token"), link("gating", "Gating")]
    linked_from = [link("lora", "LoRA"), link("gating", "Gating")]
    related = [link("dense-model", "Dense model"), link("router", "Router")]
    return CENTER, links_to, linked_from, related


# --- markup ---------------------------------------------------------------------------------------------


def test_output_is_well_formed_svg_with_labelled_title_and_description():
    root = parse(neighbourhood_svg(*sample()))
    assert root.get("class") == "term-map"
    assert root.get("role") == "group"  # not "img": its children would be hidden from assistive technology
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert root.get("aria-labelledby") == title.get("id") == "term-map-mixture-of-experts-title"
    assert root.get("aria-describedby") == desc.get("id") == "term-map-mixture-of-experts-desc"
    assert list(root)[:2] == [title, desc]
    assert "Mixture of experts" in title.text
    assert desc.text == ("Mixture of experts links to Router and Token; it links both ways with Gating; "
                         "LoRA links to it; related: Dense model and Router.")
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids))


def test_description_grammar_for_single_and_several_incoming_links():
    one = parse(neighbourhood_svg(CENTER, [], [link("lora", "LoRA")], [])).find(f"{SVG}desc").text
    assert one == "LoRA links to it."
    two = parse(neighbourhood_svg(CENTER, [], [link("lora", "LoRA"), link("a", "A"), link("b", "B")], []))
    assert two.find(f"{SVG}desc").text == "LoRA, A and B link to it."
    both_only = parse(neighbourhood_svg(CENTER, [link("x", "X")], [link("x", "X")], []))
    assert both_only.find(f"{SVG}desc").text == "Mixture of experts links both ways with X."


def test_every_neighbour_is_a_link_with_its_href_and_full_title():
    center, links_to, linked_from, related = sample()
    for root_path in ("../../", "", "/glossary/"):
        root = parse(neighbourhood_svg(center, links_to, linked_from, related, root=root_path))
        by_href = {a.get("href"): a for a in anchors(root)}
        expected = {link["slug"]: link for link in links_to + linked_from + related}
        assert set(by_href) == {root_path + link["url"] for link in expected.values()}
        for item in expected.values():
            a = by_href[root_path + item["url"]]
            children = list(a)
            assert [child.tag for child in children] == [SVG + "title", SVG + "circle", SVG + "text"]
            assert children[0].text.startswith(item["title"] + " (")
            assert children[0].text.endswith(")")  # the relation; the summary comes from the hover preview
            assert a.get("data-term") == item["slug"]
            assert children[2].text == item["title"]


def test_center_is_not_a_link_and_is_marked_current():
    root = parse(neighbourhood_svg(*sample()))
    centers = root.findall(f"{SVG}g[@class='map-center']")
    assert len(centers) == 1
    assert centers[0].get("aria-current") == "page"
    assert centers[0].find(f"{SVG}text").text == "Mixture of experts"
    assert centers[0].find(f"{SVG}title").text == "Mixture of experts"
    assert all(a.get("href") != "../../" + CENTER["url"] for a in anchors(root))


def test_a_term_in_several_lists_is_drawn_once_with_every_relation():
    root = parse(neighbourhood_svg(*sample()))
    hrefs = [a.get("href") for a in anchors(root)]
    # related first, then both ways, then outgoing, then incoming; each in the given order
    assert hrefs == ["../../terms/dense-model/index.html", "../../terms/router/index.html",
                     "../../terms/gating/index.html", "../../terms/token/index.html", "../../terms/lora/index.html"]
    edges = [set(g.get("class").split()) for g in root.find(f"{SVG}g[@class='map-edges']")]
    assert edges == [
        {"map-edge", "map-edge-related"},
        {"map-edge", "map-edge-out", "map-edge-related"},
        {"map-edge", "map-edge-both"},
        {"map-edge", "map-edge-out"},
        {"map-edge", "map-edge-in"},
    ]
    nodes = [set(a.get("class").split()) for a in anchors(root)]
    assert nodes[1] == {"map-node", "map-node-out", "map-node-related"}
    assert nodes[2] == {"map-node", "map-node-both"}
    titles = [a.find(f"{SVG}title").text for a in anchors(root)]
    assert titles[1] == "Router (linked from here, related)"
    assert titles[2] == "Gating (links both ways)"
    assert titles[4] == "LoRA (links here)"


def test_arrowheads_show_direction():
    root = parse(neighbourhood_svg(*sample()))
    arrows = [len(g.findall(f"{SVG}path")) for g in root.find(f"{SVG}g[@class='map-edges']")]
    assert arrows == [0, 1, 2, 1, 1]  # related only, out, both, out, in
    assert root.find(f"{SVG}g[@class='map-edges']").get("aria-hidden") == "true"


def test_duplicates_within_a_list_and_self_links_are_ignored():
    router = link("router", "Router")
    root = parse(neighbourhood_svg(CENTER, [router, router, CENTER], [CENTER], [router]))
    assert [a.get("href") for a in anchors(root)] == ["../../terms/router/index.html"]
    assert neighbourhood_svg(CENTER, [CENTER], [CENTER], [CENTER]) == ""


def test_no_neighbours_gives_an_empty_string():
    assert neighbourhood_svg(CENTER, [], [], []) == ""


# --- limits ---------------------------------------------------------------------------------------------


def test_max_nodes_keeps_the_first_ones_and_says_how_many_more():
    related = [link(f"related-{i:02d}") for i in range(5)]
    outgoing = [link(f"out-{i:02d}") for i in range(15)]
    root = parse(neighbourhood_svg(CENTER, outgoing, [], related))
    hrefs = [a.get("href") for a in anchors(root)]
    assert len(hrefs) == 12
    assert hrefs[:5] == [f"../../terms/related-{i:02d}/index.html" for i in range(5)]
    assert hrefs[5:] == [f"../../terms/out-{i:02d}/index.html" for i in range(7)]
    assert "and 8 more" in root.find(f"{SVG}title").text
    assert root.find(f"{SVG}desc").text.endswith("; and 8 more terms not shown.")
    assert root.find(f"{SVG}text[@class='map-more']").text == "and 8 more terms not shown"

    few = parse(neighbourhood_svg(CENTER, outgoing, [], related, max_nodes=30))
    assert len(anchors(few)) == 20
    assert "more" not in few.find(f"{SVG}title").text + few.find(f"{SVG}desc").text
    assert few.find(f"{SVG}text[@class='map-more']") is None

    one = parse(neighbourhood_svg(CENTER, outgoing, [], [], max_nodes=1))
    assert len(anchors(one)) == 1
    assert one.find(f"{SVG}desc").text.endswith("and 14 more terms not shown.")
    with pytest.raises(ValueError):
        neighbourhood_svg(CENTER, outgoing, [], [], max_nodes=0)


def test_long_titles_are_cut_in_the_label_but_whole_in_the_title():
    long_title = "A remarkably long term title that would never fit on the map"
    root = parse(neighbourhood_svg(CENTER, [link("long", long_title)], [], []))
    a = anchors(root)[0]
    label = a.find(f"{SVG}text").text
    assert label.endswith("\u2026") and len(label) <= 24
    assert long_title.startswith(label[:-1])
    assert a.find(f"{SVG}title").text.startswith(long_title + " (")


# --- safety ---------------------------------------------------------------------------------------------

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    '"quoted" & more',
    "it's <b>bold</b> & 'quoted'",
    "</title><script>alert(1)</script>",
    "]]><!-- -->&amp;",
    "tab\tand\nnewline\x0bcontrol\x00",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_content_is_escaped_and_stays_text(hostile):
    expected = " ".join(hostile.replace("\x0b", "").replace("\x00", "").split())
    center = link("center", hostile, hostile)
    neighbour = link("neighbour", hostile, hostile)
    svg = neighbourhood_svg(center, [neighbour], [], [link("other", "Other", hostile)])
    root = parse(svg)  # well-formed whatever the content
    tags = {element.tag for element in root.iter()}
    assert tags <= {SVG + t for t in ("svg", "title", "desc", "g", "line", "path", "a", "circle", "rect", "text")}
    a = anchors(root)[1]
    assert a.find(f"{SVG}title").text == f"{expected} (linked from here)"
    assert a.get("data-term") == "neighbour"
    label = a.find(f"{SVG}text").text
    assert expected.startswith(label.rstrip("\u2026"))
    assert root.find(f"{SVG}g[@class='map-center']/{SVG}title").text == expected
    assert expected in root.find(f"{SVG}desc").text
    assert "<script" not in svg and "<img" not in svg and "<b>" not in svg


def test_no_styles_scripts_or_external_references():
    related = [link(f"r{i}", f"Related {i}") for i in range(3)]
    svg = neighbourhood_svg(CENTER, [link("a", "A")], [link("b", "B")], related)
    root = parse(svg)
    for element in root.iter():
        assert element.tag not in (SVG + "style", SVG + "script", SVG + "foreignObject", SVG + "image", SVG + "use")
        for name, value in element.attrib.items():
            assert name != "style" and not name.startswith("on") and not name.startswith("{")
            assert "url(" not in value and "javascript:" not in value.lower()
            if name == "href":
                assert element.tag == SVG + "a"
                assert not re.match(r"^[a-z][a-z0-9+.-]*:", value, re.I) and not value.startswith(("/", "#"))
    assert "<style" not in svg and "<script" not in svg and "xlink" not in svg
    assert "font-family" not in svg and "@import" not in svg


def test_coordinates_have_at_most_one_decimal():
    outgoing = [link(f"term-{i}", f"Term number {i}") for i in range(11)]
    svg = neighbourhood_svg(CENTER, outgoing, [], [])
    numbers = re.findall(r' (?:x|y|x1|y1|x2|y2|cx|cy|r|rx|width|height)="([^"]*)"', svg)
    numbers += parse(svg).get("viewBox").split()
    numbers += [n for d in re.findall(r' d="([^"]*)"', svg) for n in re.findall(r"-?[\d.]+", d)]
    assert numbers
    for number in numbers:
        assert re.fullmatch(r"-?\d+(\.\d)?", number), number
        assert number != "-0"


# --- determinism ----------------------------------------------------------------------------------------


def test_output_is_deterministic():
    args = sample()
    first = neighbourhood_svg(*args)
    assert neighbourhood_svg(*args) == first
    assert neighbourhood_svg(*copy.deepcopy(args)) == first
    rebuilt = (CENTER | {}, [link("router", "Router"), link("token", "Token"), link("gating", "Gating")],
               [link("lora", "LoRA"), link("gating", "Gating")],
               [link("dense-model", "Dense model"), link("router", "Router")])
    assert neighbourhood_svg(*rebuilt) == first


def test_output_does_not_depend_on_the_hash_seed():
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from test_neighbourhood import sample, link, CENTER;"
        "from glossary_build.neighbourhood import neighbourhood_svg;"
        "print(neighbourhood_svg(*sample()));"
        "print(neighbourhood_svg(CENTER, [link(f't{i}') for i in range(20)], [], []))"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True, text=True,
                       check=True, env={**os.environ, "PYTHONHASHSEED": seed}, cwd=REPO).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1


# --- layout ---------------------------------------------------------------------------------------------

LONG = "An extremely long and winding glossary term title"


@pytest.mark.parametrize("count", list(range(1, 16)) + [24])
@pytest.mark.parametrize("title", ["Token", LONG])
def test_labels_and_nodes_fit_in_the_view_box(count, title):
    center = link("center", LONG if count % 2 else "MoE")
    neighbours = [link(f"t{i:02d}", f"{title} {i}") for i in range(count)]
    root = parse(neighbourhood_svg(center, neighbours, [], [], max_nodes=max(count - 2, 1)))
    left, top, right, bottom = view_box(root)
    texts = list(root.iter(SVG + "text"))
    assert len(texts) >= min(count, max(count - 2, 1)) + 1
    for text in texts:
        x0, y0, x1, y1 = text_extent(text)
        assert left <= x0 and x1 <= right, (text.text, x0, x1, left, right)
        assert top <= y0 and y1 <= bottom, (text.text, y0, y1, top, bottom)
    for circle in root.iter(SVG + "circle"):
        cx, cy, r = (float(circle.get(k)) for k in ("cx", "cy", "r"))
        assert left <= cx - r and cx + r <= right and top <= cy - r and cy + r <= bottom
    rect = root.find(f".//{SVG}rect")
    assert left <= float(rect.get("x")) and float(rect.get("x")) + float(rect.get("width")) <= right
    assert root.get("width") == f"{right - left:g}" or float(root.get("width")) == pytest.approx(right - left)


@pytest.mark.parametrize("count", range(1, 13))
def test_labels_do_not_overlap_each_other_or_the_center(count):
    neighbours = [link(f"t{i:02d}", f"{LONG} {i}") for i in range(count)]
    root = parse(neighbourhood_svg(link("center", LONG), neighbours, [], []))
    boxes = [text_extent(text) for text in root.iter(SVG + "text")]
    boxes += [(float(c.get("cx")) - 7, float(c.get("cy")) - 7, float(c.get("cx")) + 7, float(c.get("cy")) + 7)
              for c in root.iter(SVG + "circle")]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, (a, b)


def test_neighbours_are_evenly_spaced_on_an_ellipse_around_the_center():
    for count in (3, 5, 8, 12):
        root = parse(neighbourhood_svg(CENTER, [link(f"t{i}") for i in range(count)], [], []))
        points = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(SVG + "circle")]
        # x²·p + y²·q = 1 for p = 1/rx², q = 1/ry²: solve with two points, check all
        (x1, y1), (x2, y2) = points[0], next(pt for pt in points if abs(abs(pt[0]) - abs(points[0][0])) > 1)
        det = x1 * x1 * y2 * y2 - x2 * x2 * y1 * y1
        p, q = (y2 * y2 - y1 * y1) / det, (x1 * x1 - x2 * x2) / det
        rx, ry = p ** -0.5, q ** -0.5
        assert rx >= ry > 0
        for x, y in points:
            assert (x / rx) ** 2 + (y / ry) ** 2 == pytest.approx(1, abs=0.01)
        angles = [math.atan2(y / ry, x / rx) % (2 * math.pi) for x, y in points]
        steps = [(b - a) % (2 * math.pi) for a, b in zip(angles, angles[1:])]
        assert steps == pytest.approx([2 * math.pi / count] * (count - 1), abs=0.01)  # clockwise, in order
        # symmetric about the vertical axis: every node has a mirror image
        mirrored = sorted((round(-x), round(y)) for x, y in points)
        assert mirrored == sorted((round(x), round(y)) for x, y in points)


# --- stylesheet -----------------------------------------------------------------------------------------


def test_map_css_uses_only_theme_variables_and_styles_every_class():
    theme = (REPO / "templates" / "assets" / "style.css").read_text(encoding="utf-8")
    defined = set(re.findall(r"(--[a-z-]+)\s*:", theme))
    used = set(re.findall(r"var\((--[a-z-]+)\)", MAP_CSS))
    assert used and used <= defined
    assert "a:focus-visible" in MAP_CSS and "a:hover" in MAP_CSS
    assert MAP_CSS.count("{") == MAP_CSS.count("}")
    svg = neighbourhood_svg(*sample(), max_nodes=2)
    classes = {c for value in re.findall(r'class="([^"]*)"', svg) for c in value.split()}
    for name in classes - {"map-edges", "map-node-out", "map-node-both", "map-node-in", "map-node", "map-edge-both"}:
        assert "." + name in MAP_CSS, name
    assert f"font-size: {FONT_SIZE}px" in MAP_CSS
