"""Term bodies to HTML: Python-Markdown plus [[links]], automatic links and sanitising.

One ``BodyRenderer`` (one Markdown instance, reset between pages) renders every
body of a build. Explicit ``[[target|text]]`` links are an inline processor, so
Markdown itself keeps them out of code; automatic links are a tree processor
that runs after inline parsing and only visits prose, never code, links,
headings, images or raw HTML (which Markdown has stashed out of the tree).
"""

from __future__ import annotations

import bisect
import hashlib
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.def_list import DefListExtension
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import InlineProcessor as InlineTreeprocessor
from markdown.treeprocessors import Treeprocessor

from .diagnostics import Diagnostic, did_you_mean
from .formulakit import Registry
from .links import Autolinker, NameIndex
from .macros import MACRO_RE, Macro, MacroError, figure_text, parse_macro
from .model import Term

WIKILINK_RE = r"\[\[([^\[\]|\n]+?)(?:\|([^\[\]\n]+?))?\]\]"
SKIP_TAGS = {"a", "code", "pre", "kbd", "samp", "script", "style", "img",
             "h1", "h2", "h3", "h4", "h5", "h6"}
# Python-Markdown's own extensions and their settings, in order. By class, not by name:
# a name makes Markdown look through every installed package's entry points first
# (25 ms, in each process that renders).
MARKDOWN_EXTENSIONS = {
    TableExtension: {"use_align_attribute": True},  # no style attributes: they would need a looser CSP
    FencedCodeExtension: {},
    FootnoteExtension: {"BACKLINK_TITLE": "Back to the text"},
    DefListExtension: {},
    TocExtension: {"permalink": "#", "permalink_title": "Link to this section"},
    SaneListExtension: {},
}

SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}
SAFE_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "data-term", "rel"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start", "type"},
    "abbr": {"title"},
}
MACRO_MARKER = '<div class="glossary-macro-{}"></div>'
# a paragraph no Markdown pattern, name or sanitizer touches (and cheaper than a comment,
# which goes through the HTML parser); the pieces are counted after splitting anyway
PART_MARK = "\x07\x07\x07"
PART_SEAM = f"\n\n{PART_MARK}\n\n"
PART_SPLIT = re.compile(rf"\s*<p>{PART_MARK}</p>\s*")
RISKY_IN_PARTS = re.compile(r"\[\^|<!--|^\s*<[a-zA-Z]|^ {0,3}\[[^\]\n]+\]:", re.M)

SAFE_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class LinkTarget:
    slug: str
    title: str
    summary: str
    href: str


@dataclass
class RenderedTerm:
    """A term's Markdown fields as HTML, with the terms they link to and their link problems."""

    body: str
    faq_answers: list[str]
    misconceptions: list[tuple[str, str]]  # (myth, reality)
    examples: list[str]
    takeaways: list[str]
    calculators: list[str]  # widgets named in front matter, shown after the body
    widget_count: int  # calculators on the page, in the body and after it
    links: list[str]  # slugs linked from the page, explicit and automatic, in order
    problems: list[Diagnostic]
    names: dict[str, str | None] = field(default_factory=dict)  # names it resolved; a change means re-render
    digest: str = ""  # of everything above but the problems: pages that show it are known by it

    def __post_init__(self):
        if not self.digest:
            shown = (self.body, self.faq_answers, self.misconceptions, self.examples, self.takeaways,
                     self.calculators, self.widget_count, self.links)
            self.digest = hashlib.sha256(repr(shown).encode()).hexdigest()


@dataclass
class _Page:
    """What the processors learn about the page being converted."""

    slug: str = ""
    linked: list[str] = field(default_factory=list)
    broken: list[tuple[str, str]] = field(default_factory=list)  # (raw source text, message)
    widgets: list[str] = field(default_factory=list)  # calculator HTML, inserted after sanitising
    names: dict[str, str] = field(default_factory=dict)  # every name this page resolved -> its slug


class WikiLinkProcessor(InlineProcessor):
    def __init__(self, ext: "TermLinkExtension"):
        super().__init__(WIKILINK_RE)
        self.ext = ext

    def handleMatch(self, m, data):  # noqa: N802 - Python-Markdown's name
        target_name = m.group(1).strip()
        text = (m.group(2) or m.group(1)).strip()
        slug = self.ext.index.lookup(target_name)
        page = self.ext.page
        page.names[target_name] = slug
        if slug is None or slug not in self.ext.targets:
            if slug is None:
                message = (f"broken link [[{target_name}]]: no term has this slug, title or alias"
                           f"{self.ext.index.suggest(target_name)}")
            else:
                message = f"link [[{target_name}]] points to a draft; publish it or build with --drafts"
            if not (slug is None and self.ext.index.failed_to_load(target_name)):
                page.broken.append((m.group(0), message))
            span = etree.Element("span", {"class": "broken-link"})
            span.text = text
            return span, m.start(0), m.end(0)
        return self.ext.link_element(slug, text, explicit=True), m.start(0), m.end(0)


