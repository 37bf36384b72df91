"""Term files in: decode, split the front matter, type-check it into a Term.

``parse_term`` works on a string and never touches the disk, so tests feed it
literals; ``load_terms`` is the only function that reads the content folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import stat as statmodule
import unicodedata
from pathlib import Path

from . import schema
from .diagnostics import Diagnostic, display_path
from .model import Example, Faq, Misconception, Source, Term
from .yamldata import parse_yaml

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FENCE = "---"
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
MAX_FILE_BYTES = 1_000_000  # a term file larger than this is a mistake (a pasted dump), not a term
MAX_FRONT_MATTER_LINES = 2_000


def slugify(text: str) -> str:
    """A file-name-safe slug: lowercase ASCII letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return f"{slug}-term" if slug in RESERVED_NAMES else slug


def decode(data: bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    """UTF-8 with or without BOM; CRLF and lone CR become LF so output never depends on them."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return None, [Diagnostic(path, 1, "the file is UTF-32; save it as UTF-8")]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Diagnostic(path, 1, "the file is UTF-16; save it as UTF-8")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        return None, [
            Diagnostic(path, line, f"not valid UTF-8 (byte 0x{byte:02x}); save the file with UTF-8 encoding")
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, [Diagnostic(path, line, "contains a NUL byte; is this a text file?")]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


def split_front_matter(text: str) -> tuple[str, str, int] | str:
    """(yaml, body, body_line), or the message saying why the file has no front matter."""
    lines = text.split("\n")
    if lines[0].rstrip() != FENCE:
        return "no front matter: a term file starts with a line '---', then title: and summary:, then '---'"
    for index in range(1, len(lines)):
        if lines[index].rstrip() in (FENCE, "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    return "front matter is not closed: add a line '---' after the last key"


def parse_term(text: str, slug: str, path: str) -> tuple[Term | None, list[Diagnostic]]:
    """Turn one term file's text into a Term, reporting every problem found in it."""
    problems: list[Diagnostic] = []

    def report(line: int, message: str, severity: str = "error") -> None:
        problems.append(Diagnostic(path, line, message, severity))

    if not SLUG_RE.match(slug):
        suggestion = slugify(slug)
        hint = f" (rename it to {suggestion}.md)" if suggestion else ""
        report(1, f"bad file name '{slug}.md': use lowercase letters, digits and hyphens{hint}")
    elif slug in RESERVED_NAMES:
        report(1, f"bad file name '{slug}.md': '{slug}' is a reserved device name on Windows, so its page "
                  f"could not be published everywhere (rename it to {slug}-term.md)")
    split = split_front_matter(text)
    if isinstance(split, str):
        report(1, split)
        return None, problems
    front, body, body_line = split
    if front.count("\n") >= MAX_FRONT_MATTER_LINES:
        report(1, f"front matter is {front.count(chr(10)) + 1:,} lines long; at most {MAX_FRONT_MATTER_LINES:,} "
                  "are allowed (is the closing '---' in the right place?)")
        return None, problems
    parsed = parse_yaml(front, first_line=2)
    for line, message in parsed.errors:
        report(line, message)
    if parsed.errors:
        return None, problems
    data = parsed.value if parsed.value is not None else {}
    if not isinstance(data, dict):
        report(2, "front matter must be a mapping of keys (title: ..., summary: ...), found a list or text")
        return None, problems
    values = schema.validate(data, parsed.lines, schema.TERM_FIELDS, report, default_line=1)
    if not body.strip():
        report(body_line - 1, "empty body: write the explanation below this closing '---'")
    if problems:
        return None, problems
    term = Term(
        slug=slug,
        path=path,
        title=values["title"],
        summary=values["summary"],
        body=body,
        body_line=body_line,
        aliases=values.get("aliases", ()),
        category=values.get("category") or None,
        tags=values.get("tags", ()),
        related=values.get("related", ()),
        calculators=values.get("calculators", ()),
        faqs=tuple(Faq(q, a) for q, a in values.get("faqs", ())),
        misconceptions=tuple(Misconception(m, r) for m, r in values.get("misconceptions", ())),
        takeaways=values.get("takeaways", ()),
        examples=tuple(Example(t, x) for t, x in values.get("examples", ())),
        sources=tuple(Source(t, u) for t, u in values.get("sources", ())),
        authors=values.get("authors", ()),
        updated=values.get("updated"),
        autolink=values.get("autolink", True),
        draft=values.get("draft", False),
        lines=parsed.lines,
    )
    return term, problems


def term_files(terms_dir: Path) -> list[Path]:
    """The term files of a folder in a stable order, whatever the file system lists first."""
    return [terms_dir / name for name in term_file_names(terms_dir)]


def term_file_names(terms_dir: Path | str) -> list[str]:
    """The names of term_files, without making a Path of each (ten thousand of those take a while)."""
    try:
        with os.scandir(terms_dir) as entries:  # the file type comes with the listing: no stat per file
            return sorted(entry.name for entry in entries if entry.name.endswith(".md") and is_term_file(entry))
    except (FileNotFoundError, NotADirectoryError):
        return []


def is_term_file(entry: os.DirEntry) -> bool:
    """Term files, and symlinks named like them (load_term judges those); not editor leftovers."""
    return not entry.name.startswith((".", "#", "~")) and (entry.is_symlink() or entry.is_file())


def symlink_problem(file: Path) -> str | None:
    """A symlinked term file must lead to a file inside the content folder."""
    if not file.is_symlink():
        return None
    try:
        target = file.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken or looping symlink; point it at a file in the content folder or remove it"
    if not target.is_relative_to(file.parent.parent.resolve()) or not target.is_file():
        return f"symlink leads outside the content folder (to {target}); copy the file in instead"
    return None


def load_term(file: Path) -> tuple[Term | None, list[Diagnostic]]:
    path = display_path(file)
    problem = symlink_problem(file)
    if problem:
        return None, [Diagnostic(path, 1, problem)]
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Diagnostic(path, 1, f"the file is {size:,} bytes; a term file may be at most "
                                              f"{MAX_FILE_BYTES:,} (split it, or move data elsewhere)")]
        data = file.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(path, 1, f"cannot read: {exc.strerror}")]
    text, problems = decode(data, path)
    if text is None:
        return None, problems
    term, problems = parse_term(text, slug_of(file.name), path)
    return (dataclasses.replace(term, digest=file_digest(data)) if term else None), problems


