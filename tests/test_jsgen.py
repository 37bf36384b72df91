"""The generated JavaScript computes what Python computes, on hundreds of inputs per formula."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glossary_build import formats
from glossary_build.formulakit import Formula, Input, Registry, evaluate, format_value, load_formulas
from glossary_build.jsgen import CompileError, compile_formulas

REGISTRY, _ = load_formulas()
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None and not os.environ.get("CI"), reason="Node.js is not installed")

HARNESS = """
const fs = require("fs");
require(process.argv[2]);
const api = globalThis.GlossaryFormulas;
const job = JSON.parse(fs.readFileSync(0, "utf8"));
let out;
if (job.formula) {
  out = job.cases.map((values) => api.run(job.formula, values));
} else {
  out = job.cases.map((x) => api.formats[job.format](x));
}
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    folder = tmp_path_factory.mktemp("js")
    (folder / "formulas.js").write_text(compile_formulas(REGISTRY), encoding="utf-8")
    (folder / "harness.js").write_text(HARNESS, encoding="utf-8")

    def run(job: dict) -> list:
        done = subprocess.run(
            [NODE, str(folder / "harness.js"), str(folder / "formulas.js")],
            input=json.dumps(job), capture_output=True, text=True, check=True,
        )
        return json.loads(done.stdout)

    return run


def number_values(spec: Input):
    low, high = spec.min, spec.max
    strategies = [st.floats(low, high, allow_nan=False, allow_infinity=False)]
    if high < 2**53:
        strategies.append(st.integers(math.ceil(low), math.floor(high)).map(float))
    if spec.scale == "log":
        strategies.append(st.floats(math.log10(max(low, 1)), math.log10(high)).map(
            lambda e: min(max(10.0**e, low), high)))
    return st.one_of(strategies)


def input_values(formula: Formula):
    return st.fixed_dictionaries({
        spec.name: st.sampled_from([c for c, _ in spec.choices]) if spec.is_choice else number_values(spec)
        for spec in formula.inputs
    })


def edge_cases(formula: Formula) -> list[dict]:
    """Defaults, every minimum, every maximum and every choice, one change at a time."""
    cases = [formula.defaults()]
    for spec in formula.inputs:
        changes = [c for c, _ in spec.choices] if spec.is_choice else [spec.min, spec.max]
        cases += [dict(formula.defaults(), **{spec.name: value}) for value in changes]
    return cases


def python_results(formula: Formula, values: dict) -> dict:
    raw = evaluate(formula, values)
    return {name: {"value": value, "text": format_value(formula.output(name), value)} for name, value in raw.items()}


def assert_same(formula: Formula, values: dict, js: dict) -> None:
    expected = python_results(formula, values)
    for name, result in expected.items():
        assert js[name]["text"] == result["text"], (formula.name, values, name)
        assert math.isclose(js[name]["value"], result["value"], rel_tol=1e-9, abs_tol=0), (formula.name, values, name)


@pytest.mark.parametrize("name", sorted(REGISTRY.formulas))
def test_javascript_equals_python(name, node):
    formula = REGISTRY.formulas[name]
    cases = edge_cases(formula)

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(input_values(formula))
    def collect(values):
        cases.append(values)

    collect()
    assert len(cases) > 200
    for values, js in zip(cases, node({"formula": name, "cases": cases})):
        assert_same(formula, values, js)


NUMBERS = st.one_of(
    st.floats(-1e16, 1e16, allow_nan=False),
    st.integers(-10**15, 10**15).map(float),
    st.floats(-30, 30).map(lambda e: 10.0**e),
    st.sampled_from([0.0, 0.5, 1.5, 2.5, 0.125, 999.5, 999.4999, 99.95, 9.995, 0.0009995, 1e15, 123456789.0]),
)


