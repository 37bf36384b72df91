"""`glossary new` and `glossary init`: files a writer starts from, never written over."""

from __future__ import annotations

import datetime
from pathlib import Path

from .source import slugify


class ScaffoldError(Exception):
    """Nothing was written; the message says why."""


def term_skeleton(title: str, today: datetime.date) -> str:
    """A term file that passes `glossary check` as it is, with every section shown."""
    quoted = title.replace("\\", "\\\\").replace('"', '\\"')
    return f"""---
title: "{quoted}"
summary: "One or two plain sentences that say what {quoted} is; shown in tooltips and search results."
aliases: []
# category: Model architecture
tags: []
related: []
# faqs:
#   - q: "A question readers ask?"
#     a: "The answer, in Markdown."
# misconceptions:
#   - myth: "What people get wrong."
#     reality: "What is true."
# takeaways: ["The one thing to remember."]
# sources:
#   - title: "A public reference"
#     url: "https://example.org/"
updated: {today.isoformat()}
---
Explain {title} here: how it works, why it matters, and a worked example.
Link other terms with `[[slug]]` or `[[slug|other text]]`; mentions of their titles link by themselves.
"""


def new_term(terms_dir: Path, title: str, today: datetime.date | None = None) -> Path:
    """Write content/terms/<slug>.md for a new term; refuse to overwrite anything."""
    title = " ".join(title.split())
    slug = slugify(title)
    if not slug:
        raise ScaffoldError(f"cannot make a file name from '{title}'; use letters or digits")
    path = terms_dir / f"{slug}.md"
    if path.exists():
        raise ScaffoldError(f"{path} already exists; edit it, or choose another name")
    terms_dir.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:  # "x": never replace a file that appeared meanwhile
        handle.write(term_skeleton(title, today or datetime.date.today()))
    return path


SAMPLE_FILES = {
    "glossary.yaml": """title: My Glossary
description: Plain explanations of the words we use.
# base_url: https://example.org/glossary/
""",
    ".gitignore": "/site/\n.glossary-cache/\n",
    "content/terms/glossary.md": """---
title: Glossary
summary: A list of terms with short explanations, each linked to the terms it mentions.
aliases: [glossaries]
category: Basics
related: [term]
updated: {today}
---
A glossary collects the words a field uses and explains each one on its own page.
Every [[term]] links to its neighbours, so a reader can follow an idea from page to page.
""",
    "content/terms/term.md": """---
title: Term
summary: One word or phrase that a glossary explains, with a page of its own.
aliases: [entry]
category: Basics
related: [glossary]
updated: {today}
---
A term is one entry of the glossary. Its page starts with a short summary,
then explains the idea with examples. Mentions of other terms, like this glossary,
become links by themselves.
""",
}


def init_project(folder: Path, today: datetime.date | None = None) -> list[Path]:
    """Start a glossary project in folder (new or empty); return the files written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScaffoldError(f"{folder} is not an empty folder; choose a new one")
    day = (today or datetime.date.today()).isoformat()
    written = []
    for name, text in SAMPLE_FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{today}", day), encoding="utf-8")
        written.append(path)
    return written
