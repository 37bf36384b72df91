"""The whole glossary on one page: its categories, how big they are, and how they link.

A category is a circle whose area grows with its number of terms; a line between
two categories is as heavy as the links between their terms. Drawing categories
rather than terms keeps the map readable, and the same size, at 60 terms or at
10,000. Laid out at build time on a circle, in name order: deterministic, no script.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from html import escape

RADIUS = 190.0  # of the circle the categories sit on
MAX_NODE = 34.0
MIN_NODE = 9.0
CHAR_WIDTH = 7.2  # px per character at the label size the theme sets (12px)


def _num(value: float) -> str:
    text = f"{round(value, 1):.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def category_links(links: Iterable[tuple[str, str]] | Counter) -> dict:
    """(slug_a, slug_b) -> how many term links cross between the two categories (a < b).

    links: (source category, target category) of each link, or a Counter of them.
    """
    counted = links if isinstance(links, Counter) else Counter(links)
    weights: Counter = Counter()
    for (source, target), count in counted.items():
        if source != target:
            weights[(source, target) if source < target else (target, source)] += count
    return dict(sorted(weights.items()))


def glossary_map_svg(categories: list[tuple[str, str, int]], weights: dict, root: str = "../") -> str:
    """categories: (slug, name, number of terms), in display order; '' when there are none."""
    if not categories:
        return ""
    largest = max(count for _, _, count in categories)
    heaviest = max(weights.values(), default=1)
    places = {}
    for position, (slug, name, count) in enumerate(categories):
        angle = -math.pi / 2 + 2 * math.pi * position / len(categories)
        x, y = (0.0, 0.0) if len(categories) == 1 else (RADIUS * math.cos(angle), RADIUS * math.sin(angle))
        size = MIN_NODE + (MAX_NODE - MIN_NODE) * math.sqrt(count / largest)
        places[slug] = (x, y, size, angle, name, count)
    lines = []
    for (a, b), weight in weights.items():
        if a in places and b in places:
            width = 1 + 5 * weight / heaviest
            lines.append(
                f'<line class="map-edge-line" x1="{_num(places[a][0])}" y1="{_num(places[a][1])}" '
                f'x2="{_num(places[b][0])}" y2="{_num(places[b][1])}" stroke-width="{_num(width)}">'
                f"<title>{escape(places[a][4])} and {escape(places[b][4])}: {weight} links</title></line>"
            )
    nodes = []
    wide, tall = RADIUS + MAX_NODE, RADIUS + MAX_NODE
    for slug, (x, y, size, angle, name, count) in places.items():
        label = f"{name} ({count})"
        anchor = "start" if math.cos(angle) > 0.3 else "end" if math.cos(angle) < -0.3 else "middle"
        offset = size + 6
        lx = x + offset * math.cos(angle) if len(places) > 1 else x
        ly = y + offset * math.sin(angle) + 4 if len(places) > 1 else y + size + 16
        width = len(label) * CHAR_WIDTH
        wide = max(wide, abs(lx) + (width if anchor != "middle" else width / 2))
        tall = max(tall, abs(ly) + 16)
        nodes.append(
            f'<a href="{escape(root)}{escape(slug)}/index.html" class="map-node">'
            f"<title>{escape(name)}: {count} terms</title>"
            f'<circle class="map-dot" cx="{_num(x)}" cy="{_num(y)}" r="{_num(size)}"/>'
            f'<text class="map-label" x="{_num(lx)}" y="{_num(ly)}" text-anchor="{anchor}">{escape(label)}</text></a>'
        )
    half_w, half_h = math.ceil(wide + 12), math.ceil(tall + 12)
    names = ", ".join(f"{name} ({count})" for _, name, count, *_ in categories)
    return (
        f'<svg class="term-map glossary-map" role="group" aria-labelledby="glossary-map-title" '
        f'aria-describedby="glossary-map-desc" viewBox="{-half_w} {-half_h} {2 * half_w} {2 * half_h}" '
        f'width="{2 * half_w}" height="{2 * half_h}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="glossary-map-title">Categories of the glossary and the links between them</title>'
        f'<desc id="glossary-map-desc">{len(categories)} categories: {escape(names)}.</desc>'
        f'<g class="map-edges" aria-hidden="true">{"".join(lines)}</g>{"".join(nodes)}</svg>'
    )
