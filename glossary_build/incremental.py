"""What an edit can change: the cache that lets a rebuild redo only that.

Three layers, each keyed by its inputs so that a reused result is exactly what a
clean build would produce:

- parsed term files (the load stage): reused while the file's size and time are
  unchanged (and, for a file changed within the clock's resolution of the last
  build, its bytes);
- term bodies (the Markdown stage): reused when the term's file is unchanged, no
  name the body resolved (explicit [[links]] and automatic mentions) now leads
  elsewhere, no term it links to changed title or summary, and no name that
  appeared since the last build occurs in its text;
- pages (the template stage): reused when their key is unchanged (see
  render.page_jobs) and the published file is still as we wrote it.

Anything global (package version, theme files, glossary.yaml, formulas, presets)
is folded into one fingerprint; when it changes, only parsed files are reused.
The cache lives in .glossary-cache/ beside glossary.yaml and is safe to delete:
state.json (small, JSON) is all a rebuild with nothing to do reads; build.bin
(marshal, the fastest format Python loads) holds parsed terms and what each body
links to; bodies.bin holds the bodies' HTML, appended to and read only for the
pages a build renders again (most of a cache is HTML, and an edit renders few).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import marshal
import os
import secrets
import sys
import zlib
from pathlib import Path

from typing import TYPE_CHECKING

from . import __version__, formats, formulas
from .config import CONFIG_NAME, Config
from .diagnostics import Diagnostic
from .model import Example, Faq, Misconception, Source, Term, term_key
from .source import KnownTerm, term_file_names
from .theme import theme_dir

if TYPE_CHECKING:  # the fast path for an unchanged project must not import the renderers
    from .links import Autolinker
    from .markdown_ext import RenderedTerm

CACHE_DIR = ".glossary-cache"
CACHE_FILE = "build.bin"  # parsed terms and what rendered bodies link to, in marshal's format: fast to load
STATE_FILE = "state.json"  # small: enough to tell that nothing changed, without the rendered bodies
BODIES_FILE = "bodies.bin"  # the bodies' HTML, one after another, behind a token build.bin names
FORMAT = 9
TOKEN_BYTES = 16
BODIES_SLACK = 1 << 20  # bytes of bodies no entry needs that bodies.bin may carry beyond as many as it needs
CLOCK_SLACK_NS = 2_000_000_000  # file times are coarse on some file systems (FAT: 2 s)


def fingerprint(config: Config) -> str:
    """Everything that can change every page at once."""
    digest = hashlib.sha256(f"glossary {__version__} cache {FORMAT}\0{config.settings_key()}".encode())
    theme = theme_dir()
    for path in sorted(p for p in theme.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"\0{path.relative_to(theme).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    for module in (formulas, formats):
        digest.update(inspect.getsource(module).encode())
    for extra in (config.root / "formulas.py", config.content_dir / "presets.yaml"):
        digest.update(b"\0" + (extra.read_bytes() if extra.is_file() else b"-"))
    return digest.hexdigest()


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
    resolved: dict[str, str] = dataclasses.field(default_factory=dict)  # normalized name -> slug, last build
    shown: dict[str, str] = dataclasses.field(default_factory=dict)  # slug -> summary, last build
    known_terms: dict[str, KnownTerm] = dataclasses.field(default_factory=dict)  # file name -> parsed term
    scanned_at: int = 0  # wall clock (ns) when the build that saved this cache began reading

    trie_key: str = ""  # digest of the autolink names the trie was made from
    trie: dict = dataclasses.field(default_factory=dict)
    bodies_token: str = ""  # the bodies.bin whose offsets the entries with "at" give
    bodies_path: str = ""  # where that file is, when it was found on loading

    def autolinker(self, names: list[tuple[str, str]]) -> Autolinker:
        """The automatic-link matcher for names, made again only when they changed."""
        from .links import Autolinker

        key = hashlib.sha256(repr(names).encode()).hexdigest()
        if key == self.trie_key:
            return Autolinker(names, trie=self.trie)
        autolinker = Autolinker(names)
        self.trie_key, self.trie = key, autolinker.root
        return autolinker

    # -- bodies ---------------------------------------------------------------

    def start(self, fingerprint: str, names: dict[str, str], resolved: dict[str, str],
              shown: dict[str, str]) -> "BodyPlan":
        """Compare this build's names and link targets with the last build's.

        names: autolink name -> slug; resolved: every normalized name -> slug (the name
        index); shown: slug -> summary of every term a link may lead to. Bodies
        of terms this build does not publish are forgotten: nothing keeps them current.
        """
        from .links import Autolinker

        if fingerprint != self.fingerprint:
            self.fingerprint, self.bodies, self.pages, self.names = fingerprint, {}, {}, {}
            self.resolved, self.shown = {}, {}
        appeared = [(n, s) for n, s in names.items() if n not in self.names]
        plan = BodyPlan(
            self,
            changed_names=_changed(self.names, names),
            changed_keys=_changed(self.resolved, resolved),
            changed_targets=_changed(self.shown, shown),
            new_names=Autolinker(appeared) if appeared else None,
            new_probes=[_probe(name) for name, _ in appeared if name.split()],
        )
        self.bodies = {slug: entry for slug, entry in self.bodies.items() if slug in shown}
        self.names, self.resolved, self.shown = dict(names), dict(resolved), dict(shown)
        return plan


def _probe(name: str) -> tuple[str, ...]:
    """Text that every mention of name contains (case-folded): each of its words, the
    last less the letter a plural may change (query, queries)."""
    words = name.casefold().split()
    last = words[-1][:-1] if len(words[-1]) > 1 else words[-1]
    return (*words[:-1], last)


def _changed(before: dict, after: dict) -> set:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


@dataclasses.dataclass
class BodyPlan:
    cache: BuildCache
    changed_names: set[str]  # autolink names that appeared, went or lead elsewhere
    changed_keys: set[str]  # normalized names that resolve differently
    changed_targets: set[str]  # slugs whose summary changed, or that appeared or went
    new_names: Autolinker | None  # names that appeared: a body that mentions one must link it
    new_probes: list[tuple[str, ...]]  # text each of them needs: a quick test that a text cannot mention one
    _touched: set[str] | None = None  # names as bodies wrote them that changed_names or changed_keys reach

    def reuse(self, term: Term) -> RenderedTerm | None:
        """The cached render of term, if this build would render it the same way."""
        entry = self.cache.bodies.get(term.slug)
        if entry is None or entry["key"] != term_key(term):
            return None
        widget_count, links, names, digest = entry["meta"]
        if (self.changed_names or self.changed_keys) and not self.touched_names().isdisjoint(names):
            return None
        if self.changed_targets and not (self.changed_targets.isdisjoint(names.values())
                                         and self.changed_targets.isdisjoint(links)):
            return None
        if self.new_names:
            texts = texts_of(term)
            folded = "\n".join(texts).casefold()
            if any(all(part in folded for part in probe) for probe in self.new_probes) \
                    and any(self.new_names.find(text) for text in texts):
                return None
        at = StoredBody(self.cache.bodies_path, *entry["at"]) if "at" in entry else None
        return StoredRender(entry.get("html"), widget_count, links, names, digest, at)

    def touched_names(self) -> set[str]:
        """Every name a cached body resolved that now leads elsewhere: made once, from the
        few thousand distinct names, so that each body needs one set operation, not a loop."""
        if self._touched is None:
            from .links import normalize

            written = set().union(*(entry["meta"][2] for entry in self.cache.bodies.values()))
            self._touched = self.changed_names | {name for name in written if normalize(name) in self.changed_keys}
        return self._touched

    def remember(self, term: Term, rendered: RenderedTerm | StoredRender) -> RenderedTerm | StoredRender:
        """Keep a fresh render (best made compact by ``stored_form`` where it was rendered)
        for the next build; returns what this build should use."""
        if rendered.problems:
            self.cache.bodies.pop(term.slug, None)
            return rendered
        stored = rendered if isinstance(rendered, StoredRender) else stored_form(rendered)
        meta = (stored.widget_count, stored.links, stored.names, stored.digest)
        self.cache.bodies[term.slug] = {"key": term_key(term), "meta": meta, **stored.location()}
        return stored


def stored_form(rendered: RenderedTerm) -> RenderedTerm | StoredRender:
    """A render with its HTML encoded once: what a cache keeps, and lighter to send
    between processes. Renders with problems stay as they are (they are not kept)."""
    if rendered.problems:
        return rendered
    html = marshal.dumps(tuple(getattr(rendered, name) for name in HTML_FIELDS))
    return StoredRender(html, rendered.widget_count, rendered.links, rendered.names, rendered.digest)


HTML_FIELDS = ("body", "faq_answers", "misconceptions", "examples", "takeaways", "calculators")


class StoredRender:
    """A cached RenderedTerm whose HTML is read and decoded only if a page showing it is rendered again.

    Most of a cache is HTML, and an edit re-renders few pages: keeping it encoded
    (in memory, or in bodies.bin) until asked for makes loading the cache cheap.
    """

    problems: tuple = ()

    def __init__(self, html: bytes | None, widget_count: int, links: list[str], names: dict, digest: str,
                 at: StoredBody | None = None):
        self._html, self._at = html, at
        self.widget_count, self.links, self.names, self.digest = widget_count, links, names, digest

    def __getattr__(self, name: str):
        if name not in HTML_FIELDS:
            raise AttributeError(name)
        self.__dict__.update(zip(HTML_FIELDS, marshal.loads(self.encoded())))
        return self.__dict__[name]

    def encoded(self) -> bytes:
        """The HTML fields in marshal's format; raises CacheDamaged if bodies.bin no longer holds them."""
        if self._html is None:
            self._html = self._at.read()
        return self._html

    def location(self) -> dict:
        """Where the cache finds the HTML: in bodies.bin, or (not saved yet) in memory."""
        return {"at": self._at.where()} if self._at is not None else {"html": self._html}


