"""Edits of prose (and, in glossary serve, of names), applied to the last good build.

Most saves while writing change a term's prose: its body, answers, myths, examples,
takeaways, sources or authors. That prose shows on the term's own page, and its
links show on the pages of the terms they lead to ("referenced by", their maps) and
on the map of categories. As long as the fields other pages show (title, summary,
aliases, category, ...) are unchanged, ``glossary serve`` renders the edited body,
its page, and the pages of the terms that gained or lost a link from it, instead of
checking the whole glossary again: tens of milliseconds at any size. Anything else,
or anything this module cannot prove, takes the full way (``quick_rebuild``
returns None), which gives the same files. ``glossary build`` takes the same way
from what the cache keeps of the last build (resume.py).

The server, which holds the whole last build, also follows edits of titles,
summaries and aliases (``_apply_name_edits``): a fraction of a second at 10,000 terms.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
import stat as statmodule
import time
from collections.abc import Mapping

from .build import orphan_warning, writing_warnings
from .config import Config
from .diagnostics import Diagnostic, errors_in
from .incremental import CLOCK_SLACK_NS, BuildCache, fingerprint, mention_probe, mentions
from .links import (Autolinker, NameIndex, autolink_names, contested_names, normalize, resolve_related,
                    updated_trie)
from .markdown_ext import BodyRenderer
from .model import Term
from .render import Glossary, SiteRenderer, TermPages, categories_page, group_categories, link_target, sort_key
from .source import file_digest, is_term_file, load_term

# what other pages, the index, search, terms.json and the sitemap show of a term
SHARED_FIELDS = ("slug", "path", "title", "summary", "aliases", "category", "tags", "related",
                 "updated", "autolink", "draft")
MAX_FILES = 20  # more changed files at once (a checkout, a search and replace): the parallel full way


@dataclasses.dataclass
class Stamp:
    size: int
    mtime: int  # st_mtime_ns
    digest: str  # of the bytes


@dataclasses.dataclass
class LastBuild:
    """The last good build, as much of it as an edit of prose needs."""

    config: Config
    fingerprint: str
    glossary: Glossary
    diagnostics: list[Diagnostic]
    renderer: BodyRenderer
    site: SiteRenderer
    keys: dict[str, str]  # output path -> page key
    stamps: dict[str, Stamp]  # every term file's name -> what it was
    scanned_at: int  # wall clock (ns) when that build began reading term files
    links: Mapping | None = None  # render._LinkContexts, when the glossary's terms are read as needed
    names: list | None = None  # the (name, slug) pairs of automatic links, when the whole glossary is held

    @classmethod
    def after(cls, config: Config, glossary: Glossary, diagnostics: list[Diagnostic], renderer: BodyRenderer,
              site: SiteRenderer, keys: dict[str, str], cache: BuildCache) -> "LastBuild":
        stamps = {name: Stamp(known.size, known.mtime, known.term.digest) for name, known in cache.known_terms.items()}
        return cls(config, cache.fingerprint, glossary, diagnostics, renderer, site, dict(keys), stamps,
                   cache.scanned_at, names=autolink_names(list(glossary.terms.values()), config.autolink))


@dataclasses.dataclass
class QuickResult:
    diagnostics: list[Diagnostic]
    last: LastBuild | None  # the new last good build; None when the edit has errors
    files: dict[str, bytes]  # pages rendered again, by output path
    changed: list[str]  # term file names read again


def quick_rebuild(last: LastBuild, config: Config) -> QuickResult | None:
    """The build after an edit of prose (or names), or None when the edit may reach further."""
    if config != last.config or fingerprint(config) != last.fingerprint:
        return None
    scanned_at = time.time_ns()  # before reading: an edit made while we read is seen next time
    found = changed_files(config, last.stamps, last.scanned_at - CLOCK_SLACK_NS)
    if found is None or len(found) > MAX_FILES:
        return None
    return apply_edits(last, config, {name: (stat.st_size, stat.st_mtime_ns) for name, stat in found.items()},
                       scanned_at)


def apply_edits(last: LastBuild, config: Config, found: dict[str, tuple[int, int]], scanned_at: int,
                edited: tuple[dict[str, Term], bool] | None = None) -> QuickResult | None:
    """The build after the term files found (name -> size, modification time) changed, or
    None when one of them reaches further than this module can follow.

    edited: edited_terms', if made already. Edits of titles, summaries or aliases are
    followed only when the whole last build is held (LastBuild.names: glossary serve).
    """
    before = last.glossary
    edited = edited if edited is not None else edited_terms(config, list(found), before.terms)
    if edited is None:
        return None
    parsed, names_changed = edited
    if names_changed:
        return _apply_name_edits(last, config, found, scanned_at, parsed) if last.names is not None else None
    terms, rendered = {}, {}
    stamps = dict(last.stamps)
    if not _only_these_problems(last, parsed.values()):
        return None
    slugs = []
    for name, (size, mtime) in found.items():
        term = parsed[name]
        terms[term.slug], rendered[term.slug] = term, last.renderer.render_term(term)
        stamps[name] = Stamp(size, mtime, term.digest)
        slugs.append(term.slug)
    rendered = Overlay(before.rendered, rendered)
    referenced_by, relinked, pairs = _relink(before, rendered, slugs)
    weights = before.category_weights
    if any(_crossing(before, source, target) for source, target, _ in pairs):
        weights = _reweigh(weights, before, pairs)
    after = dataclasses.replace(before, terms=Overlay(before.terms, terms), rendered=rendered,
                                referenced_by=referenced_by, weights=weights)
    diagnostics = set(last.diagnostics)
    for slug in [*slugs, *relinked]:  # a term that lost or gained its last backlink: orphan or not
        diagnostics = diagnostics - set(_own_diagnostics(before, slug)) | set(_own_diagnostics(after, slug))
    diagnostics = sorted(diagnostics)
    if errors_in(diagnostics):
        return QuickResult(diagnostics, None, {}, list(found))
    pages = TermPages(after, last.links)
    jobs = [pages.job(slug) for slug in sorted({*slugs, *relinked})]
    if weights is not before.category_weights:
        jobs.append(categories_page(after, weights))
    files, keys = {}, dict(last.keys)
    for path, template, make_context, key in jobs:
        keys[path] = key
        if key != last.keys.get(path):
            files[path] = last.site.render(template, **make_context())
    new_last = dataclasses.replace(last, glossary=after, diagnostics=diagnostics, keys=keys, stamps=stamps,
                                   scanned_at=scanned_at)
    return QuickResult(diagnostics, new_last, files, list(found))


def _only_these_problems(last: LastBuild, terms) -> bool:
    """Whether the last build reported nothing about these terms' files but what their prose
    and backlinks make (which this module brings up to date); other problems' lines may move."""
    return all({d for d in last.diagnostics if d.path == term.path} == set(_own_diagnostics(last.glossary, term.slug))
               for term in terms)


