"""The search index, built once per build and loaded by the browser only when needed.

Two script files (scripts, not JSON, so they load from disk where fetch() is
refused): names first (slug, title, aliases, category: all a first result needs),
then summaries, for matching and for showing under each result. Both are also
the data of hover previews. Measured at 10,000 synthetic terms (see README):
the names file is about half of what the two weigh together.
"""

from __future__ import annotations

import json

NAMES_FILE = "assets/search-names.js"
SUMMARIES_FILE = "assets/search-summaries.js"


def _script(call: str, data) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return f"{call}({text});\n".encode("utf-8")


def search_files(terms: list[tuple[str, str, tuple[str, ...], str | None, str]]) -> dict[str, bytes]:
    """terms: (slug, title, aliases, category, summary) in index order -> the two index files."""
    categories = sorted({category for *_, category, _ in terms if category})
    number = {name: i for i, name in enumerate(categories)}
    names = [
        [slug, title, list(aliases), number[category] if category else -1]
        for slug, title, aliases, category, _ in terms
    ]
    return {
        NAMES_FILE: _script("GlossarySearch.names", {"categories": categories, "terms": names}),
        SUMMARIES_FILE: _script("GlossarySearch.summaries", [summary for *_, summary in terms]),
    }
