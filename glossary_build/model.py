"""Plain data passed between the stages of a build."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Faq:
    question: str
    answer: str


@dataclass(frozen=True)
class Misconception:
    myth: str
    reality: str


@dataclass(frozen=True)
class Example:
    title: str | None
    text: str


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None


@dataclass(frozen=True)
class Term:
    """One term file, parsed and type-checked; links are not resolved yet."""

    slug: str
    path: str  # as shown in diagnostics
    title: str
    summary: str
    body: str
    body_line: int  # line of the file where the body starts
    aliases: tuple[str, ...] = ()
    category: str | None = None
    tags: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    calculators: tuple[str, ...] = ()
    faqs: tuple[Faq, ...] = ()
    misconceptions: tuple[Misconception, ...] = ()
    takeaways: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    sources: tuple[Source, ...] = ()
    authors: tuple[str, ...] = ()
    updated: str | None = None  # ISO date
    autolink: bool = True
    draft: bool = False
    lines: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    digest: str = field(default="", compare=False, hash=False, repr=False)  # of the file's bytes

    def line(self, *path) -> int:
        """The line of a front-matter key or item, for diagnostics."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a link may use: slug, title and aliases."""
        return (self.slug, self.title, *self.aliases)


def term_key(term: Term) -> str:
    """What a term is made of, as a digest: its file's bytes when it was read from disk."""
    return f"{term.slug}:{term.digest}" if term.digest else hashlib.sha256(repr(term).encode()).hexdigest()