# what a title, summary or alias edit may change without the full way (glossary serve)
NAME_FIELDS = ("title", "summary", "aliases")
MAX_BODIES = 100  # bodies such an edit renders again, beyond which the parallel full way is quicker


def _apply_name_edits(last: LastBuild, config: Config, found: dict[str, tuple[int, int]], scanned_at: int,
                      edited: dict[str, Term]) -> QuickResult | None:
    """The build after edits of titles, summaries or aliases (and prose), against the whole
    last build in memory, or None when one of them reaches further.

    The stages that span the glossary are brought up to date, not done again: the name
    index and the automatic-link trie change only the edited names; the bodies rendered
    again are the edited ones and those that resolved a name that changed or that the
    new order of names gives to another term, link to a summary that changed, or
    mention a new name (as incremental.BodyPlan decides); backlinks change only for
    their links. Every page is then planned as in a full build, so each one whose key
    changed is rendered, and only those.
    """
    before = last.glossary
    if not _only_these_problems(last, edited.values()):
        return None
    parsed = {term.slug: term for term in edited.values()}
    old_index = last.renderer.links.index
    index = _renamed(old_index, [(before.terms[slug], term) for slug, term in parsed.items()])
    if index is None:
        return None  # a name two terms share: the full way reports it
    edited_keys = {normalize(name) for slug, term in parsed.items() for name in (*before.terms[slug].names, *term.names)}
    changed_keys = {key for key in edited_keys if old_index.by_name.get(key) != index.by_name.get(key)}
    moved_keys = {key for key in changed_keys if key in old_index.by_name}  # a new name was nobody's
    if moved_keys and any(normalize(name) in moved_keys for term in before.terms.values() for name in term.related):
        return None  # a related term named by a name that now leads elsewhere: the full way says what to fix
    order = [slug for slug in before.terms if slug not in parsed]
    for slug, term in parsed.items():  # index order, as load_glossary sorts it
        order.insert(bisect.bisect_left(order, sort_key(term.title, slug),
                                        key=lambda s: sort_key((parsed.get(s) or before.terms[s]).title, s)), slug)
    terms = {slug: parsed[slug] if slug in parsed else before.terms[slug] for slug in order}
    related, categories = before.related, before.categories
    if order != list(before.terms):  # a term moved: related lists and categories are in index order
        related, problems = resolve_related(list(terms.values()), index, set())
        if problems:
            return None
        categories = tuple(group_categories(list(terms.values()))[0])
    names = autolink_names(list(terms.values()), config.autolink)
    old_autolinker = last.renderer.links.autolinker
    updated = updated_trie(old_autolinker.root if old_autolinker else {}, last.names, names, {})
    if updated is not None:
        autolinker, contested = Autolinker(names, trie=updated[0]), updated[1]
    else:
        autolinker = Autolinker(names)
        contested = contested_names(autolinker.root)
    targets = {slug: link_target(slug, t.title, t.summary) for slug, t in terms.items()}
    links = last.renderer.links
    renderer = BodyRenderer(index, targets, autolinker, trust_html=last.renderer.trust_html, registry=links.registry,
                            render_calculator=links.render_calculator, presets=links.presets)

    old_names, new_names = dict(last.names), dict(names)
    changed_names = {name for slug, term in parsed.items() for name in (*before.terms[slug].names, *term.names)
                     if old_names.get(name) != new_names.get(name)}
    written = set().union(*(body.names for body in before.rendered.values())) if changed_keys else set()
    touched = changed_names | contested | {name for name in written if normalize(name) in changed_keys}
    changed_targets = {slug for slug, term in parsed.items() if term.summary != before.terms[slug].summary}
    appeared = [(name, slug) for name, slug in new_names.items() if name not in old_names]
    finder = Autolinker(appeared) if appeared else None
    probes = [mention_probe(name) for name, _ in appeared if name.split()]
    again = []
    for slug, body in before.rendered.items():
        if slug in parsed or not touched.isdisjoint(body.names) \
                or changed_targets and not (changed_targets.isdisjoint(body.names.values())
                                            and changed_targets.isdisjoint(body.links)) \
                or finder is not None and mentions(terms[slug], finder, probes):
            again.append(slug)
            if len(again) > MAX_BODIES:
                return None
    fresh = {slug: renderer.render_term(terms[slug]) for slug in again}
    if any(body.problems for body in fresh.values()):  # all are errors: the full way reports them, with suggestions
        return None
    rendered = {slug: fresh[slug] if slug in fresh else before.rendered[slug] for slug in order}
    referenced_by, relinked, pairs = _relink(before, rendered, again)
    weights = before.category_weights
    if any(_crossing(before, source, target) for source, target, _ in pairs):
        weights = _reweigh(weights, before, pairs)
    after = Glossary(config=before.config, terms=terms, rendered=rendered, related=related,
                     referenced_by={slug: referenced_by[slug] for slug in order}, categories=categories,
                     formulas_js=before.formulas_js, weights=weights)
    diagnostics = set(last.diagnostics)
    for slug in {*again, *relinked}:  # writing warnings, orphans
        diagnostics = diagnostics - set(_own_diagnostics(before, slug)) | set(_own_diagnostics(after, slug))
    diagnostics = sorted(diagnostics)
    site = last.site.render_site(after, last.keys)
    stamps = dict(last.stamps)
    for name, (size, mtime) in found.items():
        stamps[name] = Stamp(size, mtime, edited[name].digest)
    new_last = dataclasses.replace(last, glossary=after, diagnostics=diagnostics, renderer=renderer, keys=site.keys,
                                   stamps=stamps, scanned_at=scanned_at, names=names)
    return QuickResult(diagnostics, new_last, site.files, list(found))