class CacheDamaged(Exception):
    """bodies.bin does not hold what build.bin says: the build starts again without the cache."""


@dataclasses.dataclass(frozen=True)
class StoredBody:
    path: str
    offset: int
    length: int
    crc: int

    def where(self) -> list[int]:
        return [self.offset, self.length, self.crc]

    def read(self) -> bytes:
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                data = file.read(self.length)
        except OSError as error:
            raise CacheDamaged(f"{self.path}: {error}") from None
        if len(data) != self.length or zlib.crc32(data) != self.crc:
            raise CacheDamaged(f"{self.path}: the body at {self.offset} is not what was written")
        return data


# -- on disk -----------------------------------------------------------------


def cache_path(config: Config) -> Path:
    return config.root / CACHE_DIR / CACHE_FILE


SMALL_FIELDS = ("fingerprint", "pages", "out", "inputs", "diagnostics", "terms")
TERM_FIELDS = [f.name for f in dataclasses.fields(Term) if f.name not in ("path", "lines", "digest")]
PARTS = {"faqs": Faq, "misconceptions": Misconception, "examples": Example, "sources": Source}


def term_record(known: KnownTerm) -> tuple:
    """A parsed term as nested tuples, which marshal stores and loads many times faster than objects."""
    term = known.term
    values = [tuple(tuple(part.__dict__.values()) for part in getattr(term, name)) if name in PARTS
              else getattr(term, name) for name in TERM_FIELDS]
    return known.size, known.mtime, term.path, term.digest, term.lines, tuple(values)


