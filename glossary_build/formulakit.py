"""The machinery behind formulas: declarations, evaluation, and the registry.

A formula is a plain Python function written in a small subset of the language
(arithmetic, comparisons, if/else, local names, constant tables) plus declared
inputs and outputs. The same function runs at build time (figures, first results
of a calculator, `glossary calc`) and, compiled by ``jsgen``, in the browser.

Inputs are converted to float before a call, so Python and JavaScript do the
same IEEE arithmetic in the same order and agree to the last bit for + - * /.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

# -- functions a formula may call (each has a JavaScript twin in jsgen.BUILTINS) --


def floor(x: float) -> float:
    return float(math.floor(x))


def ceil(x: float) -> float:
    return float(math.ceil(x))


def sqrt(x: float) -> float:
    return math.sqrt(x)


def int_text(n: float) -> str:
    """The decimal digits of an integral number, exactly (JavaScript: BigInt(n).toString())."""
    return str(int(n))


# -- declarations --------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    default: float | str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    scale: str = "linear"  # "log" for inputs spanning many orders of magnitude (the slider only)
    help: str = ""

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def check(self, value: object) -> str | None:
        """Why value is not acceptable for this input, or None."""
        if self.is_choice:
            allowed = [c for c, _ in self.choices]
            if value not in allowed:
                return f"'{self.name}' must be one of {', '.join(allowed)}, not {value!r}"
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return f"'{self.name}' must be a number, not {value!r}"
        if self.min is not None and value < self.min:
            return f"'{self.name}' = {value:g} is below the minimum {self.min:g}"
        if self.max is not None and value > self.max:
            return f"'{self.name}' = {value:g} is above the maximum {self.max:g}"
        return None


@dataclass(frozen=True)
class Output:
    name: str
    label: str
    format: str = "number"  # a function fmt_<format> in glossary_build.formats
    unit: str = ""


@dataclass(frozen=True)
class Formula:
    name: str
    title: str
    function: Callable
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    source: str = ""  # a public reference for the arithmetic
    path: str = ""  # file and line of the definition, for diagnostics
    line: int = 0
    presets_when: Callable[[dict], bool] | None = None  # which model presets make sense here

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or "")

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)

    def output(self, name: str) -> Output | None:
        return next((o for o in self.outputs if o.name == name), None)

    def defaults(self) -> dict:
        return {i.name: i.default for i in self.inputs}


@dataclass
class Registry:
    formulas: dict[str, Formula] = field(default_factory=dict)

    def add(self, formula: Formula) -> None:
        if formula.name in self.formulas:
            raise ValueError(f"formula '{formula.name}' is defined twice")
        self.formulas[formula.name] = formula


def formula(title: str, inputs: list[Input], outputs: list[Output], source: str = "",
            presets_when: Callable[[dict], bool] | None = None):
    """Declare a formula; the module that defines it registers it when loaded."""

    def register(function: Callable) -> Callable:
        code = function.__code__
        declared = Formula(
            name=function.__name__, title=title, function=function,
            inputs=tuple(inputs), outputs=tuple(outputs), source=source,
            path=code.co_filename, line=code.co_firstlineno, presets_when=presets_when,
        )
        parameters = list(inspect.signature(function).parameters)
        if parameters != [i.name for i in inputs]:
            raise TypeError(
                f"formula '{function.__name__}': parameters {parameters} must match the inputs "
                f"{[i.name for i in inputs]} in order"
            )
        function.formula = declared
        return function

    return register


# -- evaluation ----------------------------------------------------------------


def problems_with(formula: Formula, values: dict) -> list[str]:
    """Every reason the values cannot be used: unknown names, wrong types, out of range."""
    found = []
    for name in values:
        if formula.input(name) is None:
            known = ", ".join(i.name for i in formula.inputs)
            found.append(f"formula '{formula.name}' has no input '{name}' (inputs: {known})")
    for spec in formula.inputs:
        if spec.name in values:
            problem = spec.check(values[spec.name])
            if problem:
                found.append(problem)
    return found


def evaluate(formula: Formula, values: dict | None = None) -> dict[str, float]:
    """Run a formula on values (defaults for the rest); raise ValueError on bad values."""
    values = values or {}
    found = problems_with(formula, values)
    if found:
        raise ValueError("; ".join(found))
    arguments = []
    for spec in formula.inputs:
        value = values.get(spec.name, spec.default)
        arguments.append(value if spec.is_choice else float(value))
    result = formula.function(*arguments)
    return {output.name: float(result[output.name]) for output in formula.outputs}


def format_value(output: Output, value: float) -> str:
    from . import formats

    return getattr(formats, f"fmt_{output.format}")(value)


def evaluate_formatted(formula: Formula, values: dict | None = None) -> dict[str, str]:
    raw = evaluate(formula, values)
    return {name: format_value(formula.output(name), value) for name, value in raw.items()}


# -- loading -------------------------------------------------------------------


def formulas_of(module) -> list[Formula]:
    """The formulas a module defines (not the ones it imports), in name order."""
    return [
        value.formula
        for _, value in sorted(vars(module).items())
        if isinstance(getattr(value, "formula", None), Formula) and value.__module__ == module.__name__
    ]


def load_formulas(project_file: Path | None = None) -> tuple[Registry, list]:
    """The built-in formulas plus a project's own formulas.py; returns (registry, project modules)."""
    from . import formulas as builtin

    registry = Registry()
    modules = [builtin]
    if project_file is not None and project_file.is_file():
        name = "glossary_project_formulas"
        spec = importlib.util.spec_from_file_location(name, project_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # inspect.getsource needs to find it
        spec.loader.exec_module(module)
        modules.append(module)
    for module in modules:
        for declared in formulas_of(module):
            registry.add(declared)
    return registry, modules
