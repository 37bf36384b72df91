"""Resolved glossary -> every output file as bytes, in memory; nothing is written here.

Page contexts are plain dicts built by pure functions; Jinja2 (autoescaping
everything) turns them into HTML. Links are relative, so a site works at a domain
root, under a sub-path and opened from disk; absolute URLs (canonical, Open Graph,
sitemap) use ``base_url`` when it is set.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections import Counter
from html import unescape
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import jinja2
import jinja2.meta

from . import __version__, parallel
from .config import Config
from .formulakit import Formula, evaluate_formatted
from .macros import Macro
from .markdown_ext import LinkTarget, RenderedTerm
from .model import Term, term_key
from .glossarymap import category_links, glossary_map_svg
from .neighbourhood import neighbourhood_svg
from .presets import Preset
from .search import search_files
from .source import slugify
from .theme import theme_dir

WORDS_PER_MINUTE = 220
LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + ["#"]
@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    slugs: tuple[str, ...]  # its terms, in index order

    @property
    def url(self) -> str:
        return f"categories/{self.slug}/index.html"


@dataclass(frozen=True)
class Glossary:
    """Everything the pages show, resolved and ready to render."""

    config: Config
    terms: dict[str, Term]  # published terms by slug, in index order
    rendered: dict[str, RenderedTerm]
    related: dict[str, list[str]]
    referenced_by: dict[str, list[str]]
    categories: tuple[Category, ...]
    formulas_js: str = ""  # the generated browser code of every formula
    weights: dict | None = None  # category_weights, when the maker knows them (quick.py, resume.py)

    @cached_property
    def category_of(self) -> dict[str, Category]:
        return {slug: category for category in self.categories for slug in category.slugs}

    @cached_property
    def category_weights(self) -> dict:
        """What the map of categories shows: see category_weights()."""
        return self.weights if self.weights is not None else category_weights(self)


def sort_key(title: str, slug: str) -> tuple[str, str, str]:
    """Index order: case and accents ignored; ties broken so the order is stable."""
    return (fold(title), title, slug)


def fold(text: str) -> str:
    if text.isascii():  # nothing to decompose
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def index_letter(title: str) -> str:
    """'Éclair' files under E; digits and symbols under '#'."""
    first = fold(title.strip())[:1].upper()
    return first if "A" <= first <= "Z" else "#"


def letter_anchor(letter: str) -> str:
    return "letter-num" if letter == "#" else f"letter-{letter}"


def term_url(slug: str) -> str:
    return f"terms/{slug}/index.html"


def pretty(path: str) -> str:
    """The URL a server shows for a page: folder index files without their file name."""
    return path[: -len("index.html")] if path.endswith("index.html") else path


def reading_minutes(html: str) -> int:
    words = len(re.sub(r"<[^>]+>", " ", html).split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def plain_text(html: str) -> str:
    """The text of an HTML fragment, for JSON-LD answers."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