def known_term(record: tuple) -> KnownTerm:
    size, mtime, path, digest, lines, values = record
    fields = {name: tuple(_frozen(PARTS[name], part) for part in value) if name in PARTS else value
              for name, value in zip(TERM_FIELDS, values)}
    fields.update(path=path, lines=lines, digest=digest)
    return KnownTerm(size, mtime, _frozen(Term, fields))


def _frozen(cls, values: tuple | dict):
    """An instance of a frozen dataclass from values it had before; its __init__ (one
    object.__setattr__ per field) would take most of the time of loading the cache."""
    instance = object.__new__(cls)
    instance.__dict__.update(values if isinstance(values, dict) else zip(cls.__dataclass_fields__, values))
    return instance


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def _read_bulk(path: Path) -> BuildCache | None:
    """The bulk cache: a header, then one record per body and per term, so that neither
    writing nor reading it ever holds a second copy of the whole in memory. Written by
    this Python version only, since marshal's format may change between versions."""
    try:
        with open(path, "rb") as file:
            header = _load_record(file)
            if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("python") != sys.version \
                    or header.get("version") != __version__:  # parsed terms are only as good as the parser
                return None
            bodies = dict(_load_record(file) for _ in range(header["bodies"]))
            known_terms = {}
            for _ in range(header["terms"]):
                name, record = _load_record(file)
                known_terms[name] = known_term(record)
        bodies_path = path.with_name(BODIES_FILE)
        if not _holds_bodies(bodies_path, header["bodies_token"], header["bodies_size"]):
            bodies = {}  # their HTML is gone: render them again
        return BuildCache(fingerprint=header["fingerprint"], names=header["names"], bodies=bodies,
                          scanned_at=header["scanned_at"], resolved=header["resolved"], shown=header["shown"],
                          trie_key=header["trie_key"], trie=header["trie"], known_terms=known_terms,
                          bodies_token=header["bodies_token"], bodies_path=str(bodies_path))
    except (OSError, ValueError, EOFError, TypeError, KeyError, AttributeError):
        return None


