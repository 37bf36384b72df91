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
state.bin (small) is all a rebuild with nothing to do reads; build.bin holds the
names, what each body links to, and where the rest is; last.bin what an edit of
prose needs (resume.py). All are in marshal's format, the fastest Python loads
(so one Python version writes and reads them). terms.bin (parsed terms) and bodies.bin (the bodies'
HTML) are appended to, so that an edit writes only what it changed; bodies.bin is
read only for the pages a build renders again (most of a cache is HTML, and an
edit renders few).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
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
STATE_FILE = "state.bin"  # small: enough to tell that nothing changed, without the rendered bodies
BODIES_FILE = "bodies.bin"  # the bodies' HTML, one after another, behind a token build.bin names
TERMS_FILE = "terms.bin"  # the parsed terms, the same way
LAST_FILE = "last.bin"  # what an edit of prose needs of the last build (resume.py)
EDITS_FILE = "edits.bin"  # what the quick builds since changed of it
FORMAT = 12
TOKEN_BYTES = 16
APPENDED_SLACK = 1 << 20  # bytes no entry needs that an appended file may carry beyond as many as it needs
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
    spelled: dict = dataclasses.field(default_factory=dict)  # name -> trie paths; kept in memory only
    contested: set = dataclasses.field(default_factory=set)  # see autolinker(); for start()
    bodies_file: AppendedFile = dataclasses.field(default_factory=lambda: AppendedFile())  # bodies.bin
    terms_file: AppendedFile = dataclasses.field(default_factory=lambda: AppendedFile())  # terms.bin
    terms_at: dict[str, tuple] = dataclasses.field(default_factory=dict)  # file name -> (KnownTerm, where) as loaded
    last_build: dict | None = None  # resume.snapshot_of this build: save_cache writes it to last.bin

    def autolinker(self, names: list[tuple[str, str]]) -> Autolinker:
        """The automatic-link matcher for names: the last one when they are the same, else
        updated for the names that changed, or made again.

        Sets ``contested``: the names whose mentions may now find another term's name
        first (names that end at one node of the trie are tried in the order of names).
        """
        from .links import Autolinker, contested_names, updated_trie

        key = hashlib.sha256(repr(names).encode()).hexdigest()
        self.contested = set()
        if key == self.trie_key:
            return Autolinker(names, trie=self.trie)
        before = list(self.names.items())  # the trie's names, if its key says so
        if self.trie and hashlib.sha256(repr(before).encode()).hexdigest() == self.trie_key:
            updated = updated_trie(self.trie, before, names, self.spelled)
            if updated is not None:  # a few names came, went or moved: only their paths change
                (self.trie, self.contested), self.trie_key = updated, key
                return Autolinker(names, trie=self.trie)
        spelled = {name: self.spelled[name] for name, _ in names if name in self.spelled}
        autolinker = Autolinker(names, spelled=spelled)
        self.trie_key, self.trie, self.spelled = key, autolinker.root, spelled
        self.contested = contested_names(autolinker.root) if before else set()
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
        self.bodies = {slug: entry for slug, entry in self.bodies.items() if slug in shown}
        # names new since the cached bodies: with none cached (a first build), nothing to test them against
        appeared = [(n, s) for n, s in names.items() if n not in self.names] if self.bodies else []
        plan = BodyPlan(
            self,
            changed_names=_changed(self.names, names) | self.contested,
            changed_keys=_changed(self.resolved, resolved),
            changed_targets=_changed(self.shown, shown),
            new_names=Autolinker(appeared) if appeared else None,
            new_probes=[mention_probe(name) for name, _ in appeared if name.split()],
        )
        self.names, self.resolved, self.shown = dict(names), dict(resolved), dict(shown)
        return plan


def mentions(term: Term, names: Autolinker, probes: list[tuple[str, ...]]) -> bool:
    """Whether the term's text mentions one of the names; probes (mention_probe of each)
    rule most texts out at C speed."""
    texts = texts_of(term)
    folded = "\n".join(texts).casefold()
    return any(all(part in folded for part in probe) for probe in probes) and any(names.find(text) for text in texts)


