"""A term's neighbourhood as an inline SVG map, laid out at build time.

``neighbourhood_svg`` is a pure function (standard library only, no I/O): given a
term's link context and the link contexts of the terms it links to, the terms that
link to it and its related terms, it returns one ``<svg>`` element as text, or ""
when the term has no neighbours. The same input always gives the same bytes.

Layout: the term sits in the middle as a filled, rounded box holding its title; up
to ``max_nodes`` neighbours sit on an ellipse around it at evenly spaced angles,
each a small circle with its label on the outer side (right half: text starts
after the circle; left half: text ends before it; a node straight below the middle
gets its label centred underneath), so edges never cross labels. Each neighbour is
joined to the middle by a straight edge with arrowheads showing the direction of
the links (out, in or both); an edge that stands only for a ``related`` entry has
no arrowhead and is dashed by the stylesheet. The viewBox is computed from an
estimate of every label's width, so no label is clipped, and every coordinate is
rounded to one decimal.

Styling is by CSS classes only (the theme's
stylesheet), so the map follows the site's light and dark colours. Everything that
comes from content is escaped for XML.

The <svg> has role="group" (labelled by its <title>, described by its <desc>), not
role="img": an img's children are presentational, which would hide the node links
from assistive technology while they stay in the tab order.
"""

from __future__ import annotations

import math
import re
import unicodedata

__all__ = ["neighbourhood_svg", "label_width", "FONT_SIZE"]

FONT_SIZE = 12  # user units; the theme's .term-map text rule sets the same size, the layout measures with it
CHAR_WIDTH = 0.6  # estimated advance of an ordinary character, in ems
WIDE_CHAR_WIDTH = 1.0  # East Asian wide and full-width characters
BOLD_FACTOR = 1.1  # the centre label is semibold
LABEL_MAX_CHARS = 24  # longer neighbour titles are cut with an ellipsis (full title in <title>)
CENTER_MAX_CHARS = 32
NODE_RADIUS = 7.0
LABEL_GAP = 6.0  # between a node's circle and its label
CENTER_PAD_X = 10.0
CENTER_PAD_Y = 7.0
EDGE_GAP = 2.0  # between an edge's end and the shape it points at
ARROW_LENGTH = 8.0
ARROW_HALF_WIDTH = 4.0
MIN_RY = 100.0  # vertical radius of the ellipse
MIN_RX = 140.0  # horizontal radius
ROW_SPACING = 28.0  # least vertical distance between neighbouring labels on one side
MARGIN = 8.0  # around the drawing, inside the viewBox
ELLIPSIS = "\u2026"

KIND_WORDS = {"out": "linked from here", "in": "links here", "both": "links both ways"}

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")



