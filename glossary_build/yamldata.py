"""YAML as plain data with a line for every key and item.

PyYAML's constructors apply YAML 1.1 rules that surprise writers (``NO`` becomes
False, ``1.10`` becomes 1.1, dates shift with time zones). We compose nodes with
the base (C when present) loader and convert them ourselves: every scalar stays
the text the writer typed, and the schema decides what a value means. Nothing in
a document can construct an object or run code, and aliases can neither loop nor
expand without bound.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import yaml

try:  # the C loader is several times faster and composes the same nodes
    _Loader = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.BaseLoader
# The base loaders guess no types (every plain scalar is tagged str), which is all we
# need: we never construct objects, and the schema decides what a value means. It also
# saves a regular-expression guess per scalar.

NULLS = {"", "~", "null", "Null", "NULL"}
ALLOWED_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}
MAX_NODES = 20_000  # aliases can make a small document expand without bound
MAX_DEPTH = 50  # nothing a glossary needs is nested this deep
YAML_LINE_BREAKS = ("\u2028", "\u2029", "\x85")  # YAML counts these as new lines; editors do not


@dataclass
class YamlResult:
    value: object = None
    lines: dict = field(default_factory=dict)  # key path -> line in the document (1-based)
    errors: list = field(default_factory=list)  # (line, message)


def parse_yaml(text: str, first_line: int = 1) -> YamlResult:
    """Parse one YAML document; lines are reported as if the text began at first_line."""
    result = YamlResult()
    for number, line in enumerate(text.split("\n")):
        if line.lstrip(" ").startswith("\t"):
            result.errors.append((first_line + number, "tab used for indentation; YAML needs spaces"))
    if result.errors:
        return result
    lines = _LineFinder(text, first_line)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        result.errors.append((lines.at(exc.position),
                              f"control character U+{ord(character):04X} is not allowed; remove it"))
        return result
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        result.errors.append((lines.of(mark) if mark else first_line, "invalid YAML: " + _explain(exc)))
        return result
    except yaml.YAMLError as exc:
        result.errors.append((first_line, "invalid YAML: " + str(exc).replace("\n", " ")))
        return result
    except RecursionError:
        result.errors.append((first_line, f"invalid YAML: nested more than {MAX_DEPTH} levels deep"))
        return result
    if node is not None:
        result.value = _Converter(result, lines).convert(node, ())
    return result


def _explain(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "cannot parse"
    context = exc.context or ""
    if "mapping values are not allowed" in problem:
        return problem + " (put the value in quotes when it contains ': ')"
    if "expected a single document" in problem + context or "another document" in problem + context:
        return "a second YAML document ('---' inside the front matter); front matter holds one mapping"
    if "found character" in problem and "that cannot start any token" in problem:
        return problem + " (put the value in quotes)"
    return problem


class _LineFinder:
    """File line numbers for YAML marks, counting only the line breaks an editor shows."""

    def __init__(self, text: str, first_line: int):
        self.text = text
        self.first_line = first_line
        self.starts = self._starts() if any(mark in text for mark in YAML_LINE_BREAKS) else None

    def _starts(self) -> list[int]:
        return [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]

    def at(self, index: int) -> int:
        starts = self.starts if self.starts is not None else self._starts()
        return self.first_line + bisect.bisect_right(starts, index) - 1

    def of(self, mark) -> int:
        return self.at(mark.index) if self.starts is not None else self.first_line + mark.line


class _Converter:
    def __init__(self, result: YamlResult, lines: _LineFinder):
        self.result = result
        self.lines = lines
        self.budget = MAX_NODES
        self.open: set[int] = set()  # nodes being converted: an alias to one of them is a loop

    def error(self, line: int, message: str) -> None:
        self.result.errors.append((line, message))

    def convert(self, node, path: tuple):
        line = self.lines.of(node.start_mark)
        self.budget -= 1
        if self.budget < 0:
            if self.budget == -1:
                self.error(line, f"YAML too large: more than {MAX_NODES:,} values (aliases?)")
            return None
        if len(path) > MAX_DEPTH:
            self.error(line, f"nested more than {MAX_DEPTH} levels deep")
            return None
        if id(node) in self.open:
            self.error(line, "an alias refers to the value that contains it")
            return None
        self.result.lines.setdefault(path, line)
        if node.tag not in ALLOWED_TAGS:
            self.error(line, f"YAML tag '{node.tag}' is not allowed; this file holds plain data")
            return None
        if isinstance(node, yaml.ScalarNode):
            if not node.style and node.value in NULLS:  # plain style: None (pure loader) or "" (C loader)
                return None
            return node.value
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.convert(item, path + (index,)) for index, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.open.discard(id(node))

    def mapping(self, node, path: tuple) -> dict:
        mapping: dict = {}
        for key_node, value_node in node.value:
            key_line = self.lines.of(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_line, "a key must be plain text")
                continue
            key = key_node.value
            if key in mapping:
                first = self.result.lines.get(path + (key,))
                self.error(key_line, f"duplicate key '{key}' (first given on line {first})")
                continue
            mapping[key] = self.convert(value_node, path + (key,))
            self.result.lines[path + (key,)] = key_line  # the key's line, not the value's
        return mapping


def line_of(lines: dict, path: tuple, default: int) -> int:
    """The line of a key path, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), default)
