"""{{ figure() }} and {{ calculator() }} in bodies: computed at build time, errors with their line."""

from __future__ import annotations

from bs4 import BeautifulSoup
from click.testing import CliRunner

from conftest import REPO, messages, page, run_build, run_check, term_text, terms
from glossary_build.cli import main
from glossary_build.formulakit import evaluate_formatted, load_formulas

REGISTRY, _ = load_formulas()
PRESETS = {"content/presets.yaml": (REPO / "content" / "presets.yaml").read_text(encoding="utf-8")}


def body_html(make_site, body: str, **fields) -> BeautifulSoup:
    root = make_site(terms(page=term_text("Page", body=body, **fields)) | PRESETS)
    result = run_check(root)
    assert messages(result) == []
    return BeautifulSoup(result.glossary.rendered["page"].body, "html.parser")


def test_figure_shows_the_formatted_python_result(make_site):
    soup = body_html(make_site, 'A 7B model in fp16 needs {{ figure("weight_memory", params=7e9, precision="fp16") }}.')
    expected = evaluate_formatted(REGISTRY.formulas["weight_memory"], {"params": 7e9, "precision": "fp16"})["bytes"]
    assert soup.select_one("span.figure").get_text() == expected
    assert soup.get_text() == f"A 7B model in fp16 needs {expected}."


def test_figure_output_picks_one_of_several(make_site):
    soup = body_html(make_site, 'Active: {{ figure("moe_params", output="active", shared=1e9, expert=2e9) }}')
    expected = evaluate_formatted(REGISTRY.formulas["moe_params"], {"shared": 1e9, "expert": 2e9})["active"]
    assert soup.select_one("span.figure").get_text() == expected


def test_macros_in_code_stay_literal(make_site):
    soup = body_html(make_site, 'Write `{{ figure("weight_memory") }}`.\n\n```\n{{ calculator("kv_cache") }}\n```\n')
    assert [c.get_text() for c in soup.find_all("code")] == ['{{ figure("weight_memory") }}', '{{ calculator("kv_cache") }}\n']
    assert soup.find("form") is None


def test_calculator_in_body_renders_an_accessible_form_with_build_time_results(make_site):
    soup = body_html(make_site, 'Try it:\n\n{{ calculator("weight_memory", params=13e9) }}\n\nAfter.')
    form = soup.select_one("form.calculator")
    assert form.parent.name != "p"  # a block of its own, not inside a paragraph
    number = form.select_one("input[type=number][name=params]")
    assert number["value"] == "13000000000"
    assert form.select_one(f"label[for='{number['id']}']").get_text(" ", strip=True) == "Parameters (parameters)"
    select = form.select_one("select[name=precision]")
    assert form.select_one(f"label[for='{select['id']}']") is not None
    results = form.select_one(".calc-results")
    assert results["aria-live"] == "polite"
    expected = evaluate_formatted(REGISTRY.formulas["weight_memory"], {"params": 13e9})["bytes"]
    assert results.select_one("output[name=bytes]").get_text() == expected
    assert [b.get_text() for b in form.select("button[data-preset]")][:2] == ["Llama 2 7B", "Llama 2 13B"]


def test_two_calculators_of_one_formula_get_distinct_ids(make_site):
    soup = body_html(make_site, '{{ calculator("kv_cache") }}\n\n{{ calculator("kv_cache") }}', calculators=["kv_cache"])
    ids = [form["id"] for form in soup.select("form")]
    assert ids == ["calc-kv_cache", "calc-kv_cache-2"]


def test_front_matter_calculators_follow_the_body_and_load_scripts(make_site):
    root = make_site(terms(page=term_text("Page", body="Text.", calculators=["token_cost"]),
                           other=term_text("Other", body="See page.")) | PRESETS)
    run_build(root)
    doc = page(root, "terms/page/index.html")
    section = doc.select_one("section.calculators")
    assert section.select_one("form")["data-formula"] == "token_cost"
    assert [s["src"] for s in doc.find_all("script", src=True)] == [
        "../../assets/glossary.js", "../../assets/formulas.js", "../../assets/calculator.js"]
    assert all(s.get("type") == "application/ld+json" for s in doc.find_all("script", src=False))  # no inline code
    assert [s["src"] for s in page(root, "terms/other/index.html").find_all("script", src=True)] == [
        "../../assets/glossary.js"]  # calculator code only where there is a calculator


