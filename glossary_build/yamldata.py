"""YAML as plain data with a line for every key and item.

PyYAML's constructors apply YAML 1.1 rules that surprise writers (``NO`` becomes
False, ``1.10`` becomes 1.1, dates shift with time zones). We compose nodes with
the safe (C when present) loader and convert them ourselves: every scalar stays
the text the writer typed, and the schema decides what a value means. Nothing in
a document can construct an object or run code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

try:  # the C loader is several times faster and composes the same nodes
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

NULLS = {"", "~", "null", "Null", "NULL"}
ALLOWED_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
}
MAX_NODES = 20_000  # aliases can make a small document expand without bound

@dataclass
class YamlResult:
    value: object = None
    lines: dict = field(default_factory=dict)  # key path -> line in the document (1-based)
    errors: list = field(default_factory=list)  # (line, message)


def parse_yaml(text: str, first_line: int = 1) -> YamlResult:
    """Parse one YAML document; lines are reported as if the text began at first_line."""
    result = YamlResult()
    offset = first_line  # node marks are 0-based
    for number, line in enumerate(text.split("\n")):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            result.errors.append(
                (offset + number, "tab used for indentation; YAML needs spaces")
            )
    if result.errors:
        return result
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = offset + mark.line if mark else first_line
        result.errors.append((line, "invalid YAML: " + _explain(exc)))
        return result
    except yaml.YAMLError as exc:
        result.errors.append((first_line, f"invalid YAML: {exc}"))
        return result
    if node is None:
        result.value = None
        return result
    budget = [MAX_NODES]
    result.value = _convert(node, (), result, offset, budget)
    return result


def _explain(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "cannot parse"
    if "mapping values are not allowed" in problem:
        return problem + " (put the value in quotes when it contains ': ')"
    if "expected a single document" in problem:
        return "a second YAML document; front matter holds one mapping"
    if "found character" in problem and "that cannot start any token" in problem:
        return problem + " (put the value in quotes)"
    return problem


def _convert(node, path, result: YamlResult, offset: int, budget: list):
    budget[0] -= 1
    line = node.start_mark.line + offset
    if budget[0] < 0:
        if budget[0] == -1:
            result.errors.append((line, f"YAML too large: more than {MAX_NODES} values (aliases?)"))
        return None
    result.lines.setdefault(path, line)
    if node.tag not in ALLOWED_TAGS:
        result.errors.append((line, f"YAML tag '{node.tag}' is not allowed; front matter is plain data"))
        return None
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.value in NULLS:
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, path + (index,), result, offset, budget)
            for index, item in enumerate(node.value)
        ]
    mapping: dict = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + offset
        if not isinstance(key_node, yaml.ScalarNode):
            result.errors.append((key_line, "a key must be plain text"))
            continue
        key = key_node.value
        if key in mapping:
            first = result.lines.get(path + (key,))
            result.errors.append(
                (key_line, f"duplicate key '{key}' (first given on line {first})")
            )
            continue
        result.lines[path + (key,)] = key_line
        mapping[key] = _convert(value_node, path + (key,), result, offset, budget)
        result.lines[path + (key,)] = key_line  # the key's line, not the value's
    return mapping


def line_of(lines: dict, path: tuple, default: int) -> int:
    """The line of a key path, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), default)