def mention_probe(name: str) -> tuple[str, ...]:
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
        if self.new_names and mentions(term, self.new_names, self.new_probes):
            return None
        at = StoredRecord(self.cache.bodies_file.path, *entry["at"]) if "at" in entry else None
        return StoredRender(entry.get("data"), widget_count, links, names, digest, at)

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
                 at: StoredRecord | None = None):
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
        return {"at": self._at.where()} if self._at is not None else {"data": self._html}


class CacheDamaged(Exception):
    """bodies.bin does not hold what build.bin says: the build starts again without the cache."""


@dataclasses.dataclass(frozen=True)
class StoredRecord:
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
        return _checked(data, [0, self.length, self.crc], self.path)


# -- on disk -----------------------------------------------------------------


def cache_path(config: Config) -> Path:
    return config.root / CACHE_DIR / CACHE_FILE


def compiled_templates(config: Config) -> Path:
    """Where Jinja keeps the compiled templates (render.SiteRenderer)."""
    return config.root / CACHE_DIR / "templates"


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
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT and data.get("python") == sys.version \
        else None


def _read_bulk(path: Path) -> BuildCache | None:
    """The bulk cache: a header, then one record per body and per term, each read and
    decoded by itself; terms.bin is read whole, once. Written by this Python version
    only, since marshal's format may change between versions."""
    try:
        with open(path, "rb") as file:
            header = _load_record(file)
            if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("python") != sys.version \
                    or header.get("version") != __version__:  # parsed terms are only as good as the parser
                return None
            bodies = dict(_load_record(file) for _ in range(header["bodies"]))
            placed_terms = [_load_record(file) for _ in range(header["terms"])]
        bodies_file = AppendedFile(str(path.with_name(BODIES_FILE)), header["bodies_token"])
        if not bodies_file.holds(header["bodies_size"]):
            bodies = {}  # their HTML is gone: render them again
        terms_file = AppendedFile(str(path.with_name(TERMS_FILE)), header["terms_token"])
        stored = terms_file.read_all(header["terms_size"])
        if stored is None:
            return None
        known_terms, terms_at = {}, {}
        for name, at in placed_terms:
            known = known_terms[name] = known_term(marshal.loads(_checked(stored, at, terms_file.path)))
            terms_at[name] = (known, at)
        return BuildCache(fingerprint=header["fingerprint"], names=header["names"], bodies=bodies,
                          scanned_at=header["scanned_at"], resolved=header["resolved"], shown=header["shown"],
                          trie_key=header["trie_key"], trie=header["trie"], known_terms=known_terms,
                          bodies_file=bodies_file, terms_file=terms_file, terms_at=terms_at)
    except (OSError, ValueError, EOFError, TypeError, KeyError, AttributeError, CacheDamaged):
        return None