@pytest.mark.parametrize("name", sorted(n for n in vars(formats) if n.startswith("fmt_")))
def test_formats_are_identical_in_both_languages(name, node):
    numbers = []

    @settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(NUMBERS)
    def collect(x):
        numbers.append(x)

    collect()
    function = getattr(formats, name)
    assert node({"format": name, "cases": numbers}) == [function(x) for x in numbers]


def test_formats_read_well():
    assert formats.fmt_count(6_738_415_616) == "6.74B"
    assert formats.fmt_count(999_999) == "1.00M"
    assert formats.fmt_count(785) == "785"
    assert formats.fmt_exact(124_439_808) == "124,439,808"
    assert formats.fmt_bytes(13_476_831_232) == "13.5 GB (12.6 GiB)"
    assert formats.fmt_bytes(512) == "512 bytes"
    assert formats.fmt_flops(3.15e23) == "3.15e23"
    assert formats.fmt_flops(1e-3) == "1.00e-3"
    assert formats.fmt_money(150) == "$150.00"
    assert formats.fmt_money(0.0015) == "$0.00150"
    assert formats.fmt_percent(0.000622) == "0.0622%"
    assert formats.fmt_number(-2.5) == "-2.50"
    assert formats.fixed(2.5, 0) == "3" and formats.fixed(-0.001, 2) == "0.00"


# -- what the compiler refuses ------------------------------------------------


def compile_one(source: str) -> str:
    namespace: dict = {}
    code = "from glossary_build.formulakit import Input, Output, formula, floor\n" + textwrap.dedent(source)
    path = "project_formulas.py"
    exec(compile(code, path, "exec"), namespace)  # noqa: S102 - the test's own source
    registry = Registry()
    registry.add(namespace["f"].formula)
    import linecache

    linecache.cache[path] = (len(code), None, code.splitlines(True), path)
    return compile_formulas(registry)


HEADER = """
@formula(title="T", inputs=[Input("x", "X", default=1, min=0, max=10)], outputs=[Output("y", "Y")])
def f(x):
"""


@pytest.mark.parametrize("body, complaint, line", [
    ("    return {'y': x // 2}", "'//' rounds differently in JavaScript; use floor(a / b)", 5),
    ("    return {'y': x % 2}", "'%' differs between Python and JavaScript", 5),
    ("    return {'y': x ** 2}", "'**' is not exact in both languages; write x * x", 5),
    ("    total = 0\n    for i in [1, 2]:\n        total += i\n    return {'y': total}", "'For' statements are not supported", 6),
    ("    import os\n    return {'y': 1}", "'Import' statements are not supported", 5),
    ("    return {'y': len(str(x))}", "'str' cannot be called from a formula", 5),
    ("    return {'y': (lambda: x)()}", "call functions by name", 5),
    ("    a, b = x, x\n    return {'y': a}", "assign to one plain name at a time", 5),
])
def test_unsupported_constructs_name_the_formula_and_line(body, complaint, line):
    with pytest.raises(CompileError) as raised:
        compile_one(HEADER + body + "\n")
    error = raised.value
    assert (error.path, error.line) == ("project_formulas.py", line)
    assert error.message.startswith("'f' cannot run in the browser: " + complaint)


def test_helpers_constants_and_reserved_names_compile_and_agree(tmp_path):
    script = compile_one(HEADER + "    new = helper(x) + TABLE['b']\n    return {'y': new if x > 1 else -new}\n\n"
                         "TABLE = {'a': 1, 'b': 2.5}\n\ndef helper(value):\n    return floor(value * 3 / 2)\n")
    assert "let new_;" in script and "const TABLE = " in script and "function helper(value)" in script
    (tmp_path / "f.js").write_text(script + "console.log(JSON.stringify([0, 1, 7].map((x) => globalThis.GlossaryFormulas.run('f', {x: x}).y.value)));")
    done = subprocess.run([NODE, str(tmp_path / "f.js")], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [-2.5, -3.5, 12.5]  # -(floor(0) + 2.5), -(floor(1.5) + 2.5), floor(10.5) + 2.5