class MacroProcessor(InlineProcessor):
    """{{ calculator(...) }} and {{ figure(...) }}; code spans and blocks never reach here."""

    def __init__(self, md, ext: "TermLinkExtension"):
        super().__init__(MACRO_RE, md)
        self.ext = ext

    def handleMatch(self, m, data):  # noqa: N802 - Python-Markdown's name
        page = self.ext.page
        try:
            macro = parse_macro(m.group(1), self.ext.registry, self.ext.presets)
        except MacroError as error:
            page.broken.append((m.group(0), str(error)))
            span = etree.Element("span", {"class": "broken-link"})
            span.text = m.group(0)
            return span, m.start(0), m.end(0)
        if macro.kind == "figure":
            span = etree.Element("span", {"class": "figure", "title": f"computed by {macro.formula.name}"})
            span.text = figure_text(macro)
            return span, m.start(0), m.end(0)
        page.widgets.append(self.ext.render_calculator(macro, self.ext.widget_id(macro.formula.name)))
        marker = self.md.htmlStash.store(MACRO_MARKER.format(len(page.widgets) - 1))
        return marker, m.start(0), m.end(0)


# Inline patterns, by the source of their regular expression, and text one of which every
# match contains. Python-Markdown tries each of its ~16 patterns on every piece of text,
# which is a third of a body's time; most prose holds none of these characters. A pattern
# whose source is not listed (another Python-Markdown version, another extension) is
# always tried, so the table can only make a build faster, never different.
PATTERN_NEEDLES = {
    r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)": ("`",),  # code span
    r"\\(.)": ("\\",),  # backslash escape
    r"(?<!\!)\[": ("[",),  # links and references
    r"\!\[": ("![",),  # images
    r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>": ("://",),  # <https://...>
    r"<([^<> !]+@[^@<> ]+)>": ("@",),  # <name@example.org>
    r"  \n": ("  \n",),  # hard line break
    r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)": ("&",),  # entity
    r"\*|_": ("*", "_"),  # emphasis
    r"\[\^([^\]]*)\]": ("[^",),  # footnote reference
    r"""(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'=<>]++))?+)*+\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>).)*[?]|!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)""": ("<",),  # inline HTML
    WIKILINK_RE: ("[[",),
    MACRO_RE: ("{{",),
}


def _needles(pattern) -> tuple[str, ...] | None:
    return PATTERN_NEEDLES.get(pattern.getCompiledRegExp().pattern)


class PrefilteredInlineProcessor(InlineTreeprocessor):
    """Python-Markdown's inline stage, skipping the patterns whose needle the text lacks.

    Skipping is exactly what the stock loop does when a pattern finds no match: the
    next pattern is tried from the start of the text. tests/test_markdown_ext.py
    checks the output against the stock processor.
    """

    def run(self, tree, ancestors=None):
        self._patterns = [(pattern, _needles(pattern)) for pattern in self.inlinePatterns]
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data, patternIndex=0):  # noqa: N802 - overrides the stock loop
        if isinstance(data, markdown.util.AtomicString):
            return data
        patterns = self._patterns
        apply_pattern = self._InlineProcessor__applyPattern
        count = len(patterns)
        start = 0
        while patternIndex < count:
            pattern, needles = patterns[patternIndex]
            if needles is not None:
                for needle in needles:
                    if needle in data:
                        break
                else:  # no needle: the pattern cannot match
                    patternIndex += 1
                    start = 0
                    continue
            data, matched, start = apply_pattern(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


class AutolinkProcessor(Treeprocessor):
    def __init__(self, md, ext: "TermLinkExtension"):
        super().__init__(md)
        self.ext = ext

    def run(self, root):
        if self.ext.autolinker is None:
            return
        page = self.ext.page
        self.done = set(page.linked) | {page.slug}
        self._visit(root)

    def _visit(self, element):
        if element.tag in SKIP_TAGS:
            return
        if element.text and not isinstance(element.text, markdown.util.AtomicString):
            links = self._link(element.text)
            if links:
                element.text = links[0]
                for position, anchor in enumerate(links[1:]):
                    element.insert(position, anchor)
        for child in list(element):
            self._visit(child)
            if child.tail and not isinstance(child.tail, markdown.util.AtomicString):
                links = self._link(child.tail)
                if links:
                    child.tail = links[0]
                    at = list(element).index(child) + 1
                    for offset, anchor in enumerate(links[1:]):
                        element.insert(at + offset, anchor)

    def _link(self, text: str):
        """[text before the first link, <a> with its tail, ...], or None when nothing links."""
        pieces: list = []
        cursor = 0
        for match in self.ext.autolinker.find(text):
            self.ext.page.names[match.name] = match.slug
            if match.slug in self.done or match.slug not in self.ext.targets:
                continue  # first mention only; never the page itself; consume the words anyway
            self.done.add(match.slug)
            anchor = self.ext.link_element(match.slug, text[match.start:match.end], explicit=False)
            if not pieces:
                pieces.append(text[:match.start])
            else:
                pieces[-1].tail = text[cursor:match.start]
            pieces.append(anchor)
            cursor = match.end
        if not pieces:
            return None
        pieces[-1].tail = text[cursor:]
        return pieces


class TermLinkExtension(Extension):
    def __init__(self, index: NameIndex, targets: dict[str, LinkTarget], autolinker: Autolinker | None,
                 registry: Registry, render_calculator, presets: dict):
        super().__init__()
        self.index = index
        self.targets = targets
        self.autolinker = autolinker
        self.registry = registry
        self.presets = presets  # id -> Preset, for preset="..." in macros
        self.render_calculator = render_calculator  # (Macro, element id) -> widget HTML
        self.page = _Page()
        self.widget_ids: dict[str, int] = {}  # per term: how many widgets of each formula so far

    def widget_id(self, name: str) -> str:
        """Unique on the page: the formula's name, then name-2, name-3."""
        count = self.widget_ids[name] = self.widget_ids.get(name, 0) + 1
        return name if count == 1 else f"{name}-{count}"

    def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's name
        md.registerExtension(self)
        # above 'reference' (170) so [[x]] is never read as a reference link;
        # below 'backtick' (190) so code spans keep [[x]] literal
        md.inlinePatterns.register(WikiLinkProcessor(self), "wikilink", 175)
        md.inlinePatterns.register(MacroProcessor(md, self), "glossary_macro", 176)
        # after inline parsing (20), before toc (5) builds heading ids
        md.treeprocessors.register(AutolinkProcessor(md, self), "autolink", 15)
        md.treeprocessors.register(PrefilteredInlineProcessor(md), "inline", 20)

    def reset(self):
        self.page = _Page()

    def link_element(self, slug: str, text: str, explicit: bool):
        target = self.targets[slug]
        self.page.linked.append(slug)
        anchor = etree.Element("a", {
            "href": target.href,
            "class": "term-link" if explicit else "term-link auto",
            "data-term": slug,
            "title": target.summary,
        })
        anchor.text = text
        return anchor


class BodyRenderer:
    """Renders the Markdown of terms; built once per build and reused for every page."""

    def __init__(self, index: NameIndex, targets: dict[str, LinkTarget],
                 autolinker: Autolinker | None, trust_html: bool = False,
                 registry: Registry | None = None, render_calculator=None, presets: dict | None = None):
        self.links = TermLinkExtension(index, targets, autolinker, registry or Registry(),
                                       render_calculator or _no_widgets, presets or {})
        self.trust_html = trust_html
        self.md = markdown.Markdown(
            extensions=[*(extension(**settings) for extension, settings in MARKDOWN_EXTENSIONS.items()), self.links],
            output_format="html",
        )
        self.toc = self.md.treeprocessors["toc"]
        self.toc_marker = self.toc.marker

    def render_term(self, term: Term) -> RenderedTerm:
        """Body first, then the front-matter prose; a term is linked once per page across all of it."""
        self.linked: list[str] = []
        self.problems: list[Diagnostic] = []
        self.names: dict[str, str | None] = {}
        self.term = term
        self.links.widget_ids = {}
        parts = [(f.answer, term.line("faqs", i, "a"), False) for i, f in enumerate(term.faqs)]
        for i, m in enumerate(term.misconceptions):
            parts.append((m.myth, term.line("misconceptions", i, "myth"), False))
            parts.append((m.reality, term.line("misconceptions", i, "reality"), False))
        parts += [(e.text, term.line("examples", i, "text"), True) for i, e in enumerate(term.examples)]
        parts += [(t, term.line("takeaways", i), False) for i, t in enumerate(term.takeaways)]
        texts = [(term.body, term.body_line, True), *parts]
        html = iter(self._combined(texts) or [self._convert(term.body, term.body_line, block=True),
                                              *self._convert_many(parts)])
        body = next(html)
        answers = [next(html) for _ in term.faqs]
        myths = [(next(html), next(html)) for _ in term.misconceptions]
        examples = [next(html) for _ in term.examples]
        takeaways = [next(html) for _ in term.takeaways]
        calculators = []
        for position, name in enumerate(term.calculators):
            formula = self.links.registry.formulas.get(name)
            if formula is None:
                self.problems.append(Diagnostic(
                    term.path, term.line("calculators", position),
                    f"unknown calculator '{name}'{did_you_mean(name, self.links.registry.formulas)}; "
                    "`glossary formulas` lists them"))
                continue
            calculators.append(self.links.render_calculator(Macro("calculator", formula), self.links.widget_id(name)))
        return RenderedTerm(body, answers, myths, examples, takeaways, calculators,
                            sum(self.links.widget_ids.values()), list(dict.fromkeys(self.linked)), self.problems,
                            dict(sorted(self.names.items())))

    def _convert(self, text: str, first_line: int, block: bool = False) -> str:
        return self._convert_many([(text, first_line, block)])[0]

    def _convert_many(self, parts: list[tuple[str, int, bool]]) -> list[str]:
        """Markdown of several texts: as one document when that is safe, else one by one."""
        combined = self._combined(parts)
        if combined is not None:
            return combined
        results = []
        for text, first_line, block in parts:
            html, page = self._markdown(text)
            for offset, message in _locate_offsets(text, page.broken):
                self.problems.append(Diagnostic(self.term.path, first_line + text.count("\n", 0, offset), message))
            results.append(self._finish(html, page, block))
        return results

    def _combined(self, parts: list[tuple[str, int, bool]]) -> list[str] | None:
        """Several texts converted as one document (much faster) and split afterwards, or None.

        Texts that could reach across the seams (footnotes, reference definitions, raw
        HTML) are not combined. A fence left open swallows the seams after it, so the
        pieces no longer add up: that is found after converting, and undone.
        """
        if len(parts) < 2 or any(RISKY_IN_PARTS.search(text) for text, _, _ in parts):
            return None
        saved = (list(self.linked), dict(self.names), dict(self.links.widget_ids))
        joined = PART_SEAM.join(text for text, _, _ in parts)
        html, page = self._markdown(joined)
        if not self.trust_html:  # once for all the texts; sanitising keeps the seams
            html = sanitize(html)
        pieces = PART_SPLIT.split(html)
        if len(pieces) != len(parts):
            self.linked, self.names, self.links.widget_ids = saved
            return None
        starts = [0]
        for text, _, _ in parts[:-1]:
            starts.append(starts[-1] + len(text) + len(PART_SEAM))
        for offset, message in _locate_offsets(joined, page.broken):
            index = bisect.bisect_right(starts, offset) - 1
            line = joined.count("\n", starts[index], offset) + parts[index][1]
            self.problems.append(Diagnostic(self.term.path, line, message))
        return [self._finish(piece, page, block, sanitized=True) for piece, (_, _, block) in zip(pieces, parts)]

    def _markdown(self, text: str):
        self.md.reset()
        # a table of contents only where the writer asked for one: finding the marker walks the whole tree
        self.toc.marker = self.toc_marker if self.toc_marker in text else ""
        page = self.links.page
        page.slug = self.term.slug
        page.linked = list(self.linked)
        try:
            html = self.md.convert(text)
        except RecursionError:  # lists or quotes nested thousands deep
            self.md.reset()
            page = self.links.page
            page.broken.append((text[:40], "nested too deeply to render (thousands of list or quote levels?)"))
            html = ""
        self.linked = page.linked
        self.names.update(page.names)
        return html, page

    def _finish(self, html: str, page: "_Page", block: bool, sanitized: bool = False) -> str:
        if not (self.trust_html or sanitized):
            html = sanitize(html)
        for number, widget in enumerate(page.widgets):
            html = html.replace(MACRO_MARKER.format(number), widget, 1)
        if not block and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
            return html[3:-4]  # a one-paragraph answer reads as inline text
        return html


def _no_widgets(macro: Macro, element_id: str) -> str:
    return ""


SANITIZER_OPTIONS = {"tags": SAFE_TAGS, "attributes": SAFE_ATTRIBUTES, "url_schemes": SAFE_SCHEMES,
                     "link_rel": None, "strip_comments": True}
# nh3.clean converts these options on every call, which costs more than cleaning a short
# answer; a Cleaner (nh3 0.3) converts them once
_cleaner = nh3.Cleaner(**SANITIZER_OPTIONS) if hasattr(nh3, "Cleaner") else None


def sanitize(html: str) -> str:
    """Keep the HTML Markdown writes; drop scripts, event handlers and unsafe URLs."""
    return _cleaner.clean(html) if _cleaner else nh3.clean(html, **SANITIZER_OPTIONS)


def _locate_offsets(text: str, found: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """Where (character offset) each raw snippet is, searched in document order."""
    located = []
    cursor = 0
    for raw, message in found:
        at = text.find(raw, cursor)
        if at < 0:
            at = max(text.find(raw), 0)
        else:
            cursor = at + len(raw)
        located.append((at, message))
    return located