class SiteRenderer:
    """Holds the compiled templates: ``plan_site``, then ``render_pages`` (or ``render_site``, in memory)."""

    def __init__(self, templates: Path | None = None, memo: "PlanMemo | None" = None, compiled: Path | None = None):
        """memo: what planning made, kept for the next planning by a renderer that is kept (glossary serve).

        compiled: the folder of compiled templates, which a new process loads instead
        of compiling them again (20 ms, most of rendering one page).
        """
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates or theme_dir())),
            bytecode_cache=_CompiledTemplates.at(compiled) if compiled is not None else None,
            **ENVIRONMENT,
        )
        self.env.filters["number_attribute"] = number_attribute
        self._uses: dict[str, tuple] = {}  # template name -> (compiled template, the templates it uses)
        self.memo = memo

    def render(self, template: str, **context) -> bytes:
        return self.env.get_template(template).render(**context).encode("utf-8")

    def compile_templates(self, jobs: list[tuple[str, str, Callable[[], dict]]]) -> None:
        """Compile the templates of these jobs (and those they import) once, before workers fork."""
        waiting = sorted({template for _, template, _ in jobs})
        seen = set(waiting)
        while waiting:
            name = waiting.pop()
            template = self.env.get_template(name)  # compiled again only if its file changed
            if self._uses.get(name, (None,))[0] is not template:  # a resident process renders again and again
                source = self.env.loader.get_source(self.env, name)[0]
                self._uses[name] = (template, [used for used in jinja2.meta.find_referenced_templates(
                    self.env.parse(source)) if used])
            for used in self._uses[name][1]:
                if used not in seen:
                    seen.add(used)
                    waiting.append(used)

    def calculator_html(self, macro: Macro, element_id: str, presets: list[Preset]) -> str:
        """A calculator form whose results are already computed, so it reads right without scripts."""
        context = calculator_context(macro.formula, macro.values, element_id, presets)
        return self.env.get_template("_calculator.html").render(calc=context)

    def plan_site(self, glossary: Glossary, previous: dict[str, str] | None = None) -> "SitePlan":
        """Every output file's key, and what must be rendered: pages whose key is not in ``previous``."""
        previous = previous or {}
        plan = SitePlan()
        for path, template, make_context, key in page_jobs(glossary, self.memo):
            plan.keys[path] = key
            if previous.get(path) != key:
                plan.pending.append((path, template, make_context))
        for path, data in static_files(glossary, self.memo).items():
            plan.keys[path] = hashlib.sha256(data).hexdigest()
            if previous.get(path) != plan.keys[path]:
                plan.static[path] = data
        plan.reused = set(plan.keys) - {path for path, _, _ in plan.pending} - set(plan.static)
        return plan

    def render_pages(self, plan: "SitePlan", sink: Callable[[str, bytes], None], workers: int = 1) -> None:
        """Hand every file to be written to sink(path, bytes), as soon as it is rendered.

        With workers, pages are rendered (and handed over) in forked processes, so no
        page's bytes travel between processes or pile up in memory.
        """
        def render_job(i: int) -> None:
            path, template, make_context = plan.pending[i]
            sink(path, self.render(template, **make_context()))

        self.compile_templates(plan.pending)
        parallel.run(render_job, len(plan.pending), workers)
        for path, data in plan.static.items():
            sink(path, data)

    def render_site(self, glossary: Glossary, previous: dict[str, str] | None = None,
                    workers: int = 1) -> "RenderedSite":
        """Every output file, in memory (for the dev server); a page whose key is in
        ``previous`` is not rendered again. Workers send the pages they render back."""
        plan = self.plan_site(glossary, previous)
        result = RenderedSite(keys=plan.keys, reused=plan.reused)

        def render_job(i: int) -> bytes:
            _, template, make_context = plan.pending[i]
            return self.render(template, **make_context())

        self.compile_templates(plan.pending)
        pages = parallel.run(render_job, len(plan.pending), workers)
        result.files.update(zip((path for path, _, _ in plan.pending), pages))
        result.files.update(plan.static)
        return result


