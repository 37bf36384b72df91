"""`glossary build` after an edit of prose: quick.py's way, in a new process, from the cache.

A full build leaves in .glossary-cache/last.bin what quick.py needs of it: each
published term's title, summary and aliases, the link graph, the categories, the
name index and the automatic-link trie (one record per first word, decoded only
for the words the edited text has), with where terms.bin and bodies.bin hold each
term and its HTML. When only term files changed since the last build, and the
published site is as that build left it, the next build loads that instead of the
whole cache; quick.py renders the edited pages and those that gained or lost a
backlink, reading from the cache only the terms and bodies those pages show. The
pages are written in place (output.SiteWriter), the edited terms and bodies are
appended to the cache, and edits.bin (what the quick builds since the last full
one changed of last.bin) and state.bin are written again.

Whatever quick.py cannot prove (a changed title, an error, a new file), and any
record of the cache that is not what was written, takes the full way, which gives
the same files. A full build ignores what a quick one appended: the edited files
no longer match what build.bin knows of them, so it parses and renders them again.
"""

from __future__ import annotations

import marshal
import time
from collections.abc import Mapping

from .build import BuildResult, load_calculators
from .config import Config
from .diagnostics import Diagnostic, errors_in
from .incremental import (BODIES_FILE, EDITS_FILE, TERMS_FILE, AppendedFile, BuildCache, CacheDamaged,
                          StoredRecord, StoredRender, cache_path, changed_inputs, compiled_templates, known_term,
                          load_last, reusable_pages, save_last, stored_form, term_record, write_state)
from .links import Autolinker, NameIndex
from .markdown_ext import BodyRenderer, LinkTarget
from .output import SiteWriter
from .quick import MAX_FILES, LastBuild, apply_edits, edited_terms
from .render import Category, Glossary, SiteRenderer, _LinkContexts, link_target
from .source import KnownTerm, slug_of

TERMS_FOLDER = "content/terms/"


def snapshot_of(glossary: Glossary, renderer: BodyRenderer) -> dict:
    """What an edit of prose needs of a build, as plain data for last.bin; save_cache adds
    where terms.bin and bodies.bin hold each term and body (incremental._placed).

    What there is one of per term is kept as one encoded record per term, decoded only
    for the terms a page shows: loading makes 10,000 bytes objects, not their lists.
    Lists of published terms hold their places in the index (a third of the bytes).
    """
    autolinker = renderer.links.autolinker
    trie = autolinker.root if autolinker is not None else {}
    dumps = marshal.dumps
    position = {slug: i for i, slug in enumerate(glossary.terms)}
    return {
        "heads": {slug: dumps((t.title, t.summary, t.aliases)) for slug, t in glossary.terms.items()},
        "related": {slug: dumps([position[s] for s in slugs]) for slug, slugs in glossary.related.items()},
        "referenced_by": {slug: dumps([position[s] for s in slugs]) for slug, slugs in glossary.referenced_by.items()},
        "bodies": {slug: (r.widget_count, r.links, r.digest) for slug, r in glossary.rendered.items()},
        "categories": [(c.name, c.slug, c.slugs) for c in glossary.categories],
        "weights": glossary.category_weights,
        "names": renderer.links.index.by_name,
        "trie": {word: dumps(node) for word, node in trie.items()},
    }