def neighbourhood_svg(center: dict, links_to: list[dict], linked_from: list[dict], related: list[dict],
                      root: str = "../../", max_nodes: int = 12) -> str:
    """The map of ``center``'s neighbours as one <svg> element, or "" when it has none.

    Every argument dict is a link context (``render.link_context``): slug, title,
    summary, aliases, url, letter. Hrefs are ``root + url``. A term in several lists
    is drawn once; the order is related terms, then terms linking both ways, then
    terms ``center`` links to, then terms linking to it, each group in the order
    given; at most ``max_nodes`` are drawn and the title and description say how
    many more there are.
    """
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, not {max_nodes}")
    shown, total = _neighbours(center, links_to, linked_from, related, max_nodes)
    if not shown:
        return ""
    hidden = total - len(shown)
    center_title = _clean(center.get("title")) or _clean(center.get("slug"))
    slug = _clean(center.get("slug")) or "term"
    title_id, desc_id = f"term-map-{slug}-title", f"term-map-{slug}-desc"

    layout = _Layout(center_title, shown, hidden)
    parts = [
        f'<svg class="term-map" role="group" aria-labelledby="{_esc(title_id)}" aria-describedby="{_esc(desc_id)}"'
        f' viewBox="{layout.view_box}" width="{_num(layout.width)}" height="{_num(layout.height)}"'
        f' font-size="{FONT_SIZE}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_esc(title_id)}">{_esc(_map_title(center_title, len(shown), hidden))}</title>',
        f'<desc id="{_esc(desc_id)}">{_esc(_description(center_title, shown, hidden))}</desc>',
        '<g class="map-edges" aria-hidden="true">',
    ]
    for node, place in zip(shown, layout.places):
        parts.append(_edge_markup(node, place, layout))
    parts.append("</g>")
    for node, place in zip(shown, layout.places):
        parts.append(_node_markup(node, place, root))
    parts.append(
        '<g class="map-center" aria-current="page">'
        f'<title>{_esc(center_title)}</title>'
        f'<rect class="map-center-box" x="{_num(-layout.center_w / 2)}" y="{_num(-layout.center_h / 2)}"'
        f' width="{_num(layout.center_w)}" height="{_num(layout.center_h)}" rx="6"/>'
        f'<text class="map-label map-center-label" x="0" y="{_num(_baseline(0))}" text-anchor="middle">'
        f'{_esc(layout.center_label)}</text></g>'
    )
    if hidden:
        parts.append(f'<text class="map-more" x="0" y="{_num(layout.more_y)}" text-anchor="middle">'
                     f'{_esc(_more_note(hidden))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


# --- which neighbours, in which order ---------------------------------------------------------------


class _Node:
    __slots__ = ("link", "related", "direction", "_title")

    def __init__(self, link: dict, direction: str | None, related: bool):
        self.link = link
        self.direction = direction  # "out", "in", "both", or None for a term that is only related
        self.related = related
        self._title: str | None = None

    @property
    def title(self) -> str:
        """Made only for the nodes drawn: a popular term has thousands of neighbours."""
        if self._title is None:
            self._title = _clean(self.link.get("title")) or _clean(self.link.get("slug"))
        return self._title

    @property
    def kind(self) -> str:
        words = [KIND_WORDS[self.direction]] if self.direction else []
        return ", ".join(words + (["related"] if self.related else []))


def _direction(out: bool, into: bool) -> str | None:
    if out and into:
        return "both"
    return "out" if out else "in" if into else None


def _neighbours(center: dict, links_to: list[dict], linked_from: list[dict], related: list[dict],
                limit: int) -> tuple[list[_Node], int]:
    """The first ``limit`` neighbours in drawing order, and how many there are in all.

    Nodes are made only for those drawn: a popular term has thousands of neighbours.
    """
    center_slug = center.get("slug")
    out = {link["slug"] for link in links_to}
    into = {link["slug"] for link in linked_from}
    is_related = {link["slug"] for link in related}
    total = len((out | into | is_related) - {center_slug})
    ordered: list[_Node] = []
    seen = {center_slug}
    for links, wanted in ((related, None),  # related first (whatever else they are)
                          (links_to, "both"), (links_to, "out"), (linked_from, "in")):
        for link in links:
            if len(ordered) == limit:
                return ordered, total
            slug = link["slug"]
            if slug in seen:
                continue
            direction = _direction(slug in out, slug in into)
            if wanted is None or direction == wanted:
                seen.add(slug)
                ordered.append(_Node(link, direction, slug in is_related))
    return ordered, total


# --- geometry -----------------------------------------------------------------------------------------


class _Place:
    __slots__ = ("x", "y", "ux", "uy", "label", "label_x", "label_y", "anchor", "box")


class _Layout:
    """Positions of the centre box, every node and label, and the viewBox that holds them all."""

    def __init__(self, center_title: str, nodes: list[_Node], hidden: int):
        self.center_label = _truncate(center_title, CENTER_MAX_CHARS)
        self.center_w = label_width(self.center_label) * BOLD_FACTOR + 2 * CENTER_PAD_X
        self.center_h = FONT_SIZE + 2 * CENTER_PAD_Y
        count = len(nodes)
        ry = MIN_RY
        if count >= 3:  # labels on one side, stacked near the top and bottom, must not touch
            ry = max(ry, ROW_SPACING / (math.cos(math.pi / count) - math.cos(3 * math.pi / count)))
        rx = max(MIN_RX, ry * 1.4, self.center_w / 2 + NODE_RADIUS + 48)
        self.rx, self.ry = rx, ry
        boxes = [(-self.center_w / 2, -self.center_h / 2, self.center_w / 2, self.center_h / 2)]
        self.places = []
        for index, node in enumerate(nodes):
            # evenly spaced, half a step off the vertical so that the top has a pair, not a single node
            angle = -math.pi / 2 + math.pi / count + 2 * math.pi * index / count
            cos, sin = _stable(math.cos(angle)), _stable(math.sin(angle))
            place = _Place()
            place.x, place.y = rx * cos, ry * sin
            length = math.hypot(place.x, place.y)
            place.ux, place.uy = place.x / length, place.y / length
            place.label = _truncate(node.title, LABEL_MAX_CHARS)
            width = label_width(place.label)
            if abs(cos) < 1e-6:  # straight above or below: label centred beyond the node
                place.anchor = "middle"
                place.label_x = place.x
                if sin > 0:
                    place.label_y = place.y + NODE_RADIUS + LABEL_GAP + 0.8 * FONT_SIZE
                else:
                    place.label_y = place.y - NODE_RADIUS - LABEL_GAP - 0.3 * FONT_SIZE
                left = place.x - width / 2
            elif cos > 0:
                place.anchor, place.label_x, place.label_y = "start", place.x + NODE_RADIUS + LABEL_GAP, _baseline(place.y)
                left = place.label_x
            else:
                place.anchor, place.label_x, place.label_y = "end", place.x - NODE_RADIUS - LABEL_GAP, _baseline(place.y)
                left = place.label_x - width
            place.box = (left, place.label_y - FONT_SIZE, left + width, place.label_y + 0.35 * FONT_SIZE)
            boxes.append(place.box)
            boxes.append((place.x - NODE_RADIUS - 2, place.y - NODE_RADIUS - 2,
                          place.x + NODE_RADIUS + 2, place.y + NODE_RADIUS + 2))
            self.places.append(place)
        self.more_y = 0.0
        if hidden:
            self.more_y = max(box[3] for box in boxes) + 0.6 * FONT_SIZE + FONT_SIZE
            width = label_width(_more_note(hidden))
            boxes.append((-width / 2, self.more_y - FONT_SIZE, width / 2, self.more_y + 0.35 * FONT_SIZE))
        left = math.floor((min(b[0] for b in boxes) - MARGIN) * 10) / 10
        top = math.floor((min(b[1] for b in boxes) - MARGIN) * 10) / 10
        right = math.ceil((max(b[2] for b in boxes) + MARGIN) * 10) / 10
        bottom = math.ceil((max(b[3] for b in boxes) + MARGIN) * 10) / 10
        self.width, self.height = right - left, bottom - top
        self.view_box = f"{_num(left)} {_num(top)} {_num(self.width)} {_num(self.height)}"

    def center_exit(self, ux: float, uy: float) -> float:
        """Distance from the middle to the centre box's edge along the unit vector (ux, uy)."""
        limits = []
        if abs(ux) > 1e-9:
            limits.append(self.center_w / 2 / abs(ux))
        if abs(uy) > 1e-9:
            limits.append(self.center_h / 2 / abs(uy))
        return min(limits)


def _edge_markup(node: _Node, place: _Place, layout: _Layout) -> str:
    ux, uy = place.ux, place.uy
    start = layout.center_exit(ux, uy) + EDGE_GAP
    end = math.hypot(place.x, place.y) - NODE_RADIUS - EDGE_GAP
    direction = node.direction
    arrows = []
    line_start, line_end = start, end
    if direction in ("out", "both"):
        arrows.append(_arrow(ux * end, uy * end, ux, uy))
        line_end -= ARROW_LENGTH - 1
    if direction in ("in", "both"):
        arrows.append(_arrow(ux * start, uy * start, -ux, -uy))
        line_start += ARROW_LENGTH - 1
    classes = ["map-edge"] + ([f"map-edge-{direction}"] if direction else []) + (["map-edge-related"] if node.related else [])
    return (f'<g class="{" ".join(classes)}"><line x1="{_num(ux * line_start)}" y1="{_num(uy * line_start)}"'
            f' x2="{_num(ux * line_end)}" y2="{_num(uy * line_end)}"/>{"".join(arrows)}</g>')


def _arrow(tip_x: float, tip_y: float, dx: float, dy: float) -> str:
    """A filled triangle with its tip at (tip_x, tip_y), pointing along the unit vector (dx, dy)."""
    base_x, base_y = tip_x - dx * ARROW_LENGTH, tip_y - dy * ARROW_LENGTH
    nx, ny = -dy * ARROW_HALF_WIDTH, dx * ARROW_HALF_WIDTH
    return (f'<path class="map-arrow" d="M{_num(tip_x)} {_num(tip_y)}L{_num(base_x + nx)} {_num(base_y + ny)}'
            f'L{_num(base_x - nx)} {_num(base_y - ny)}Z"/>')


def _node_markup(node: _Node, place: _Place, root: str) -> str:
    direction = node.direction
    classes = ["map-node"] + ([f"map-node-{direction}"] if direction else []) + (["map-node-related"] if node.related else [])
    href = root + node.link["url"]
    return (f'<a href="{_esc(href)}" class="{" ".join(classes)}" data-term="{_esc(node.link["slug"])}">'
            f'<title>{_esc(_node_title(node.title, node.kind))}</title>'
            f'<circle class="map-dot" cx="{_num(place.x)}" cy="{_num(place.y)}" r="{_num(NODE_RADIUS)}"/>'
            f'<text class="map-label" x="{_num(place.label_x)}" y="{_num(place.label_y)}"'
            f' text-anchor="{place.anchor}">{_esc(place.label)}</text></a>')


def _baseline(middle_y: float) -> float:
    """The baseline that centres a line of text vertically on ``middle_y``."""
    return middle_y + 0.35 * FONT_SIZE


# --- words --------------------------------------------------------------------------------------------


def _map_title(center_title: str, shown: int, hidden: int) -> str:
    title = f"Map of the terms connected to {center_title}"
    if hidden:
        title += f" ({shown} shown, and {hidden} more)"
    return title


def _description(center_title: str, nodes: list[_Node], hidden: int) -> str:
    out = [n.title for n in nodes if n.direction == "out"]
    both = [n.title for n in nodes if n.direction == "both"]
    into = [n.title for n in nodes if n.direction == "in"]
    related = [n.title for n in nodes if n.related]
    sentences = []
    if out:
        sentences.append(f"{center_title} links to {_and(out)}")
    if both:
        sentences.append(f"{'it' if out else center_title} links both ways with {_and(both)}")
    if into:
        sentences.append(f"{_and(into)} {'links' if len(into) == 1 else 'link'} to it")
    if related:
        sentences.append(f"related: {_and(related)}")
    if hidden:
        sentences.append(f"and {hidden} more {'term' if hidden == 1 else 'terms'} not shown")
    return "; ".join(sentences) + "."


def _more_note(hidden: int) -> str:
    return f"and {hidden} more {'term' if hidden == 1 else 'terms'} not shown"


def _node_title(title: str, kind: str) -> str:
    """The node's name and relation; its summary comes from the hover preview, not repeated here."""
    return f"{title} ({kind})" if kind else title


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- text ---------------------------------------------------------------------------------------------


def label_width(text: str, font_size: float = FONT_SIZE) -> float:
    """Estimated width of ``text`` on one line: 0.6 em a character, 1 em for wide ones, 0 for marks."""
    if text.isascii():  # the common case, without a look at every character
        return len(text) * CHAR_WIDTH * font_size
    width = 0.0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += WIDE_CHAR_WIDTH if unicodedata.east_asian_width(char) in ("W", "F") else CHAR_WIDTH
    return width * font_size


def _truncate(text: str, max_chars: int) -> str:
    """``text`` cut with an ellipsis so that it is no wider than ``max_chars`` ordinary characters."""
    limit = max_chars * CHAR_WIDTH * FONT_SIZE
    if label_width(text) <= limit:
        return text
    room = limit - label_width(ELLIPSIS)
    cut = ""
    used = 0.0
    for char in text:
        used += label_width(char)
        if used > room:
            break
        cut += char
    return cut.rstrip(" ,;:-\u2013\u2014") + ELLIPSIS


def _clean(value) -> str:
    """Content text on one line, without characters XML cannot carry."""
    text = _INVALID_XML.sub("", str(value or ""))
    return " ".join(text.split())


def _esc(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _stable(value: float) -> float:
    """Trig results rounded well below the output precision, so platforms agree on the last digit."""
    return round(value, 9) + 0.0


def _num(value: float) -> str:
    """A coordinate with at most one decimal: "12", "-3.5"; never "-0"."""
    text = f"{round(value, 6):.1f}"  # formatting rounds as round(_, 1) does: to the nearest
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text