# how templates are compiled: the compiled templates kept between builds depend on it
ENVIRONMENT = {"autoescape": True, "undefined": jinja2.StrictUndefined, "trim_blocks": True, "lstrip_blocks": True,
               "keep_trailing_newline": True}


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's own cache of compiled templates (each checked against its template's
    source); a folder it cannot write to only costs the compiling."""

    @classmethod
    def at(cls, folder: Path) -> "_CompiledTemplates | None":
        """In folder if it exists (the build that saves its cache makes it: a failed build leaves
        nothing), in a folder of its own for each version of Jinja2 and of glossary and each
        ENVIRONMENT, which a compiled template holds."""
        if not folder.is_dir():
            return None
        settings = hashlib.sha1(repr(sorted(ENVIRONMENT.items())).encode()).hexdigest()[:12]
        own = folder / f"jinja2-{jinja2.__version__}-glossary-{__version__}-{settings}"
        try:
            own.mkdir(exist_ok=True)
        except OSError:
            return None
        return cls(str(own))

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@dataclass
class SitePlan:
    keys: dict[str, str] = field(default_factory=dict)  # every output path -> hash of what makes it
    pending: list[tuple[str, str, Callable[[], dict]]] = field(default_factory=list)  # (path, template, context)
    static: dict[str, bytes] = field(default_factory=dict)  # changed files that need no template
    reused: set[str] = field(default_factory=set)  # unchanged since the previous build


@dataclass
class RenderedSite:
    files: dict[str, bytes] = field(default_factory=dict)  # rendered now
    keys: dict[str, str] = field(default_factory=dict)  # every output path -> hash of what made it
    reused: set[str] = field(default_factory=set)  # unchanged since the previous build; bytes not produced


class TermPages:
    """Term pages' jobs (path, template, context maker, key), one at a time or all.

    The key covers exactly what term_page_inputs gives the page, without making it:
    the term file's digest, its rendered body's, its category, and the link contexts
    (names and summaries) of the terms it shows. A term's link context and its digest
    are made the first time a page needs them.
    """

    def __init__(self, glossary: Glossary, links: dict | None = None, memo: "PlanMemo | None" = None):
        """links: every term's link context, for all pages; without it (or with a _LinkContexts),
        each page makes the ones it needs.

        memo (with links): the keys of the last planning, reused for the pages whose inputs are the same.
        """
        self.glossary = glossary
        self.site = site_context(glossary.config)
        self.order = list(glossary.terms)
        self.shared_key = f"term.html\0{glossary.config.settings_key()}\0{self.site!r}"
        if links is None or isinstance(links, _LinkContexts):
            self.links = links if links is not None else _LinkContexts(glossary.terms)
            self.link_keys = _LinkKeys(self.links)
            links = None  # no memo: it holds every page's key
        else:  # a plain dict: Python looks those up fastest, and every page needs some
            self.links, self.link_keys = links, {slug: _link_key(link) for slug, link in links.items()}
        self._category_keys: dict[str | None, str] = {None: "-"}
        self._remembered: dict = {}  # slug -> (inputs, key), from the memo
        self._changed: set[str] = set()  # slugs whose link context is not the memo's
        self._made: dict | None = None if memo is None or links is None else {}  # what the next memo holds
        if self._made is not None and memo.shared_key == self.shared_key:
            self._remembered = memo.pages
            before = memo.link_keys
            self._changed = {slug for slug, key in self.link_keys.items() if before.get(slug) != key}
            self._changed.update(before.keys() - self.link_keys.keys())

    def remember(self, memo: "PlanMemo") -> None:
        """Keep the keys of every page planned so far (all of them, in page_jobs) for the next planning."""
        memo.shared_key, memo.link_keys, memo.pages = self.shared_key, self.link_keys, self._made

    def category_key(self, slug: str) -> str:
        """What a term page shows of its category: its name and address, not its other
        terms (a title edit that moves a term among them changes no other term page)."""
        category = self.glossary.category_of.get(slug)
        name = category.slug if category else None
        if name not in self._category_keys:
            shown = (category.name, category.url) if category else None
            self._category_keys[name] = hashlib.sha1(repr(shown).encode()).hexdigest()
        return self._category_keys[name]

    def job(self, slug: str, position: int | None = None) -> tuple[str, str, Callable[[], dict], str]:
        glossary, order, terms = self.glossary, self.order, self.glossary.terms
        position = order.index(slug) if position is None else position
        rendered, link_keys = glossary.rendered[slug], self.link_keys
        previous = order[position - 1] if position > 0 else None
        following = order[position + 1] if position + 1 < len(order) else None
        inputs = (term_key(terms[slug]), rendered.digest, self.category_key(slug), glossary.related[slug],
                  glossary.referenced_by[slug], rendered.links, previous, following)
        remembered = self._remembered.get(slug)
        if remembered is not None and remembered[0] == inputs and self._shows_no_change(inputs):
            key = remembered[1]  # the same inputs, and none of the terms it shows changed its link context
        else:
            key = hashlib.sha256("\0".join([
                self.shared_key, inputs[0], inputs[1], inputs[2],
                "\1".join([link_keys[s] for s in inputs[3]]),
                "\1".join([link_keys[s] for s in inputs[4]]),
                "\1".join([link_keys[s] for s in inputs[5] if s in terms]),
                link_keys[previous] if previous else "-",
                link_keys[following] if following else "-",
            ]).encode()).hexdigest()
        if self._made is not None:
            self._made[slug] = (inputs, key)
        site, config, links = self.site, glossary.config, self.links
        return (term_url(slug), "term.html",
                lambda: {"site": site, "root": "../../",
                         "page": term_context(config, term_page_inputs(glossary, slug, order, position), links)},
                key)

    def _shows_no_change(self, inputs: tuple) -> bool:
        changed = self._changed
        return not changed or (changed.isdisjoint(inputs[3]) and changed.isdisjoint(inputs[4])
                               and changed.isdisjoint(inputs[5]) and inputs[6] not in changed
                               and inputs[7] not in changed)


@dataclass
class PlanMemo:
    """What the last planning made, kept by a process that plans again and again (glossary serve).

    A term page keeps its key when its inputs are the same values and none of the terms
    it shows changed its link context; the key is a function of exactly those, so it is
    the key planning would make again. A term's line in terms.json is kept while the
    term is the same object (parsed terms are kept while their files are unchanged) with
    the same category and related terms.
    """

    shared_key: str = ""
    link_keys: dict = field(default_factory=dict)  # slug -> digest of its link context
    pages: dict = field(default_factory=dict)  # slug -> (inputs, key)
    export_base: str = ""  # base_url of export_lines
    export_lines: dict = field(default_factory=dict)  # slug -> (term, category name, related, JSON line)


class _LinkKeys(dict):
    """slug -> digest of its link context, made when first asked for."""

    def __init__(self, links: dict):
        super().__init__()
        self.links = links

    def __missing__(self, slug: str) -> str:
        key = self[slug] = _link_key(self.links[slug])
        return key


def _link_key(link: dict) -> str:
    return hashlib.sha1(repr(tuple(link.values())).encode()).hexdigest()


class _LinkContexts(dict):
    """slug -> link_context, made when first asked for (terms: slug -> anything with a
    term's slug, title, summary and aliases)."""

    def __init__(self, terms: dict[str, Term]):
        super().__init__()
        self.terms = terms

    def __missing__(self, slug: str) -> dict:
        context = self[slug] = link_context(self.terms[slug])
        return context


def page_jobs(glossary: Glossary, memo: PlanMemo | None = None) -> list[tuple[str, str, Callable[[], dict], str]]:
    """(output path, template, context maker, key) for every page.

    The key is a digest of everything the page shows, so an unchanged page is known
    without rendering it. Term pages (most of a site) take theirs from digests the
    earlier stages made (see TermPages); the index and category pages from the link
    digests of the terms they list, and their contexts are made only if they are
    rendered; the few small pages hash their whole context.
    """
    config = glossary.config
    site = site_context(config)
    links = {slug: link_context(term) for slug, term in glossary.terms.items()}
    term_pages = TermPages(glossary, links, memo)
    jobs = [term_pages.job(slug, position) for position, slug in enumerate(term_pages.order)]
    if memo is not None:
        term_pages.remember(memo)
    link_keys = term_pages.link_keys
    every_link = "\1".join([link_keys[slug] for slug in term_pages.order])

    def page(path: str, template: str, make_context: Callable[[], dict], *inputs: str):
        return keyed_page(config, path, template, make_context, *inputs)

    rest = [
        page("index.html", "index.html",
             lambda: {"site": site, "root": "", "page": index_context(glossary, links)},
             every_link, repr(glossary.categories)),
        categories_page(glossary, glossary.category_weights),
    ]
    for category in glossary.categories:
        rest.append(page(
            category.url, "category.html",
            lambda category=category: {"site": site, "root": "../../", "page": page_context(
                config, category.url, category.name, f"{category.name}: {len(category.slugs)} terms in {config.title}.",
                category=category, terms=[links[s] for s in category.slugs])},
            repr(category), "\1".join([link_keys[s] for s in category.slugs])))
    small = [
        ("404.html", "404.html", {
            "site": site, "root": site_root_path(config),
            "page": page_context(config, "404.html", "Page not found", "This page does not exist."),
        }),
        ("sitemap.xml", "sitemap.xml", {"urls": sitemap_urls(glossary)}),
        ("robots.txt", "robots.txt", {"base_url": config.base_url}),
    ]
    rest += [page(path, template, (lambda context=context: context), repr(context)) for path, template, context in small]
    return jobs + rest


def keyed_page(config: Config, path: str, template: str, make_context: Callable[[], dict], *inputs: str):
    """A page's job, keyed by digests of what it shows; its context is made only if it is rendered."""
    key = hashlib.sha256("\0".join([template, config.settings_key(), repr(site_context(config)), *inputs]).encode())
    return path, template, make_context, key.hexdigest()


def categories_page(glossary: Glossary, weights: dict) -> tuple[str, str, Callable[[], dict], str]:
    """The list of categories, with the map of the links between them (weights: category_weights)."""
    config = glossary.config
    categories = [(c, len(c.slugs)) for c in glossary.categories]
    return keyed_page(
        config, "categories/index.html", "categories.html",
        lambda: {"site": site_context(config), "root": "../", "page": page_context(
            config, "categories/index.html", "Categories", f"All categories of {config.title}.",
            categories=categories, map=categories_map(glossary, weights))},
        repr(categories), repr(weights))


def static_files(glossary: Glossary, memo: "PlanMemo | None" = None) -> dict[str, bytes]:
    """Files that need no template: the export, the generated formulas and the theme's assets."""
    files = {"terms.json": terms_json(glossary, memo)}
    files.update(search_files([
        (slug, term.title, term.aliases,
         glossary.category_of[slug].name if slug in glossary.category_of else None, term.summary)
        for slug, term in glossary.terms.items()
    ]))
    if glossary.formulas_js:
        files["assets/formulas.js"] = glossary.formulas_js.encode("utf-8")
    for asset in sorted((theme_dir() / "assets").iterdir()):
        if asset.is_file() and not asset.name.startswith("."):
            files[f"assets/{asset.name}"] = compact(asset.name, asset.read_bytes())
    return files


def compact(name: str, data: bytes) -> bytes:
    """The theme's CSS and JS without comments and indentation: a lighter page, the same code.

    Line breaks stay, so JavaScript's semicolon insertion sees the same statements;
    only whole-line comments are dropped, never text that could sit inside a string.
    """
    if not name.endswith((".css", ".js")):
        return data
    text = data.decode("utf-8")
    if name.endswith(".css"):
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    else:
        text = re.sub(r"^\s*/\*.*?\*/\s*$", "", text, flags=re.S | re.M)
    lines = (line.strip() for line in text.splitlines())
    kept = [line for line in lines if line and not (name.endswith(".js") and line.startswith("//"))]
    return ("\n".join(kept) + "\n").encode("utf-8")


def site_context(config: Config) -> dict:
    return {
        "title": config.title,
        "description": config.description,
        "language": config.language,
        "base_url": config.base_url,
    }


def site_root_path(config: Config) -> str:
    """Absolute path of the site root, for pages served at any depth (the 404 page)."""
    if not config.base_url:
        return "/"
    path = urlparse(config.base_url).path or "/"
    return path if path.endswith("/") else path + "/"


def page_context(config: Config, path: str, title: str, description: str, **extra) -> dict:
    canonical = config.base_url + pretty(path) if config.base_url else None
    return {"title": title, "description": description, "canonical": canonical, "path": path, **extra}


# "Referenced by" lists this many terms, then says how many more: a term every page
# mentions would otherwise carry thousands of chips (2.5 MB for "token" in a
# 10,000-term glossary), a wall no reader scans, rendered again at every title edit.
BACKLINKS_SHOWN = 100


def link_target(slug: str, title: str, summary: str) -> LinkTarget:
    """What a body shows of a term it links to (from a term page)."""
    return LinkTarget(slug, title, summary, f"../../{term_url(slug)}")


def link_context(term: Term) -> dict:
    return {
        "slug": term.slug,
        "title": term.title,
        "summary": term.summary,
        "aliases": list(term.aliases),
        "url": term_url(term.slug),
        "letter": index_letter(term.title),
    }


@dataclass(frozen=True)
class TermPageInputs:
    """Everything a term page shows, by slug where it shows another term: the page's key is made of these."""

    term: Term
    rendered: RenderedTerm
    category: Category | None
    related: list[str]
    referenced_by: list[str]
    links_to: list[str]  # the terms its text links to, for its map
    previous: str | None
    next: str | None


def term_page_inputs(glossary: Glossary, slug: str, order: list[str], position: int) -> TermPageInputs:
    rendered = glossary.rendered[slug]
    return TermPageInputs(
        term=glossary.terms[slug],
        rendered=rendered,
        category=glossary.category_of.get(slug),
        related=glossary.related[slug],
        referenced_by=glossary.referenced_by[slug],
        links_to=[s for s in rendered.links if s in glossary.terms],
        previous=order[position - 1] if position > 0 else None,
        next=order[position + 1] if position + 1 < len(order) else None,
    )


def term_context(config: Config, inputs: TermPageInputs, links: dict) -> dict:
    term, rendered, slug = inputs.term, inputs.rendered, inputs.term.slug
    path = term_url(slug)
    context = page_context(config, path, term.title, term.summary)
    context.update(
        term=term,
        body=rendered.body,
        faqs=list(zip(term.faqs, rendered.faq_answers)),
        misconceptions=rendered.misconceptions,
        examples=list(zip(term.examples, rendered.examples)),
        takeaways=rendered.takeaways,
        related=[links[s] for s in inputs.related],
        referenced_by=[links[s] for s in inputs.referenced_by[:BACKLINKS_SHOWN]],
        referenced_by_more=max(0, len(inputs.referenced_by) - BACKLINKS_SHOWN),
        map=NeighbourhoodMap(
            links[slug], [links[s] for s in inputs.links_to],
            [links[s] for s in inputs.referenced_by], [links[s] for s in inputs.related],
        ),
        category=inputs.category,
        calculators=rendered.calculators,
        scripts=["assets/formulas.js", "assets/calculator.js"] if rendered.widget_count else [],
        reading_minutes=reading_minutes(rendered.body),
        anchor=letter_anchor(links[slug]["letter"]),
        previous=links[inputs.previous] if inputs.previous else None,
        next=links[inputs.next] if inputs.next else None,
        json_ld=term_json_ld(config, term, rendered, context["canonical"]),
    )
    return context


@dataclass(frozen=True)
class NeighbourhoodMap:
    """A term's map, drawn only when its page is rendered: an unchanged page is known by these inputs."""

    center: dict
    links_to: list
    linked_from: list
    related: list

    def __bool__(self) -> bool:
        return bool(self.links_to or self.linked_from or self.related)

    def __html__(self) -> str:
        return neighbourhood_svg(self.center, self.links_to, self.linked_from, self.related)


def category_weights(glossary: Glossary) -> dict:
    """(category, category) -> how many links between their terms: what the map of categories shows."""
    category = {slug: c.slug for slug, c in glossary.category_of.items()}
    crossings: Counter = Counter()
    for source, rendered in glossary.rendered.items():
        if source in category:  # counted at C speed: every link of every term passes here
            crossings.update(zip(repeat(category[source]), map(category.get, rendered.links)))
    for pair in [pair for pair in crossings if pair[1] is None]:  # links to terms in no category
        del crossings[pair]
    return category_links(crossings)


def categories_map(glossary: Glossary, weights: dict) -> str:
    """The map of categories and the links between their terms, for the list of categories."""
    return glossary_map_svg([(c.slug, c.name, len(c.slugs)) for c in glossary.categories], weights, root="")


def term_json_ld(config: Config, term: Term, rendered: RenderedTerm, canonical: str | None) -> list[dict]:
    term_set = {"@type": "DefinedTermSet", "name": config.title}
    if config.base_url:
        term_set["url"] = config.base_url
    defined = {
        "@context": "https://schema.org",
        "@type": "DefinedTerm",
        "name": term.title,
        "description": term.summary,
        "termCode": term.slug,
        "inDefinedTermSet": term_set,
    }
    if term.aliases:
        defined["alternateName"] = list(term.aliases)
    if canonical:
        defined["url"] = canonical
    blocks = [defined]
    if term.faqs:
        blocks.append({
            "@context": "https://schema.org",
            "@type": "FAQPage",
            "mainEntity": [
                {"@type": "Question", "name": faq.question,
                 "acceptedAnswer": {"@type": "Answer", "text": plain_text(answer)}}
                for faq, answer in zip(term.faqs, rendered.faq_answers)
            ],
        })
    return blocks


def number_attribute(value: float) -> str:
    """A number as an HTML value: 6738415616, not 6738415616.0."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)


def slider(spec, value) -> dict | None:
    """Range-slider settings; log-scale inputs slide over powers of ten."""
    if spec.is_choice or spec.max is None or spec.min is None:
        return None
    if spec.scale == "log":
        low = math.log10(max(spec.min, 1))
        return {"min": f"{low:g}", "max": f"{math.log10(spec.max):g}", "step": "0.01",
                "value": f"{math.log10(max(float(value), 1)):.2f}"}
    return {"min": number_attribute(spec.min), "max": number_attribute(spec.max),
            "step": number_attribute(spec.step or 1), "value": number_attribute(value)}


def calculator_context(formula: Formula, given: dict, element_id: str, presets: list[Preset]) -> dict:
    values = {**formula.defaults(), **given}
    results = evaluate_formatted(formula, values)
    return {
        "id": element_id,
        "formula": formula,
        "intro": formula.doc.split("\n\n")[0].replace("\n", " "),
        "inputs": [
            {"spec": spec, "value": values[spec.name] if spec.is_choice else number_attribute(values[spec.name]),
             "slider": slider(spec, values[spec.name])}
            for spec in formula.inputs
        ],
        "outputs": [{"spec": output, "text": results[output.name]} for output in formula.outputs],
        "presets": [p for p in presets if p.applies_to(formula)],
    }


def index_context(glossary: Glossary, links: dict) -> dict:
    config = glossary.config
    groups: dict[str, list[dict]] = {}
    for slug in glossary.terms:
        groups.setdefault(links[slug]["letter"], []).append(links[slug])
    letters = [(letter, letter_anchor(letter) if letter in groups else None) for letter in LETTERS]
    json_ld = {
        "@context": "https://schema.org",
        "@type": "DefinedTermSet",
        "name": config.title,
        "hasDefinedTerm": [
            {"@type": "DefinedTerm", "name": link["title"], "description": link["summary"], "termCode": link["slug"],
             **({"url": config.base_url + pretty(link["url"])} if config.base_url else {})}
            for link in links.values()
        ],
    }
    if config.description:
        json_ld["description"] = config.description
    if config.base_url:
        json_ld["url"] = config.base_url
    description = config.description or f"{len(links)} terms, explained and cross-referenced."
    return page_context(
        config, "index.html", config.title, description,
        groups=[(letter, letter_anchor(letter), groups[letter]) for letter in LETTERS if letter in groups],
        letters=letters, count=len(links), categories=glossary.categories, json_ld=[json_ld],
    )


def sitemap_urls(glossary: Glossary) -> list[tuple[str, str | None]]:
    base = glossary.config.base_url
    urls = [(base, None)]
    urls += [(base + pretty(term_url(slug)), term.updated) for slug, term in glossary.terms.items()]
    urls.append((base + "categories/", None))
    urls += [(base + pretty(c.url), None) for c in glossary.categories]
    return urls


def terms_json(glossary: Glossary, memo: "PlanMemo | None" = None) -> bytes:
    """The export: one term per line, which diffs well and encodes fast (json's C encoder skips indent).

    With a memo, a term whose line shows the same values as in the last export keeps that line.
    """
    base = glossary.config.base_url
    encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps would make an encoder per term
    before = memo.export_lines if memo is not None and memo.export_base == base else {}
    made = {}
    for slug, term in glossary.terms.items():
        category = glossary.category_of[slug].name if slug in glossary.category_of else None
        related = glossary.related[slug]
        line = before.get(slug)
        if line is None or line[0] is not term or line[1] != category or line[2] != related:
            line = (term, category, related, encode({
                "slug": slug,
                "title": term.title,
                "aliases": list(term.aliases),
                "summary": term.summary,
                "category": category,
                "tags": list(term.tags),
                "related": related,
                "url": base + pretty(term_url(slug)),
            }))
        made[slug] = line
    if memo is not None:
        memo.export_base, memo.export_lines = base, made
    lines = [line[3] for line in made.values()]
    title = json.dumps(glossary.config.title, ensure_ascii=False)
    return ('{"title": ' + title + ', "terms": [\n' + ",\n".join(lines) + "\n]}\n").encode("utf-8")


def group_categories(terms: list[Term]) -> tuple[list[Category], list[tuple[Term, str]]]:
    """Categories in name order, each with its terms; a second name for one slug is returned as a clash."""
    by_slug: dict[str, tuple[str, list[str]]] = {}
    clashes = []
    for term in terms:
        if not term.category:
            continue
        slug = slugify(term.category) or "category"
        name, members = by_slug.setdefault(slug, (term.category, []))
        if name != term.category:
            clashes.append((term, name))
            continue
        members.append(term.slug)
    categories = [Category(name, slug, tuple(members)) for slug, (name, members) in by_slug.items()]
    return sorted(categories, key=lambda c: (fold(c.name), c.slug)), clashes
