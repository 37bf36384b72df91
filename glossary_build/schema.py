"""The shape of front matter and of glossary.yaml, declared once.

A table of fields drives validation, the error messages and the documentation:
each field says what it holds and gives an example a writer can copy.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Callable

from .diagnostics import did_you_mean
from .yamldata import line_of


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | texts | bool | number | date | url | records
    example: str
    required: bool = False
    record: tuple = ()  # sub-fields of each item when kind == "records"


def _record(*fields: Field) -> tuple:
    return tuple(fields)


TERM_FIELDS: tuple[Field, ...] = (
    Field("title", "text", "title: Mixture of Experts", required=True),
    Field("summary", "text", "summary: A layer design that runs only a few experts per token.", required=True),
    Field("aliases", "texts", "aliases: [MoE, sparse MoE]"),
    Field("category", "text", "category: Model architecture"),
    Field("tags", "texts", "tags: [efficiency, scaling]"),
    Field("related", "texts", "related: [parameter, Dense model]"),
    Field("calculators", "texts", "calculators: [moe_params]"),
    Field(
        "faqs", "records", "faqs:\n  - q: A question?\n    a: The answer.",
        record=_record(Field("q", "text", "q: A question?", True), Field("a", "text", "a: The answer.", True)),
    ),
    Field(
        "misconceptions", "records", "misconceptions:\n  - myth: ...\n    reality: ...",
        record=_record(Field("myth", "text", "myth: ...", True), Field("reality", "text", "reality: ...", True)),
    ),
    Field("takeaways", "texts", "takeaways: [First point, Second point]"),
    Field(
        "examples", "records", "examples:\n  - title: ...\n    text: ...",
        record=_record(Field("title", "text", "title: ..."), Field("text", "text", "text: ...", True)),
    ),
    Field(
        "sources", "records", "sources:\n  - title: ...\n    url: https://...",
        record=_record(Field("title", "text", "title: ...", True), Field("url", "url", "url: https://...")),
    ),
    Field("authors", "texts", "authors: [Ada Lovelace]"),
    Field("updated", "date", "updated: 2026-11-20"),
    Field("autolink", "bool", "autolink: false"),
    Field("draft", "bool", "draft: true"),
)

TRUE_WORDS = {"true"}
FALSE_WORDS = {"false"}
DATE_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[Tt ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{1,2}(?::?\d{2})?)?)?$"
)
URL_SCHEMES = ("http://", "https://", "mailto:")

Report = Callable[[int, str], None]


def _found(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"text '{value}'"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def validate(data: dict, lines: dict, fields: tuple, report: Report, default_line: int = 1) -> dict:
    """Check a mapping against a field table; return the clean values of valid fields."""
    by_name = {f.name: f for f in fields}
    clean: dict = {}
    for key, value in data.items():
        line = line_of(lines, (key,), default_line)
        spec = by_name.get(key)
        if spec is None:
            report(line, f"unknown key '{key}'{did_you_mean(key, by_name)}")
            continue
        checked = _check(spec, value, (key,), lines, report, line)
        if checked is not None:
            clean[key] = checked
    for spec in fields:
        if spec.required and spec.name not in data:
            report(default_line, f"missing required key '{spec.name}' (for example `{spec.example}`)")
    return clean


def _check(spec: Field, value: object, path: tuple, lines: dict, report: Report, line: int):
    label = ".".join(str(p) for p in path)
    if value is None:
        if spec.required:
            report(line, f"'{label}' is empty; expected {_expected(spec)}")
        return None
    if spec.kind in ("text", "url"):
        if not isinstance(value, str):
            report(line, f"'{label}' must be text (e.g. `{spec.example}`), found {_found(value)}")
            return None
        text = value.strip()
        local = text.startswith("/") and not text.startswith("//")
        if spec.kind == "url" and text and not text.startswith(URL_SCHEMES) and not local:
            report(line, f"'{label}' must be a web address starting with https://, found '{text}'")
            return None
        if spec.required and not text:
            report(line, f"'{label}' is empty; expected {_expected(spec)}")
            return None
        return text
    if spec.kind == "bool":
        word = value.strip().lower() if isinstance(value, str) else None
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        report(line, f"'{label}' must be true or false, found {_found(value)}")
        return None
    if spec.kind == "number":
        try:
            number = int(value) if isinstance(value, str) else None
        except ValueError:
            number = None
        if number is None or number < 1:
            report(line, f"'{label}' must be a whole number (e.g. `{spec.example}`), found {_found(value)}")
        return number
    if spec.kind == "date":
        day = parse_date(value)
        if day is None:
            report(line, f"'{label}' must be a date written YYYY-MM-DD (e.g. `{spec.example}`), found {_found(value)}")
        return day
    if spec.kind == "texts":
        if not isinstance(value, list):
            report(line, f"'{label}' must be a list (e.g. `{spec.example}`), found {_found(value)}")
            return None
        items = []
        for index, item in enumerate(value):
            item_line = line_of(lines, path + (index,), line)
            if not isinstance(item, str) or not item.strip():
                report(item_line, f"item {index + 1} of '{label}' must be text, found {_found(item)}")
                continue
            items.append(item.strip())
        return tuple(items)
    if spec.kind == "records":
        if not isinstance(value, list):
            example = " ".join(spec.example.split())
            report(line, f"'{label}' must be a list of entries (e.g. `{example}`), found {_found(value)}")
            return None
        records = []
        sub_by_name = {f.name: f for f in spec.record}
        for index, item in enumerate(value):
            item_line = line_of(lines, path + (index,), line)
            where = f"{label} item {index + 1}"
            if not isinstance(item, dict):
                keys = ", ".join(f.name for f in spec.record)
                report(item_line, f"{where} must be a mapping with {keys}, found {_found(item)}")
                continue
            ok = True
            clean = {}
            for key, sub_value in item.items():
                sub_line = line_of(lines, path + (index, key), item_line)
                sub = sub_by_name.get(key)
                if sub is None:
                    report(sub_line, f"unknown key '{key}' in {where}{did_you_mean(key, sub_by_name)}")
                    ok = False
                    continue
                checked = _check(sub, sub_value, path + (index, key), lines, report, sub_line)
                if checked is None and sub.required:
                    ok = False
                clean[key] = checked
            for sub in spec.record:
                if sub.required and sub.name not in item:
                    report(item_line, f"{where} is missing '{sub.name}' (e.g. `{sub.example}`)")
                    ok = False
            if ok:
                records.append(tuple(clean.get(sub.name) for sub in spec.record))
        return tuple(records)
    raise AssertionError(spec.kind)  # pragma: no cover - the table only uses the kinds above


def parse_date(value: object) -> str | None:
    """The calendar date as written (ISO text); a time or zone after it is ignored."""
    match = DATE_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    try:
        return datetime.date.fromisoformat(match.group(1)).isoformat()
    except ValueError:
        return None


def _expected(spec: Field) -> str:
    return f"a value such as `{spec.example}`"