def _renamed(index: NameIndex, edits: list[tuple[Term, Term]]) -> NameIndex | None:
    """The name index after these terms (before, after) changed names; None on a clash."""
    by_name, display = dict(index.by_name), dict(index.display)
    for old, _ in edits:
        for name in old.names:
            key = normalize(name)
            if by_name.get(key) == old.slug:
                del by_name[key]
                display.pop(key, None)
    for _, term in edits:
        for name in (term.title, *term.aliases, term.slug):
            key = normalize(name)
            if by_name.setdefault(key, term.slug) != term.slug:
                return None
            display.setdefault(key, name)
    return NameIndex(by_name=by_name, display=display, unloaded=index.unloaded)


class Overlay(Mapping):
    """A mapping with some values replaced, in the order of the one it is made from, which is not
    copied (what the cache holds of a glossary is read term by term, as pages need them)."""

    def __init__(self, base: Mapping, changes: dict):
        if isinstance(base, Overlay):  # one edit after another: one layer, not a chain
            base, changes = base.base, {**base.changes, **changes}
        self.base, self.changes = base, changes

    def __getitem__(self, key):
        return self.changes[key] if key in self.changes else self.base[key]

    def __iter__(self):
        return iter(self.base)

    def __len__(self) -> int:
        return len(self.base)

    def __contains__(self, key) -> bool:
        return key in self.base


