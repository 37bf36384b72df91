"""Presets: public model configurations that fill a calculator's inputs in one click.

They live in ``content/presets.yaml``, each with a source. Only the published
configuration is written down; what follows from it (the parameter count, head
size, key/value width) is computed by the formulas, so a preset can never
disagree with the calculators it fills.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .diagnostics import Diagnostic, did_you_mean, display_path
from .formulakit import Registry, evaluate
from .schema import Field, validate
from .source import decode
from .yamldata import parse_yaml

PRESETS_NAME = "presets.yaml"
PRESET_FIELDS = (
    Field("title", "text", "title: Llama 2 7B", required=True),
    Field("source", "url", "source: https://huggingface.co/meta-llama/Llama-2-7b-hf", required=True),
)


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    source: str
    values: dict  # input name -> number or choice, as every formula reads it

    def applies_to(self, formula) -> bool:
        names = {i.name for i in formula.inputs}
        if not names & set(self.values):
            return False
        return formula.presets_when is None or formula.presets_when(self.values)


def derived_values(values: dict, registry: Registry) -> dict:
    """Add what a configuration implies: head size, key/value width and the parameter count."""
    values = dict(values)
    if "d_model" in values and "heads" in values:
        values.setdefault("head_dim", values["d_model"] / values["heads"])
        if "kv_heads" in values:
            values.setdefault("kv_dim", values["kv_heads"] * values["head_dim"])
    counter = registry.formulas.get("moe_transformer_params" if "experts" in values else "transformer_params")
    if counter and "params" not in values and all(i.name in values or i.is_choice or i.name == "positions"
                                                  for i in counter.inputs):
        known = {i.name: values[i.name] for i in counter.inputs if i.name in values}
        counted = evaluate(counter, known)
        values["params"] = counted["total"]
        if "experts" in values and values["experts"] > values.get("top_k", 2):
            # what the simple MoE formula asks for: one expert over all layers, and the rest
            values.setdefault("expert", (counted["total"] - counted["active"]) / (values["experts"] - values.get("top_k", 2)))
            values.setdefault("shared", counted["total"] - values["experts"] * values["expert"])
    return values


def load_presets(content_dir: Path, registry: Registry) -> tuple[list[Preset], list[Diagnostic]]:
    file = content_dir / PRESETS_NAME
    if not file.is_file():
        return [], []
    path = display_path(file)
    problems: list[Diagnostic] = []
    text, problems = decode(file.read_bytes(), path)
    if text is None:
        return [], problems
    parsed = parse_yaml(text)
    problems += [Diagnostic(path, line, message) for line, message in parsed.errors]
    if parsed.errors or parsed.value is None:
        return [], problems
    if not isinstance(parsed.value, dict):
        return [], problems + [Diagnostic(path, 1, "presets.yaml must map preset ids to {title, source, values}")]
    inputs = {}
    for formula in registry.formulas.values():
        for spec in formula.inputs:
            inputs.setdefault(spec.name, []).append(spec)
    presets = []
    for preset_id, entry in parsed.value.items():
        line = parsed.lines.get((preset_id,), 1)

        def report(at: int, message: str) -> None:
            problems.append(Diagnostic(path, at, f"preset '{preset_id}': {message}"))

        if not isinstance(entry, dict):
            report(line, "expected title, source and values")
            continue
        values = entry.get("values")
        fields = validate({k: v for k, v in entry.items() if k != "values"},
                          {k[1:]: v for k, v in parsed.lines.items() if k[:1] == (preset_id,)},
                          PRESET_FIELDS, report, default_line=line)
        if not isinstance(values, dict):
            report(parsed.lines.get((preset_id, "values"), line), "'values' must map input names to values")
            continue
        clean = {}
        for name, raw in values.items():
            at = parsed.lines.get((preset_id, "values", name), line)
            specs = inputs.get(name)
            if not specs:
                report(at, f"no formula has an input '{name}'{did_you_mean(name, inputs)}")
                continue
            value = raw if specs[0].is_choice else _number(raw)
            problem = next((p for p in (s.check(value) for s in specs) if p), None)
            if problem:
                report(at, problem)
                continue
            clean[name] = value
        if "title" in fields and "source" in fields:
            presets.append(Preset(str(preset_id), fields["title"], fields["source"], derived_values(clean, registry)))
    return presets, problems


def _number(raw: object) -> object:
    try:
        return float(str(raw).replace("_", ""))
    except ValueError:
        return raw  # the input's check reports it as not a number
