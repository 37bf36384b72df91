"""The two things a body may ask for inside {{ }}: a calculator and a figure.

Content is never evaluated as a template. The text between the braces is parsed
as one Python call expression and accepted only when it is ``calculator(...)``
or ``figure(...)`` with literal arguments; anything else is an error for the
writer, never code that runs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .diagnostics import did_you_mean
from .formulakit import Formula, Registry, evaluate, format_value, problems_with

MACRO_RE = r"\{\{([^\n]*?)\}\}"
MACROS = ("calculator", "figure")
MAX_MACRO_CHARS = 1000


class MacroError(ValueError):
    """A macro the writer has to fix; the message says how."""


@dataclass(frozen=True)
class Macro:
    kind: str  # "calculator" or "figure"
    formula: Formula
    values: dict = field(default_factory=dict)
    output: str | None = None


def _literal(node) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    raise MacroError("arguments must be literal strings or numbers")


def parse_macro(text: str, registry: Registry, presets: dict | None = None) -> Macro:
    """Turn the text inside {{ }} into a checked Macro, or raise MacroError saying what is wrong.

    ``preset="llama-2-7b"`` starts from a published model's values; other arguments override them.
    """
    presets = presets or {}
    usage = 'use {{ calculator("formula") }} or {{ figure("formula", name=value, ...) }}'
    if len(text) > MAX_MACRO_CHARS:
        raise MacroError(f"a macro is at most {MAX_MACRO_CHARS} characters long; {usage}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise MacroError(f"cannot read '{{{{{text}}}}}': {usage}") from None
    call = tree.body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        raise MacroError(f"'{{{{{text}}}}}' is not a macro; {usage}")
    kind = call.func.id
    if kind not in MACROS:
        raise MacroError(f"unknown macro '{kind}'{did_you_mean(kind, MACROS)}; {usage}")
    if len(call.args) != 1:
        raise MacroError(f"{kind}() takes the formula name as its one positional argument")
    name = _literal(call.args[0])
    if not isinstance(name, str):
        raise MacroError(f"{kind}() needs the formula name as a string")
    formula = registry.formulas.get(name)
    if formula is None:
        raise MacroError(f"unknown formula '{name}'{did_you_mean(name, registry.formulas)}; "
                         "`glossary formulas` lists them")
    values = {}
    output = None
    for keyword in call.keywords:
        if keyword.arg is None:
            raise MacroError("arguments must be written name=value")
        value = _literal(keyword.value)
        if keyword.arg == "output" and kind == "figure":
            output = value
        elif keyword.arg == "preset":
            preset = presets.get(value)
            if preset is None:
                raise MacroError(f"unknown preset '{value}'{did_you_mean(str(value), presets)} "
                                 "(presets are defined in content/presets.yaml)")
            values = {k: v for k, v in preset.values.items() if formula.input(k)} | values
        else:
            values[keyword.arg] = value
    problems = problems_with(formula, values)
    if problems:
        raise MacroError("; ".join(problems))
    if output is not None and formula.output(output) is None:
        names = [o.name for o in formula.outputs]
        raise MacroError(f"formula '{name}' has no output '{output}'{did_you_mean(str(output), names)} "
                         f"(outputs: {', '.join(names)})")
    return Macro(kind, formula, values, output)


def figure_text(macro: Macro) -> str:
    """The formatted result a figure shows, computed now by the same code as the calculators.

    Bytes, money and percentages carry their unit; counts and rates leave the noun to the writer.
    """
    output = macro.formula.output(macro.output) if macro.output else macro.formula.outputs[0]
    value = evaluate(macro.formula, macro.values)[output.name]
    return format_value(output, value)