def _relink(before: Glossary, rendered: Mapping, edited: list[str]) -> tuple[Overlay, set[str], list]:
    """Backlinks after the edited terms' new links, the terms whose backlinks changed,
    and each link that came or went: (source, target, +1 or -1).

    As in links.backlinks: each list holds the linking terms in slug order.
    """
    changed: dict[str, list[str]] = {}
    pairs = []
    for source in edited:
        was, now = set(before.rendered[source].links), set(rendered[source].links)
        for target in sorted((was ^ now) - {source}):
            if target not in before.referenced_by:
                continue  # not a published term: no page, no backlinks
            if target not in changed:
                changed[target] = list(before.referenced_by[target])
            if target in now:
                bisect.insort(changed[target], source)
            else:
                changed[target].remove(source)
            pairs.append((source, target, 1 if target in now else -1))
    return Overlay(before.referenced_by, changed), set(changed), pairs


def _crossing(glossary: Glossary, source: str, target: str) -> tuple[str, str] | None:
    """The two categories a link joins, as the map of categories counts it, or None."""
    category_of = glossary.category_of
    if source not in category_of or target not in category_of:
        return None
    first, second = category_of[source].slug, category_of[target].slug
    return None if first == second else (first, second) if first < second else (second, first)


def _reweigh(weights: dict, glossary: Glossary, pairs: list) -> dict:
    """category_weights after the links that came (+1) or went (-1)."""
    counts = dict(weights)
    for source, target, change in pairs:
        crossing = _crossing(glossary, source, target)
        if crossing:
            counts[crossing] = counts.get(crossing, 0) + change
    return dict(sorted((pair, count) for pair, count in counts.items() if count))


def changed_files(config: Config, stamps: dict[str, Stamp], recent_after: int) -> dict[str, os.stat_result] | None:
    """Term files whose bytes changed, with their stat; None when files came, went or are not plain files.

    As in a full build, a file whose time is within the clock's resolution of the last
    scan is compared by content, since its time alone cannot prove it unchanged.
    """
    changed = {}
    seen = 0
    try:
        with os.scandir(config.terms_dir) as entries:  # one pass: the listing, then each file's stat
            for entry in entries:
                if not entry.name.endswith(".md") or not is_term_file(entry):
                    continue
                stamp = stamps.get(entry.name)
                stat = entry.stat(follow_symlinks=False)
                if stamp is None or not statmodule.S_ISREG(stat.st_mode):
                    return None  # a new file; a symlink, whose target can change without the link's time
                seen += 1
                if stat.st_size == stamp.size and stat.st_mtime_ns == stamp.mtime:
                    if stat.st_mtime_ns <= recent_after:
                        continue
                    with open(entry.path, "rb") as handle:
                        if file_digest(handle.read()) == stamp.digest:
                            continue
                changed[entry.name] = stat
    except OSError:
        return None
    if seen != len(stamps):
        return None  # a file went
    return dict(sorted(changed.items()))


def edited_terms(config: Config, names: list[str], terms: Mapping) -> tuple[dict[str, Term], bool] | None:
    """These term files parsed again (by file name), and whether one changed its title,
    summary or aliases; None unless each parses and shows other pages nothing else new
    (terms: slug -> the term as the last build had it)."""
    parsed, names_changed = {}, False
    for name in names:
        term, problems = load_term(config.terms_dir / name)
        old = terms.get(term.slug) if term is not None else None
        if term is None or problems or old is None or _shared(term, NAME_FIELDS) != _shared(old, NAME_FIELDS):
            return None  # errors in the file, a draft, or a change other pages show
        parsed[name] = term
        names_changed = names_changed or _shared(term) != _shared(old)
    return parsed, names_changed


def _shared(term: Term, leaving_out: tuple[str, ...] = ()) -> tuple:
    return tuple(getattr(term, name) for name in SHARED_FIELDS if name not in leaving_out)


def _own_diagnostics(glossary: Glossary, slug: str) -> list[Diagnostic]:
    """What a full build reports about a term's prose and its backlinks."""
    term, rendered = glossary.terms[slug], glossary.rendered[slug]
    found = list(rendered.problems) + writing_warnings([term], glossary.config)
    if len(glossary.terms) > 1 and not glossary.referenced_by[slug]:
        found.append(orphan_warning(term))
    return found
