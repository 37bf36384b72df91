"""The pipeline: load -> validate -> resolve links -> render -> write.

Only this module chains the stages. ``check`` runs every stage but writing;
``build`` writes only when nothing failed, so a bad edit never reaches the
published site.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .diagnostics import WARNING, BuildFailed, Diagnostic, display_path, errors_in
from .formulakit import Registry, load_formulas
from .incremental import (CLOCK_SLACK_NS, BuildCache, CacheDamaged, StoredRender, compiled_templates, fingerprint,
                          input_files, load_cache, read_state, reusable_pages, save_cache, stored_form,
                          unchanged_build)
from .model import Term
from .source import load_terms, slug_of, term_file_names

# The renderers (Markdown, Jinja2, the sanitiser, worker processes) are imported where they
# are used: a build that finds nothing changed never needs them, and importing them was a
# quarter of its time at 10,000 terms (0.20 s -> 0.15 s).
if TYPE_CHECKING:
    from .markdown_ext import BodyRenderer
    from .presets import Preset
    from .render import Glossary, SiteRenderer


@dataclass
class CheckResult:
    glossary: Glossary | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    renderer: BodyRenderer | None = None  # what rendered the bodies: a resident process renders edits with it


@dataclass
class BuildResult:
    terms: int
    files: int  # files in the published site
    written: int  # pages rendered and written by this build
    reused: int  # pages unchanged since the last build, kept as they were
    seconds: float
    diagnostics: list[Diagnostic]
    paths: list[str] = field(default_factory=list)  # the files written


def load_calculators(config: Config, script: bool = True) -> tuple[Registry, list[Preset], str, list[Diagnostic]]:
    """The formulas (built-in and the project's own), the presets, and (with script) their browser code."""
    from .presets import load_presets

    project_file = config.root / "formulas.py"
    try:
        registry, _ = load_formulas(project_file)
    except Exception as error:  # the project's own code: report where it failed, never a traceback
        line = next((f.lineno for f in reversed(traceback.extract_tb(error.__traceback__))
                     if Path(f.filename) == project_file), 1)
        registry, _ = load_formulas(None)
        return registry, [], "", [Diagnostic(display_path(project_file), line,
                                             f"formulas.py failed to load: {type(error).__name__}: {error}")]
    presets, problems = load_presets(config.content_dir, registry)
    if not script:
        return registry, presets, "", problems
    from .jsgen import CompileError, compile_formulas

    try:
        script = compile_formulas(registry, {p.id: {"title": p.title, "values": p.values} for p in presets})
    except CompileError as error:
        return registry, presets, "", problems + [Diagnostic(display_path(error.path), error.line, error.message)]
    return registry, presets, script, problems


def _no_progress(items, label):
    return items


def load_glossary(config: Config, site: SiteRenderer | None = None, cache: BuildCache | None = None,
                  progress=_no_progress, workers: int = 1) -> CheckResult:
    """Every stage up to rendering pages; returns the glossary and every problem found.

    With a cache, term bodies that this build would render exactly as before are reused.
    """
    from . import parallel
    from .links import Autolinker, autolink_names, backlinks, build_name_index, resolve_related
    from .markdown_ext import BodyRenderer
    from .render import Glossary, SiteRenderer, group_categories, link_target, sort_key

    site = site or SiteRenderer()
    registry, presets, formulas_js, problems = load_calculators(config)
    if cache is not None:
        recent_after, cache.scanned_at = cache.scanned_at - CLOCK_SLACK_NS, time.time_ns()
        terms, found = load_terms(config.terms_dir, cache.known_terms, recent_after, workers)
    else:
        terms, found = load_terms(config.terms_dir, workers=workers)
    problems += found
    terms.sort(key=lambda t: sort_key(t.title, t.slug))
    published = [t for t in terms if config.drafts or not t.draft]
    drafts = {t.slug for t in terms if t.draft and not config.drafts}

    index, found = build_name_index(terms)
    problems += found
    loaded = {t.slug for t in terms}
    index.unloaded = {
        slug_of(name): display_path(config.terms_dir / name)
        for name in term_file_names(config.terms_dir) if slug_of(name) not in loaded
    }
    related, found = resolve_related(published, index, drafts)
    problems += found
    categories, clashes = group_categories(published)
    problems += [
        Diagnostic(term.path, term.line("category"),
                   f"category '{term.category}' has the same web address as '{name}'; use one spelling")
        for term, name in clashes
    ]

    targets = {
        t.slug: link_target(t.slug, t.title, t.summary) for t in published
    }
    autolinker_names = autolink_names(published, config.autolink)
    autolinker = cache.autolinker(autolinker_names) if cache is not None else Autolinker(autolinker_names)
    renderer = BodyRenderer(
        index, targets, autolinker, trust_html=config.trust_html, registry=registry,
        render_calculator=lambda macro, element_id: site.calculator_html(macro, element_id, presets),
        presets={p.id: p for p in presets},
    )
    shown = {slug: target.summary for slug, target in targets.items()}  # what a body shows of a term it links to
    plan = cache.start(fingerprint(config), dict(autolinker_names), index.by_name, shown) if cache is not None else None
    rendered = {}
    for term in published:
        reused = plan.reuse(term) if plan else None
        if reused:
            rendered[term.slug] = reused
    pending = [term for term in published if term.slug not in rendered]

    def render_body(i: int):
        result = renderer.render_term(pending[i])
        return stored_form(result) if plan else result  # encoded where rendered: less to send and keep

    fresh = parallel.run(render_body, len(pending), workers, progress)
    for term, result in zip(pending, fresh):
        rendered[term.slug] = plan.remember(term, result) if plan else result
    rendered = {term.slug: rendered[term.slug] for term in published}  # index order, whoever rendered it
    for result in rendered.values():
        problems += result.problems
    referenced_by = backlinks({slug: r.links for slug, r in rendered.items()})
    problems += writing_warnings(published, config)
    if len(published) > 1:
        problems += [orphan_warning(t) for t in published if not referenced_by[t.slug]]
    glossary = Glossary(
        config=config,
        terms={t.slug: t for t in published},
        rendered=rendered,
        related=related,
        referenced_by=referenced_by,
        categories=tuple(categories),
        formulas_js=formulas_js,
    )
    return CheckResult(glossary, sorted(set(problems)), renderer)


def orphan_warning(term: Term) -> Diagnostic:
    return Diagnostic(term.path, 1, "orphan: no other term links to this one; mention it or link it with [[...]]",
                      WARNING)


def writing_warnings(terms: list[Term], config: Config) -> list[Diagnostic]:
    """Things that do not break a page but read badly; --strict makes them fail."""
    found = []
    for term in terms:
        if len(term.summary) > config.summary_length:
            found.append(Diagnostic(
                term.path, term.line("summary"),
                f"summary is {len(term.summary)} characters; tooltips and search results show "
                f"{config.summary_length} (summary_length in glossary.yaml)", WARNING))
        found += [
            Diagnostic(term.path, term.line("sources", i), f"source '{source.title}' has no url", WARNING)
            for i, source in enumerate(term.sources) if not source.url
        ]
    return found


def check(config: Config, strict: bool = False, config_problems: list[Diagnostic] = (),
          site: SiteRenderer | None = None, cache: BuildCache | None = None, progress=_no_progress,
          workers: int = 1) -> CheckResult:
    """Everything but writing; the glossary is None when the problems must stop a build."""
    result = load_glossary(config, site, cache, progress, workers)
    result.diagnostics = sorted(set(result.diagnostics) | set(config_problems))
    if errors_in(result.diagnostics, strict):
        result.glossary = None
    return result


@contextlib.contextmanager
def no_collections():
    """Loading and checking make millions of small objects that live until the build ends.

    Python's cycle collector would walk all of them again and again (a tenth of an
    edit's time at 10,000 terms) to free almost nothing: it stays off.
    What is alive afterwards is kept out of later collections until build() ends
    (which also spares worker processes from copying memory the collector would
    touch). Worker processes forked meanwhile render with it off too; their peak
    memory is the same.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def read_stored_bodies(glossary: Glossary, plan) -> None:
    """Read the cached HTML of the term pages about to be rendered, before anything is
    written (and before workers start, which then share it): CacheDamaged if it is gone."""
    from .render import term_url

    pending = {path for path, _, _ in plan.pending}
    for slug, rendered in glossary.rendered.items():
        if isinstance(rendered, StoredRender) and term_url(slug) in pending:
            rendered.encoded()


def build(config: Config, strict: bool = False, config_problems: list[Diagnostic] = (),
          incremental: bool = True, progress=_no_progress, workers: int | None = None) -> BuildResult:
    """Check everything, then render and publish; raise BuildFailed, before writing, on errors.

    Incremental builds reuse what the cache in .glossary-cache/ proves unchanged and
    update the published site in place; a clean build ignores the cache and swaps in a
    whole new site. The result is byte-identical either way.
    """
    started = time.perf_counter()
    # before reading: an edit during the build is seen by the next one
    inputs = input_files(config, fresh_after=time.time_ns() - CLOCK_SLACK_NS)
    state = read_state(config) if incremental else None
    if state and state.get("fingerprint") == fingerprint(config):
        unchanged = unchanged_build(config, state, inputs, strict)
        if unchanged:
            return BuildResult(terms=unchanged.terms, files=unchanged.files, written=0, reused=unchanged.files,
                               seconds=time.perf_counter() - started, diagnostics=unchanged.diagnostics)
        if not config_problems:
            from .resume import quick_build

            quick = quick_build(config, state, inputs, strict, started)
            if quick:
                return quick
    from .parallel import default_workers

    workers = default_workers() if workers is None else workers
    try:
        return _render_and_publish(config, strict, config_problems, incremental, progress, workers, inputs, started)
    except CacheDamaged:  # found before anything was written
        gc.unfreeze()
        return _render_and_publish(config, strict, config_problems, False, progress, workers, inputs, started)
    finally:
        gc.unfreeze()  # a process that builds again (tests, scripts) collects this build's objects as usual


def _render_and_publish(config: Config, strict: bool, config_problems: list[Diagnostic], incremental: bool,
                        progress, workers: int, inputs: dict[str, list], started: float) -> BuildResult:
    from .output import SiteWriter
    from .render import SiteRenderer

    site = SiteRenderer(compiled=compiled_templates(config) if incremental else None)  # --clean: nothing kept
    with no_collections():
        cache = load_cache(config) if incremental else BuildCache()
        result = check(config, strict, config_problems, site, cache, progress, workers)
    if result.glossary is None:
        raise BuildFailed(result.diagnostics)
    plan = site.plan_site(result.glossary, reusable_pages(cache, config.out_dir))
    read_stored_bodies(result.glossary, plan)
    writer = SiteWriter.open(config.out_dir, config.root, config.content_dir, set(plan.keys), plan.reused,
                             in_place=incremental)
    try:
        site.render_pages(plan, writer.write, workers)
        stats = writer.commit()
    except BaseException:
        writer.abort()
        raise
    stats.update((path, (cache.pages[path]["size"], cache.pages[path]["mtime"])) for path in plan.reused)
    from .resume import snapshot_of

    cache.last_build = snapshot_of(result.glossary, result.renderer)
    cache.pages = {path: {"key": plan.keys[path], "size": size, "mtime": mtime}
                   for path, (size, mtime) in sorted(stats.items())}
    cache.out = str(Path(os.path.abspath(config.out_dir)))
    cache.inputs = inputs
    cache.terms = len(result.glossary.terms)
    cache.diagnostics = [[d.path, d.line, d.message, d.severity] for d in result.diagnostics]
    save_cache(config, cache)  # a clean build leaves a fresh cache for the next one
    return BuildResult(
        terms=len(result.glossary.terms),
        files=len(stats),
        paths=sorted(set(plan.keys) - plan.reused),
        written=len(plan.keys) - len(plan.reused),
        reused=len(plan.reused),
        seconds=time.perf_counter() - started,
        diagnostics=result.diagnostics,
    )