def quick_build(config: Config, state: dict | None, inputs: dict[str, list], strict: bool,
                started: float) -> BuildResult | None:
    """The build after an edit of prose only, or None when the full way must decide.

    state: state.bin of the last build (its fingerprint was checked); inputs: as
    input_files found them before anything was read.
    """
    if not state:
        return None
    changed = changed_inputs(state.get("inputs"), inputs, config.root)
    if not changed or len(changed) > MAX_FILES or not all(path.startswith(TERMS_FOLDER) for path in changed):
        return None
    found = {path[len(TERMS_FOLDER):]: tuple(inputs[path][:2]) for path in sorted(changed)}
    try:  # nothing is written before the pages: anything unexpected in the cache takes the full way
        prepared = _prepare(config, state, found, strict)
    except Exception:  # noqa: BLE001 - the cache only ever saves time; the full way reads none of this
        return None
    if prepared is None:
        return None
    result, last, edits, pages = prepared
    after = result.last.glossary
    edited = [after.terms.changes[slug_of(name)] for name in found]
    records = {
        "terms": [marshal.dumps(term_record(KnownTerm(*found[name], term))) for name, term in zip(found, edited)],
        "bodies": [stored_form(after.rendered[term.slug]).encoded() for term in edited],
    }
    writer = SiteWriter.open(config.out_dir, config.root, config.content_dir, set(result.last.keys),
                             set(result.last.keys) - set(result.files), in_place=True)
    try:
        for path, data in result.files.items():
            writer.write(path, data)
        stats = writer.commit()
    except BaseException:
        writer.abort()
        raise
    for path, key in result.last.keys.items():
        entry = pages.setdefault(path, {"key": key})
        entry["key"] = key
        if path in stats:
            entry["size"], entry["mtime"] = stats[path]
    kept = _keep(config, last, edits, after, edited, records)
    state.update(inputs=inputs, pages=pages,
                 diagnostics=[[d.path, d.line, d.message, d.severity] for d in result.diagnostics])
    if kept is None:
        state["last"] = ""  # the next build takes the full way, which writes the cache anew
    else:
        state["edits"] = kept
    try:
        write_state(config, state)
    except OSError:  # a cache that cannot be written only costs speed next time
        pass
    return BuildResult(terms=len(after.terms), files=len(pages), written=len(stats),
                       reused=len(pages) - len(stats), seconds=time.perf_counter() - started,
                       diagnostics=result.diagnostics, paths=sorted(stats))


def _prepare(config: Config, state: dict, found: dict[str, tuple[int, int]], strict: bool):
    """(quick.QuickResult, last.bin, edits.bin, state's pages) for these changed term files, or None."""
    loaded = load_last(config, state)
    if loaded is None:
        return None
    last, edits = loaded
    if not all(AppendedFile(str(cache_path(config).with_name(name)), token).holds(size)
               for name, (token, size, _) in ((TERMS_FILE, last["appended"]["terms"]),
                                              (BODIES_FILE, last["appended"]["bodies"]))):
        return None
    terms = StoredTerms(last["terms_at"], str(cache_path(config).with_name(TERMS_FILE)))
    edited = edited_terms(config, list(found), terms)
    if edited is None or edited[1]:
        return None  # found before a look at every page or a renderer: most other edits end here
    pages = {path: dict(entry) for path, entry in state["pages"].items()}
    keys = reusable_pages(BuildCache(pages=pages, out=state["out"]), config.out_dir)
    if len(keys) != len(pages):
        return None  # a published page was changed or removed: the full way writes it again
    diagnostics = [Diagnostic(*entry) for entry in state["diagnostics"]]
    restored = restore(config, last, terms, state["fingerprint"], diagnostics, keys)
    result = apply_edits(restored, config, found, 0, edited)
    if result is None or result.last is None or errors_in(result.diagnostics, strict):
        return None  # the full way reports errors, with all it knows
    return result, last, edits, pages


def _keep(config: Config, last: dict, edits: dict, after: Glossary, edited: list, records: dict) -> str | None:
    """Append the edited terms and bodies to the cache, and write edits.bin (what changed
    since last.bin) again; its token, or None when the cache files are not what last.bin
    knows or hold mostly records no entry needs."""
    try:
        placed = {}
        for kind, name in (("terms", TERMS_FILE), ("bodies", BODIES_FILE)):
            token, size, live = last["appended"][kind]
            appended = AppendedFile(str(cache_path(config).with_name(name)), token).append(records[kind], size, live)
            if appended is None:
                return None
            placed[kind], size = appended
            last["appended"][kind] = [token, size, live]
        for term, term_at, body_at in zip(edited, placed["terms"], placed["bodies"]):
            rendered = after.rendered[term.slug]
            edits["terms_at"][term.slug] = marshal.dumps(term_at)
            edits["bodies"][term.slug] = marshal.dumps((rendered.widget_count, rendered.links, rendered.digest, body_at))
        position = {slug: i for i, slug in enumerate(last["heads"])}
        for slug, slugs in after.referenced_by.changes.items():
            edits["referenced_by"][slug] = marshal.dumps([position[s] for s in slugs])
        edits.update(base=last["token"], weights=after.category_weights, appended=last["appended"])
        return save_last(config, edits, EDITS_FILE)
    except OSError:
        return None