def _holds_bodies(path: Path, token: str, size: int) -> bool:
    """Whether bodies.bin is the file build.bin was saved with, at least as long as it was then."""
    try:
        with open(path, "rb") as file:
            return file.read(TOKEN_BYTES) == token.encode("ascii") and os.fstat(file.fileno()).st_size >= size
    except (OSError, UnicodeError):
        return False


def _dump_record(value, file) -> None:
    data = marshal.dumps(value)
    file.write(len(data).to_bytes(4, "little"))
    file.write(data)


def _load_record(file):
    """One record: its length, then its bytes (marshal.load on a file reads in small pieces, slowly)."""
    size = int.from_bytes(file.read(4), "little")
    data = file.read(size)
    if len(data) != size:
        raise EOFError("the cache file is cut short")
    return marshal.loads(data)


def load_cache(config: Config) -> BuildCache:
    """The cache of the last build, or an empty one when it is missing, old or unreadable."""
    state, cache = _read(cache_path(config).with_name(STATE_FILE)), _read_bulk(cache_path(config))
    if state is None or cache is None or state.get("fingerprint") != cache.fingerprint:
        return BuildCache()
    try:
        for name in SMALL_FIELDS:
            setattr(cache, name, state[name])
    except KeyError:
        return BuildCache()
    return cache


