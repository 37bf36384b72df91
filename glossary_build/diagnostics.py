"""Problems found in a glossary, as data: every stage returns them instead of raising.

A diagnostic names the file and line a writer has to open, says what was
expected, and may carry a hint ("did you mean ..."). They are collected across
the whole run, sorted, and printed together as ``path:line: severity: message``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    message: str
    severity: str = ERROR

    def format(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


class BuildFailed(Exception):
    """Raised once, at a stage boundary, when a build must not write anything."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def display_path(path: Path | str) -> str:
    """A path as a writer would type it: relative to the working folder when inside it."""
    path = Path(path)
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive on Windows
        return path.as_posix()
    if rel.startswith(".."):
        return Path(os.path.abspath(path)).as_posix()
    return Path(rel).as_posix()


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean ...?)' suffix naming the closest choices, or ''."""
    import difflib  # only when there is a problem to suggest a fix for

    lowered = {c.casefold(): c for c in choices}
    close = difflib.get_close_matches(word.casefold(), list(lowered), n=3, cutoff=0.6)
    if not close:
        return ""
    names = " or ".join(f"'{lowered[c]}'" for c in close)
    return f" (did you mean {names}?)"


def errors_in(diagnostics: Iterable[Diagnostic], strict: bool = False) -> list[Diagnostic]:
    """The diagnostics that fail a run; with strict, warnings fail it too."""
    return [d for d in diagnostics if d.severity == ERROR or strict]