def restore(config: Config, last: dict, terms: StoredTerms, fingerprint: str, diagnostics: list[Diagnostic],
            keys: dict[str, str]) -> LastBuild:
    """The last build as quick.py knows it, its terms and bodies read from the cache when asked for."""
    site = SiteRenderer(compiled=compiled_templates(config))
    registry, presets, _, _ = load_calculators(config, script=False)  # the last build compiled it
    order = list(last["heads"])
    categories = tuple(Category(name, slug, tuple(slugs)) for name, slug, slugs in last["categories"])
    glossary = Glossary(
        config=config,
        terms=terms,
        rendered=StoredBodies(last["bodies"], str(cache_path(config).with_name(BODIES_FILE))),
        related=TermLists(last["related"], order),
        referenced_by=TermLists(last["referenced_by"], order),
        categories=categories,
        weights=last["weights"],
    )
    renderer = BodyRenderer(
        _Names(by_name=last["names"]), LinkTargets(last["heads"]),
        Autolinker([], trie=TrieRoot(last["trie"])) if last["trie"] else None, trust_html=config.trust_html,
        registry=registry, presets={p.id: p for p in presets},
        render_calculator=lambda macro, element_id: site.calculator_html(macro, element_id, presets),
    )
    return LastBuild(config, fingerprint, glossary, diagnostics, renderer, site, keys, stamps={}, scanned_at=0,
                     links=_LinkContexts(TermHeads(last["heads"])))


class _Names(NameIndex):
    """The name index without what only messages use: an edit with a problem takes the full way."""

    def suggest(self, name: str) -> str:
        return ""


class Records(Mapping):
    """slug -> a value kept in marshal's bytes (in last.bin's order), decoded when first asked for."""

    def __init__(self, encoded: dict[str, bytes]):
        self.encoded = encoded
        self.decoded: dict = {}

    def __getitem__(self, slug: str):
        try:
            return self.decoded[slug]
        except KeyError:
            value = self.decoded[slug] = self.decode(slug, marshal.loads(self.encoded[slug]))
            return value

    def decode(self, slug: str, value):
        return value

    def __iter__(self):
        return iter(self.encoded)

    def __len__(self) -> int:
        return len(self.encoded)

    def __contains__(self, slug) -> bool:
        return slug in self.encoded


class TermLists(Records):
    """slug -> a list of published terms, kept as their places in the index."""

    def __init__(self, encoded: dict[str, bytes], order: list[str]):
        super().__init__(encoded)
        self.order = order

    def decode(self, slug: str, places: list[int]) -> list[str]:
        return [self.order[i] for i in places]


class StoredTerms(Records):
    """Published terms by slug, in index order, each read from terms.bin when first asked for."""

    def __init__(self, places: dict[str, bytes], path: str):
        super().__init__(places)
        self.path = path

    def decode(self, slug: str, at: list[int]):
        return known_term(marshal.loads(StoredRecord(self.path, *at).read())).term


class StoredBodies(Records):
    """Rendered bodies by slug: what pages are keyed by, and their HTML, read from bodies.bin if shown."""

    def __init__(self, bodies: dict[str, bytes], path: str):
        super().__init__(bodies)
        self.path = path

    def decode(self, slug: str, body: tuple) -> StoredRender:
        widget_count, links, digest, at = body
        if at is None:  # not in bodies.bin (a good build has no body with problems, which it would not keep)
            raise CacheDamaged(f"the body of {slug} is not stored")
        return StoredRender(None, widget_count, links, {}, digest, StoredRecord(self.path, *at))


class TermHead:
    """What other pages show of a term (render.link_context reads these)."""

    __slots__ = ("slug", "title", "summary", "aliases")

    def __init__(self, slug: str, title: str, summary: str, aliases: tuple[str, ...]):
        self.slug, self.title, self.summary, self.aliases = slug, title, summary, aliases


class TermHeads(Records):
    """What other pages show of each term (TermHead), decoded when asked for."""

    def decode(self, slug: str, head: tuple) -> TermHead:
        return TermHead(slug, *head)


class LinkTargets(Records):
    """What a body shows of each term it may link to (markdown_ext.LinkTarget), decoded when asked for."""

    def decode(self, slug: str, head: tuple) -> LinkTarget:
        title, summary, _ = head
        return link_target(slug, title, summary)


class TrieRoot(dict):
    """The automatic-link trie's first level, each word's branch decoded the first time a text has that word."""

    def __init__(self, branches: dict[str, bytes]):
        super().__init__()
        self.branches = branches

    def __contains__(self, word) -> bool:
        return dict.__contains__(self, word) or word in self.branches

    def __missing__(self, word):
        node = self[word] = marshal.loads(self.branches[word])
        return node

    def get(self, word, default=None):
        return self[word] if word in self else default
