"""`glossary calc` and `glossary formulas`: the formulas from the command line."""

from __future__ import annotations

from .diagnostics import did_you_mean
from .formulakit import Formula, Registry, evaluate, format_value


class CalcError(ValueError):
    """A mistake on the command line; the message says how to fix it."""


def parse_assignments(formula: Formula, assignments: list[str], presets: dict | None = None) -> dict:
    """['preset=llama-2-7b', 'precision=fp16'] -> the preset's values for this formula, then the rest."""
    values = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep:
            raise CalcError(f"expected name=value, got '{assignment}'")
        if name.strip() == "preset":
            preset = (presets or {}).get(text.strip())
            if preset is None:
                raise CalcError(f"unknown preset '{text.strip()}'{did_you_mean(text.strip(), presets or {})} "
                                "(presets are defined in content/presets.yaml)")
            values.update({k: v for k, v in preset.values.items() if formula.input(k)})
            continue
        spec = formula.input(name.strip())
        if spec is None:
            names = [i.name for i in formula.inputs]
            raise CalcError(f"formula '{formula.name}' has no input '{name}'{did_you_mean(name, names)} "
                            f"(inputs: {', '.join(names)})")
        if spec.is_choice:
            values[spec.name] = text.strip()
        else:
            try:
                values[spec.name] = float(text.replace("_", "").replace(",", ""))
            except ValueError:
                raise CalcError(f"'{spec.name}' must be a number, not '{text}'") from None
    return values


def calculate(registry: Registry, name: str, assignments: list[str], raw: bool = False,
              presets: dict | None = None) -> list[str]:
    """The lines `glossary calc` prints: each output with its label, formatted (and raw)."""
    formula = registry.formulas.get(name)
    if formula is None:
        raise CalcError(f"unknown formula '{name}'{did_you_mean(name, registry.formulas)}; "
                        "`glossary formulas` lists them")
    values = parse_assignments(formula, assignments, presets)
    try:
        results = evaluate(formula, values)
    except ValueError as error:
        raise CalcError(str(error)) from None
    width = max(len(o.label) for o in formula.outputs)
    lines = []
    for output in formula.outputs:
        text = format_value(output, results[output.name])
        unit = f" {output.unit}" if output.unit and output.format not in ("bytes", "money", "percent") else ""
        line = f"{output.label:<{width}}  {text}{unit}"
        if raw:
            line += f"  [{output.name} = {results[output.name]!r}]"
        lines.append(line)
    return lines


def describe(registry: Registry) -> list[str]:
    """`glossary formulas`: every formula with its inputs (and defaults) and outputs."""
    lines = []
    for name in sorted(registry.formulas):
        formula = registry.formulas[name]
        lines.append(f"{name} - {formula.title}")
        for spec in formula.inputs:
            if spec.is_choice:
                allowed = " | ".join(value for value, _ in spec.choices)
                lines.append(f"    {spec.name} = {spec.default}  ({allowed})  {spec.label}")
            else:
                bounds = f"{spec.min:g} to {spec.max:g}" if spec.min is not None and spec.max is not None else ""
                unit = f" {spec.unit}" if spec.unit else ""
                lines.append(f"    {spec.name} = {spec.default:g}  ({bounds}{unit})  {spec.label}")
        outputs = ", ".join(o.name for o in formula.outputs)
        lines.append(f"    -> {outputs}")
    return lines
