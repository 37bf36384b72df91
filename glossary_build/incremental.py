"""What an edit can change: the cache that lets a rebuild redo only that.

Two layers, both keyed by their inputs so that a reused result is exactly what a
clean build would produce:

- term bodies (the Markdown stage): reused when the term's own text is unchanged,
  every name the body resolved (explicit [[links]] and automatic mentions) still
  leads to the same term, the terms it links to kept their title and summary, and
  no name that appeared since the last build occurs in its text;
- pages (the template stage): reused when the hash of the page's whole context is
  unchanged (see render.RenderedSite).

Anything global (package version, theme files, glossary.yaml, formulas, presets)
is folded into one fingerprint; when it changes, nothing is reused. The cache on
disk is plain JSON in .glossary-cache/ beside glossary.yaml, safe to delete.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
from pathlib import Path

from typing import TYPE_CHECKING

from . import __version__, formats, formulas
from .config import Config
from .diagnostics import Diagnostic
from .source import term_files
from .theme import theme_dir

if TYPE_CHECKING:  # the fast path for an unchanged project must not import the renderers
    from .links import Autolinker
    from .markdown_ext import RenderedTerm
    from .model import Term

CACHE_DIR = ".glossary-cache"
CACHE_FILE = "build.json"
STATE_FILE = "state.json"  # small: enough to tell that nothing changed, without the rendered bodies
FORMAT = 1


def fingerprint(config: Config) -> str:
    """Everything that can change every page at once."""
    digest = hashlib.sha256(f"glossary {__version__} cache {FORMAT}\0{config!r}".encode())
    theme = theme_dir()
    for path in sorted(p for p in theme.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"\0{path.relative_to(theme).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    for module in (formulas, formats):
        digest.update(inspect.getsource(module).encode())
    for extra in (config.root / "formulas.py", config.content_dir / "presets.yaml"):
        digest.update(b"\0" + (extra.read_bytes() if extra.is_file() else b"-"))
    return digest.hexdigest()


def term_key(term: Term) -> str:
    return hashlib.sha256(repr(term).encode()).hexdigest()


def texts_of(term: Term) -> list[str]:
    """Every piece of Markdown in a term: where a new name could be mentioned."""
    return [term.body, *(f.answer for f in term.faqs), *(m.myth for m in term.misconceptions),
            *(m.reality for m in term.misconceptions), *(e.text for e in term.examples), *term.takeaways]


@dataclasses.dataclass
class BuildCache:
    fingerprint: str = ""
    names: dict[str, str] = dataclasses.field(default_factory=dict)  # autolink name -> slug, last build
    bodies: dict[str, dict] = dataclasses.field(default_factory=dict)  # slug -> {key, targets, rendered}
    pages: dict[str, dict] = dataclasses.field(default_factory=dict)  # output path -> {key, size, mtime}
    out: str = ""  # the output folder the pages were written to
    inputs: dict[str, list] = dataclasses.field(default_factory=dict)  # source file -> [size, mtime] at that build
    diagnostics: list[list] = dataclasses.field(default_factory=list)  # warnings of that build
    terms: int = 0

    # -- bodies ---------------------------------------------------------------

    def start(self, fingerprint: str, names: dict[str, str]) -> "BodyPlan":
        """Compare this build's names with the last one's; forget everything on a new fingerprint."""
        from .links import Autolinker

        if fingerprint != self.fingerprint:
            self.fingerprint, self.bodies, self.pages, self.names = fingerprint, {}, {}, {}
        changed = {n for n in set(self.names) | set(names) if self.names.get(n) != names.get(n)}
        appeared = [(n, s) for n, s in names.items() if n not in self.names]
        self.names = dict(names)
        return BodyPlan(self, changed, Autolinker(appeared) if appeared else None)


@dataclasses.dataclass
class BodyPlan:
    cache: BuildCache
    changed_names: set[str]
    new_names: Autolinker | None

    def reuse(self, term: Term, lookup, targets: dict) -> RenderedTerm | None:
        """The cached render of term, if this build would render it the same way."""
        entry = self.cache.bodies.get(term.slug)
        if entry is None or entry["key"] != term_key(term):
            return None
        rendered = entry["rendered"]
        for name, slug in rendered["names"].items():
            if name in self.changed_names or lookup(name) != slug or (slug is not None and slug not in targets):
                return None
        for slug, (title, summary) in entry["targets"].items():
            target = targets.get(slug)
            if target is None or (target.title, target.summary) != (title, summary):
                return None
        if self.new_names and any(self.new_names.find(text) for text in texts_of(term)):
            return None
        from .markdown_ext import RenderedTerm

        return RenderedTerm(**{**rendered, "problems": []})

    def remember(self, term: Term, rendered: RenderedTerm, targets: dict) -> None:
        if rendered.problems:
            self.cache.bodies.pop(term.slug, None)
            return
        linked = {slug: [targets[slug].title, targets[slug].summary] for slug in rendered.links if slug in targets}
        data = dataclasses.asdict(rendered)
        data["problems"] = []
        self.cache.bodies[term.slug] = {"key": term_key(term), "targets": linked, "rendered": data}


# -- on disk -----------------------------------------------------------------


def cache_path(config: Config) -> Path:
    return config.root / CACHE_DIR / CACHE_FILE


SMALL_FIELDS = ("fingerprint", "pages", "out", "inputs", "diagnostics", "terms")


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def load_cache(config: Config) -> BuildCache:
    """The cache of the last build, or an empty one when it is missing, old or unreadable."""
    state, bodies = _read(cache_path(config).with_name(STATE_FILE)), _read(cache_path(config))
    if state is None or bodies is None or state.get("fingerprint") != bodies.get("fingerprint"):
        return BuildCache()
    try:
        cache = BuildCache(names=bodies["names"], bodies=bodies["bodies"],
                           **{name: state[name] for name in SMALL_FIELDS})
        for entry in cache.bodies.values():
            rendered = entry["rendered"]
            rendered["misconceptions"] = [tuple(pair) for pair in rendered["misconceptions"]]
        return cache
    except (TypeError, KeyError, AttributeError):
        return BuildCache()


def save_cache(config: Config, cache: BuildCache) -> None:
    """Write the cache atomically; a cache that cannot be written only costs speed next time."""
    path = cache_path(config)
    try:
        path.parent.mkdir(exist_ok=True)
        (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
        state = {"format": FORMAT, **{name: getattr(cache, name) for name in SMALL_FIELDS}}
        bodies = {"format": FORMAT, "fingerprint": cache.fingerprint, "names": cache.names, "bodies": cache.bodies}
        for target, data in ((path, bodies), (path.with_name(STATE_FILE), state)):
            temporary = target.with_suffix(".tmp")
            temporary.write_text(json.dumps(data), encoding="utf-8")
            os.replace(temporary, target)
    except OSError:
        pass


def input_files(config: Config) -> dict[str, list]:
    """Every source file a build reads, with its size and modification time."""
    files = {}
    for path in [*term_files(config.terms_dir), config.content_dir / "presets.yaml", config.config_file,
                 config.root / "formulas.py"]:
        try:
            stat = path.stat()
        except OSError:
            continue
        files[str(path)] = [stat.st_size, stat.st_mtime_ns]
    return files


@dataclasses.dataclass
class Unchanged:
    """What a build that found nothing to do reports."""

    terms: int
    files: int
    diagnostics: list[Diagnostic]


def unchanged_build(config: Config, strict: bool = False) -> Unchanged | None:
    """When no source, setting or theme file changed and the site is as we left it, say so.

    This is the no-op rebuild: it reads file sizes and times, not files, and imports
    no renderer. Anything unexpected returns None, and the caller builds for real.
    """
    state = _read(cache_path(config).with_name(STATE_FILE))
    if not state or state.get("inputs") != input_files(config) or state.get("fingerprint") != fingerprint(config):
        return None
    diagnostics = [Diagnostic(path, line, message, severity) for path, line, message, severity in state["diagnostics"]]
    if strict and diagnostics:
        return None
    cache = BuildCache(**{name: state[name] for name in SMALL_FIELDS})
    if len(reusable_pages(cache, config.out_dir)) != len(cache.pages) or not cache.pages:
        return None
    return Unchanged(state["terms"], len(cache.pages), diagnostics)


def reusable_pages(cache: BuildCache, out_dir: Path) -> dict[str, str]:
    """Page keys whose files are still in the output exactly as we wrote them."""
    if cache.out != str(Path(os.path.abspath(out_dir))):
        return {}
    keys = {}
    for path, entry in cache.pages.items():
        try:
            stat = (out_dir / path).stat()
        except OSError:
            continue
        if stat.st_size == entry["size"] and stat.st_mtime_ns == entry["mtime"]:
            keys[path] = entry["key"]
    return keys