def _checked(stored: bytes, at: list[int], path: str) -> memoryview:
    """The record at [offset, length, CRC-32] of stored, or CacheDamaged if it is not what was written."""
    offset, length, crc = at
    data = memoryview(stored)[offset:offset + length]
    if len(data) != length or zlib.crc32(data) != crc:
        raise CacheDamaged(f"{path}: the record at {offset} is not what was written")
    return data


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
    state, cache = read_state(config), _read_bulk(cache_path(config))
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
        compiled_templates(config).mkdir(parents=True, exist_ok=True)
        (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
        bodies_size = cache.bodies_file.save(path.with_name(BODIES_FILE), cache.bodies)
        placed_terms = {  # a term parsed again is appended; the others stay where they are
            name: {"at": cache.terms_at[name][1]} if cache.terms_at.get(name, (None,))[0] is known
            else {"data": marshal.dumps(term_record(known))}
            for name, known in cache.known_terms.items()
        }
        terms_size = cache.terms_file.save(path.with_name(TERMS_FILE), placed_terms)
        header = {"format": FORMAT, "python": sys.version, "version": __version__, "fingerprint": cache.fingerprint,
                  "names": cache.names, "scanned_at": cache.scanned_at, "resolved": cache.resolved,
                  "shown": cache.shown, "trie_key": cache.trie_key, "trie": cache.trie,
                  "bodies": len(cache.bodies), "terms": len(placed_terms),
                  "bodies_token": cache.bodies_file.token, "bodies_size": bodies_size,
                  "terms_token": cache.terms_file.token, "terms_size": terms_size}
        temporary = path.with_suffix(".tmp")
        with open(temporary, "wb") as file:
            _dump_record(header, file)
            for item in cache.bodies.items():
                _dump_record(item, file)
            for name, entry in placed_terms.items():
                _dump_record((name, entry["at"]), file)
        os.replace(temporary, path)
        last_token = ""
        terms_at = {known.term.slug: placed_terms[name]["at"] for name, known in cache.known_terms.items()
                    if name in placed_terms}
        if cache.last_build is not None and _placed(cache.last_build, terms_at,
                                                    {slug: entry["at"] for slug, entry in cache.bodies.items()}):
            last = cache.last_build
            last["appended"] = {
                "terms": [cache.terms_file.token, terms_size, sum(entry["at"][1] for entry in placed_terms.values())],
                "bodies": [cache.bodies_file.token, bodies_size, sum(entry["at"][1] for entry in cache.bodies.values())],
            }
            last_token = save_last(config, last)
        write_state(config, {"last": last_token, "edits": "", **{name: getattr(cache, name) for name in SMALL_FIELDS}})
    except (OSError, ValueError):
        pass


def read_state(config: Config) -> dict | None:
    """state.bin: all that a build which finds nothing changed reads."""
    return _read(cache_path(config).with_name(STATE_FILE))


def write_state(config: Config, state: dict) -> None:
    path = cache_path(config).with_name(STATE_FILE)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(marshal.dumps({**state, "format": FORMAT, "python": sys.version}))
    os.replace(temporary, path)


def _placed(last: dict, terms_at: dict[str, list[int]], bodies_at: dict[str, list[int]]) -> bool:
    """Add to a snapshot (resume.snapshot_of) where each of its terms and bodies is stored,
    one record per term in the index's order; False if a term is not stored."""
    if not terms_at.keys() >= last["heads"].keys():
        return False
    last["terms_at"] = {slug: marshal.dumps(terms_at[slug]) for slug in last["heads"]}
    last["bodies"] = {slug: marshal.dumps((*body, bodies_at.get(slug))) for slug, body in last["bodies"].items()}
    return True


def save_last(config: Config, last: dict, name: str = LAST_FILE) -> str:
    """Write what an edit of prose needs of this build (resume.py), under a new token that
    state.bin names: the two are of the same build only when the tokens agree.

    name=EDITS_FILE: what builds that took the quick way changed since (they do not
    write last.bin again), for the last.bin whose token it holds as "base".
    """
    path = cache_path(config).with_name(name)
    token = secrets.token_hex(TOKEN_BYTES // 2)
    data = marshal.dumps({"format": FORMAT, "python": sys.version, "version": __version__, **last, "token": token})
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return token


def load_last(config: Config, state: dict) -> tuple[dict, dict] | None:
    """What save_last wrote for the build state.bin describes: last.bin with edits.bin's
    changes in it, and those changes; or None."""
    last = _read_last(config, LAST_FILE, state.get("last"))
    if last is None:
        return None
    edits = {"terms_at": {}, "bodies": {}, "referenced_by": {}}
    if state.get("edits"):
        edits = _read_last(config, EDITS_FILE, state["edits"])
        if edits is None or edits.get("base") != last["token"]:
            return None
        last.update(weights=edits["weights"], appended=edits["appended"])
    for field in ("terms_at", "bodies", "referenced_by"):
        last[field].update(edits[field])
    return last, edits


def _read_last(config: Config, name: str, token: str | None) -> dict | None:
    try:
        data = marshal.loads(cache_path(config).with_name(name).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("python") != sys.version \
            or data.get("version") != __version__ or not token or data.get("token") != token:
        return None
    return data


@dataclasses.dataclass
class AppendedFile:
    """Records (marshal bytes) one after another behind a token, which build.bin names.

    The file only grows, so what build.bin points at never changes under it; it is
    flushed to disk before build.bin names it. When it is new, belongs to another
    build.bin, or is mostly records no entry needs any more, a new file with a new
    token is written beside it and swapped in. Each entry knows its record by
    "at": [offset, length, CRC-32], or holds it as "data" until it is saved.
    """

    path: str = ""  # where it was found on loading, or saved
    token: str = ""

    def holds(self, size: int) -> bool:
        """Whether the file is the one build.bin was saved with, at least as long as it was then."""
        try:
            with open(self.path, "rb") as file:
                return file.read(TOKEN_BYTES) == self.token.encode("ascii") and os.fstat(file.fileno()).st_size >= size
        except (OSError, UnicodeError):
            return False

    def read_all(self, size: int) -> bytes | None:
        try:
            with open(self.path, "rb") as file:
                data = file.read()
        except OSError:
            return None
        return data if data[:TOKEN_BYTES] == self.token.encode("ascii") and len(data) >= size else None

    def append(self, records: list[bytes], size: int, live: int) -> tuple[list[list[int]], int] | None:
        """Add records at the end; returns where each is and the file's new size, or None
        when the file is not the one expected (its token, at least ``size`` bytes) or
        would hold more than ``save`` keeps (live: bytes the entries needed at the last
        save, a bound that only errs towards starting the file anew sooner)."""
        needed = sum(map(len, records))
        try:
            with open(self.path, "r+b") as file:
                size_now = os.fstat(file.fileno()).st_size
                if file.read(TOKEN_BYTES) != self.token.encode("ascii") or size_now < size \
                        or size_now - TOKEN_BYTES + needed > 2 * (live + needed) + APPENDED_SLACK:
                    return None
                size = file.seek(0, os.SEEK_END)
                places = []
                for data in records:
                    file.write(data)
                    places.append([size, len(data), zlib.crc32(data)])
                    size += len(data)
                file.flush()
                os.fsync(file.fileno())
        except (OSError, UnicodeError):
            return None
        return places, size

    def save(self, path: Path, entries: dict[str, dict]) -> int:
        """Write the entries' new records, leaving every entry with "at"; returns the file's size.

        An entry whose record cannot be copied into a new file is dropped from entries.
        """
        live = [entry for entry in entries.values() if "at" in entry]
        fresh = [entry for entry in entries.values() if "data" in entry]
        current = os.path.getsize(path) if self.path == str(path) and self.holds(0) else None
        needed = sum(entry["at"][1] for entry in live) + sum(len(entry["data"]) for entry in fresh)
        if current is not None and current - TOKEN_BYTES <= 2 * needed + APPENDED_SLACK:
            with open(path, "ab") as file:
                offset = file.tell()
                for entry in fresh:
                    offset = _place(entry, entry.pop("data"), file, offset)
                file.flush()
                os.fsync(file.fileno())
                return offset
        token = secrets.token_hex(TOKEN_BYTES // 2)
        source = (self.read_all(0) if current is not None else None) or b""  # the live records are copied from here
        temporary = path.with_suffix(".tmp")
        with open(temporary, "wb") as file:
            file.write(token.encode("ascii"))
            offset = TOKEN_BYTES
            for entry in [*live, *fresh]:
                data = entry.pop("data") if "data" in entry else _still_stored(source, entry.pop("at"), self.path)
                if data is not None:
                    offset = _place(entry, data, file, offset)
            file.flush()
            os.fsync(file.fileno())
        for name in [name for name, entry in entries.items() if "at" not in entry]:
            del entries[name]  # its record could not be copied: made again next time
        os.replace(temporary, path)
        self.path, self.token = str(path), token
        return offset


def _place(entry: dict, data: bytes, file, offset: int) -> int:
    file.write(data)
    entry["at"] = [offset, len(data), zlib.crc32(data)]
    return offset + len(data)


def _still_stored(stored: bytes, at: list[int], path: str) -> bytes | None:
    try:
        return bytes(_checked(stored, at, path))
    except CacheDamaged:
        return None


OTHER_INPUTS = ("content/presets.yaml", CONFIG_NAME, "formulas.py")  # the inputs other than term files


def input_files(config: Config, fresh_after: int | None = None) -> dict[str, list]:
    """Every source file a build reads, by its path in the project: [size, modification
    time], plus a digest of the bytes for files modified after ``fresh_after`` (ns),
    whose time alone proves nothing."""
    root = str(config.root)
    names = term_file_names(config.terms_dir)
    found = [*zip((f"content/terms/{name}" for name in names), stats_in(str(config.terms_dir), names)),
             *zip(OTHER_INPUTS, stats_in(root, OTHER_INPUTS))]
    files = {}
    for name, stat in found:
        if stat is None:
            continue
        entry = files[name] = [stat.st_size, stat.st_mtime_ns]
        if fresh_after is not None and stat.st_mtime_ns > fresh_after:
            try:
                entry.append(_digest_of(os.path.join(root, name)))
            except OSError:
                del files[name]
    return files


def stats_in(folder: str, names: list[str] | tuple[str, ...]) -> list[os.stat_result | None]:
    """os.stat of each path (relative to folder), None where there is none.

    Paths are looked up from the open folder, not from the root of the file system,
    and none is joined in Python: at ten thousand term files that halves the time of
    their stats, which with the pages' are most of what a no-op build does.
    """
    stat = os.stat
    if os.stat not in os.supports_dir_fd:
        names = [os.path.join(folder, name) for name in names]
        folder_fd = None
    else:
        try:
            folder_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            return [None] * len(names)
    found = []
    append = found.append
    try:
        for name in names:
            try:
                append(stat(name, dir_fd=folder_fd))
            except OSError:
                append(None)
    finally:
        if folder_fd is not None:
            os.close(folder_fd)
    return found


def _digest_of(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def same_inputs(recorded: object, current: dict[str, list], root: Path) -> bool:
    """Whether the inputs of the last build (recorded) are those found now (current) in the project at root."""
    return changed_inputs(recorded, current, root, stop_at=1) == set()


def changed_inputs(recorded: object, current: dict[str, list], root: Path, stop_at: int | None = None) -> set[str] | None:
    """The inputs whose bytes may differ from the last build's (recorded); None when files came or went.

    stop_at: stop looking after that many (the caller needs no more).
    """
    if not isinstance(recorded, dict) or current.keys() != recorded.keys():
        return None
    changed = set()
    for path, entry in current.items():
        before = recorded[path]
        if before[:2] != entry[:2]:
            changed.add(path)
        elif len(before) > 2:
            try:
                if (entry[2] if len(entry) > 2 else _digest_of(os.path.join(root, path))) != before[2]:
                    changed.add(path)
            except OSError:
                changed.add(path)
        if stop_at is not None and len(changed) >= stop_at:
            break
    return changed


@dataclasses.dataclass
class Unchanged:
    """What a build that found nothing to do reports."""

    terms: int
    files: int
    diagnostics: list[Diagnostic]


def unchanged_build(config: Config, state: dict, inputs: dict[str, list], strict: bool = False) -> Unchanged | None:
    """When no source, setting or theme file changed and the site is as we left it, say so.

    This is the no-op rebuild: it reads file sizes and times, not files, and imports
    no renderer. state: read_state's, whose fingerprint the caller found current.
    Anything unexpected returns None, and the caller builds for real.
    """
    if not same_inputs(state.get("inputs"), inputs, config.root):
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
    for (path, entry), stat in zip(cache.pages.items(), stats_in(str(out_dir), list(cache.pages))):
        if stat is not None and stat.st_size == entry["size"] and stat.st_mtime_ns == entry["mtime"]:
            keys[path] = entry["key"]
    return keys