def save_cache(config: Config, cache: BuildCache) -> None:
    """Write the cache atomically; a cache that cannot be written only costs speed next time."""
    path = cache_path(config)
    try:
        path.parent.mkdir(exist_ok=True)
        (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
        size = _save_bodies(path.with_name(BODIES_FILE), cache)
        header = {"format": FORMAT, "python": sys.version, "version": __version__, "fingerprint": cache.fingerprint,
                  "names": cache.names, "scanned_at": cache.scanned_at, "resolved": cache.resolved,
                  "shown": cache.shown, "trie_key": cache.trie_key, "trie": cache.trie,
                  "bodies": len(cache.bodies), "terms": len(cache.known_terms),
                  "bodies_token": cache.bodies_token, "bodies_size": size}
        temporary = path.with_suffix(".tmp")
        with open(temporary, "wb") as file:
            _dump_record(header, file)
            for item in cache.bodies.items():
                _dump_record(item, file)
            for name, known in cache.known_terms.items():
                _dump_record((name, term_record(known)), file)
        os.replace(temporary, path)
        state = {"format": FORMAT, **{name: getattr(cache, name) for name in SMALL_FIELDS}}
        temporary = path.with_name(STATE_FILE).with_suffix(".tmp")
        temporary.write_text(json.dumps(state), encoding="utf-8")
        os.replace(temporary, path.with_name(STATE_FILE))
    except (OSError, ValueError):
        pass


def _save_bodies(path: Path, cache: BuildCache) -> int:
    """Append the HTML of bodies rendered since the last save to bodies.bin; returns its size.

    The file only grows, so what build.bin points at never changes under it; it is
    flushed to disk before build.bin names it. When it is new, belongs to another
    build.bin, or is mostly bodies no entry needs any more, a new file (with a new
    token) is written beside it and swapped in.
    """
    live = [entry for entry in cache.bodies.values() if "at" in entry]
    fresh = [entry for entry in cache.bodies.values() if "html" in entry]
    try:
        current = os.path.getsize(path) if cache.bodies_path == str(path) and \
            _holds_bodies(path, cache.bodies_token, 0) else None
    except OSError:
        current = None
    needed = sum(entry["at"][1] for entry in live) + sum(len(entry["html"]) for entry in fresh)
    if current is not None and current - TOKEN_BYTES <= 2 * needed + BODIES_SLACK:
        with open(path, "ab") as file:
            offset = file.tell()
            for entry in fresh:
                offset = _place(entry, entry.pop("html"), file, offset)
            file.flush()
            os.fsync(file.fileno())
            return offset
    token = secrets.token_hex(TOKEN_BYTES // 2)
    source = cache.bodies_path if current is not None else ""  # the live bodies are copied from here
    temporary = path.with_suffix(".tmp")
    with open(temporary, "wb") as file:
        file.write(token.encode("ascii"))
        offset = TOKEN_BYTES
        for entry in [*live, *fresh]:
            html = entry.pop("html") if "html" in entry else _still_stored(source, entry.pop("at"))
            if html is not None:
                offset = _place(entry, html, file, offset)
        file.flush()
        os.fsync(file.fileno())
    for slug in [slug for slug, entry in cache.bodies.items() if "at" not in entry]:
        del cache.bodies[slug]  # their HTML could not be copied: render them again
    os.replace(temporary, path)
    cache.bodies_token, cache.bodies_path = token, str(path)
    return offset


def _place(entry: dict, html: bytes, file, offset: int) -> int:
    file.write(html)
    entry["at"] = [offset, len(html), zlib.crc32(html)]
    return offset + len(html)


def _still_stored(path: str, at: list[int]) -> bytes | None:
    try:
        return StoredBody(path, *at).read() if path else None
    except CacheDamaged:
        return None


def input_files(config: Config, fresh_after: int | None = None) -> dict[str, list]:
    """Every source file a build reads, by its path in the project: [size, modification
    time], plus a digest of the bytes for files modified after ``fresh_after`` (ns),
    whose time alone proves nothing."""
    files = {}
    root = str(config.root)
    names = [*(f"content/terms/{name}" for name in term_file_names(config.terms_dir)),
             "content/presets.yaml", CONFIG_NAME, "formulas.py"]
    for name in names:
        path = os.path.join(root, name)
        try:
            stat = os.stat(path)
            entry = [stat.st_size, stat.st_mtime_ns]
            if fresh_after is not None and stat.st_mtime_ns > fresh_after:
                entry.append(_digest_of(path))
        except OSError:
            continue
        files[name] = entry
    return files


def _digest_of(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def same_inputs(recorded: object, current: dict[str, list], root: Path) -> bool:
    """Whether the inputs of the last build (recorded) are those found now (current) in the project at root."""
    if not isinstance(recorded, dict) or current.keys() != recorded.keys():
        return False
    for path, entry in current.items():
        before = recorded[path]
        if before[:2] != entry[:2]:
            return False
        if len(before) > 2:
            try:
                if (entry[2] if len(entry) > 2 else _digest_of(os.path.join(root, path))) != before[2]:
                    return False
            except OSError:
                return False
    return True


@dataclasses.dataclass
class Unchanged:
    """What a build that found nothing to do reports."""

    terms: int
    files: int
    diagnostics: list[Diagnostic]


def unchanged_build(config: Config, inputs: dict[str, list], strict: bool = False) -> Unchanged | None:
    """When no source, setting or theme file changed and the site is as we left it, say so.

    This is the no-op rebuild: it reads file sizes and times, not files, and imports
    no renderer. Anything unexpected returns None, and the caller builds for real.
    """
    state = _read(cache_path(config).with_name(STATE_FILE))
    if not state or not same_inputs(state.get("inputs"), inputs, config.root) or state.get("fingerprint") != fingerprint(config):
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
    folder = str(out_dir)
    for path, entry in cache.pages.items():
        try:
            stat = os.stat(os.path.join(folder, path))  # not a Path each: ten thousand of them add up
        except OSError:
            continue
        if stat.st_size == entry["size"] and stat.st_mtime_ns == entry["mtime"]:
            keys[path] = entry["key"]
    return keys