def test_macro_problems_are_reported_with_their_lines(make_site):
    body = ("Fine.\n"
            '{{ figure("weight_memry", params=7e9) }}\n'
            '{{ calculator("kv_cache", seq_len=-5) }}\n'
            "{{ config.secret }}\n"
            '{{ figure("weight_memory", output="nope") }}\n'
            '{{ figure("weight_memory", params=__import__("os")) }}\n'
            '{{ lookup("x") }}\n')
    root = make_site(terms(page=term_text("Page", body=body, calculators=["kv_cach"])))
    assert messages(run_check(root)) == [
        "content/terms/page.md:4: error: unknown calculator 'kv_cach' (did you mean 'kv_cache'?); `glossary formulas` lists them",
        "content/terms/page.md:7: error: unknown formula 'weight_memry' (did you mean 'weight_memory'?); `glossary formulas` lists them",
        "content/terms/page.md:8: error: 'seq_len' = -5 is below the minimum 1",
        "content/terms/page.md:9: error: '{{ config.secret }}' is not a macro; use {{ calculator(\"formula\") }} or {{ figure(\"formula\", name=value, ...) }}",
        "content/terms/page.md:10: error: formula 'weight_memory' has no output 'nope' (outputs: bytes)",
        "content/terms/page.md:11: error: arguments must be literal strings or numbers",
        "content/terms/page.md:12: error: unknown macro 'lookup'; use {{ calculator(\"formula\") }} or {{ figure(\"formula\", name=value, ...) }}",
    ]


def test_calc_command_prints_every_output():
    result = CliRunner().invoke(main, ["calc", "weight_memory", "params=7e9", "precision=int4", "--raw"])
    assert result.exit_code == 0
    assert result.stdout == "Weight memory  3.50 GB (3.26 GiB)  [bytes = 3500000000.0]\n"


def test_calc_command_errors_are_one_line():
    runner = CliRunner()
    assert runner.invoke(main, ["calc", "weight_memory", "params=lots"]).stderr == "Error: 'params' must be a number, not 'lots'\n"
    result = runner.invoke(main, ["calc", "weight_memory", "parms=1"])
    assert result.exit_code == 1
    assert "has no input 'parms' (did you mean 'params'?)" in result.stderr


def test_formulas_command_lists_inputs_defaults_and_outputs():
    text = CliRunner().invoke(main, ["formulas"]).stdout
    block = text.split("weight_memory - ")[1].split("\n\n")[0].splitlines()
    assert block[:4] == [
        "Memory for model weights",
        "    params = 7e+09  (1 to 1e+13 parameters)  Parameters",
        "    precision = bf16  (fp32 | fp16 | bf16 | fp8 | int8 | int4)  Precision",
        "    -> bytes",
    ]


def test_presets_fill_figures_and_calculators(make_site):
    soup = body_html(make_site, 'GPT-2 small has {{ figure("transformer_params", preset="gpt-2-small") }} parameters.\n\n'
                                '{{ calculator("kv_cache", preset="llama-2-7b", batch=4) }}')
    assert soup.select_one("span.figure").get_text() == "124,439,808"
    form = soup.select_one("form")
    assert form.select_one("input[name=seq_len]")["value"] == "4096"
    assert form.select_one("input[name=batch]")["value"] == "4"


def test_unknown_preset_is_an_error(make_site):
    root = make_site(terms(page=term_text("Page", body='{{ figure("weight_memory", preset="llama-9") }}')) | PRESETS)
    (message,) = messages(run_check(root))
    assert message.startswith("content/terms/page.md:5: error: unknown preset 'llama-9'")


def test_calc_command_starts_from_a_preset(monkeypatch):
    monkeypatch.chdir(REPO)  # the shipped project and its content/presets.yaml
    result = CliRunner().invoke(main, ["calc", "transformer_params", "preset=gpt-2-small"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split()[-2] == "124,439,808"
    longer = CliRunner().invoke(main, ["calc", "kv_cache", "preset=llama-2-70b", "seq_len=8192"])
    expected = evaluate_formatted(REGISTRY.formulas["kv_cache"],
                                  {"layers": 80, "kv_heads": 8, "head_dim": 128, "seq_len": 8192})["bytes"]
    assert longer.stdout.splitlines()[0].endswith(expected)
    unknown = CliRunner().invoke(main, ["calc", "weight_memory", "preset=gpt2"])
    assert unknown.exit_code == 1 and "unknown preset 'gpt2'" in unknown.stderr