def slug_of(file_name: str) -> str:
    """A term file's slug: its name without ".md"."""
    return file_name[:-3]


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass
class KnownTerm:
    """A term parsed by an earlier build, with the size and time its file had then."""

    size: int
    mtime: int  # st_mtime_ns
    term: Term


def load_terms(terms_dir: Path, known: dict[str, KnownTerm] | None = None,
               recent_after: int = 0, workers: int = 1) -> tuple[list[Term], list[Diagnostic]]:
    """Read every term file; a file with problems is left out and its problems returned.

    ``known`` (file name -> KnownTerm) saves parsing files whose size and time are
    unchanged; it is brought up to date in place. A file changed within the clock's
    resolution of the last build (mtime after ``recent_after``) is read and compared
    by content, since its time alone cannot prove that it is unchanged. The other
    files are parsed by up to ``workers`` processes.
    """
    from . import parallel

    problems: list[Diagnostic] = []
    files = term_files(terms_dir)
    if not files:
        problems.append(
            Diagnostic(display_path(terms_dir), 0, "no term files found: add content/terms/<slug>.md (try `glossary new \"Term\"`)")
        )
    cache = known if known is not None else {}
    shown = display_path(terms_dir)
    folder = "" if shown == "." else shown + "/"
    found: list[tuple[Term | None, list[Diagnostic]] | None] = []
    stats = []
    for file in files:
        try:
            stat = file.lstat()  # before reading: an edit made while we read is seen next time
        except OSError:
            stat = None
        term = _still_known(file, stat, cache.get(file.name), recent_after, folder + file.name)
        found.append((term, []) if term is not None else None)
        stats.append(stat)
    unread = [i for i, result in enumerate(found) if result is None]
    for i, result in zip(unread, parallel.run(lambda n: load_term(files[unread[n]]), len(unread), workers)):
        term, _ = found[i] = result
        file, stat = files[i], stats[i]
        cache.pop(file.name, None)
        if term is not None and stat is not None and statmodule.S_ISREG(stat.st_mode):
            # not symlinks: their target can change without the link's time
            cache[file.name] = KnownTerm(stat.st_size, stat.st_mtime_ns, term)
    terms: list[Term] = []
    for term, reported in found:
        problems.extend(reported)
        if term is not None:
            terms.append(term)
    for name in set(cache) - {file.name for file in files}:
        del cache[name]
    return terms, problems


def _still_known(file: Path, stat: os.stat_result | None, known: KnownTerm | None,
                 recent_after: int, path: str) -> Term | None:
    if known is None or stat is None or not statmodule.S_ISREG(stat.st_mode):
        return None
    if stat.st_size != known.size or stat.st_mtime_ns != known.mtime:
        return None
    if stat.st_mtime_ns > recent_after:
        try:
            if file_digest(file.read_bytes()) != known.term.digest:
                return None
        except OSError:
            return None
    # the path is shown relative to the working folder, which may have changed
    return known.term if known.term.path == path else dataclasses.replace(known.term, path=path)
