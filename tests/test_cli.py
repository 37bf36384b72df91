"""The command line through click's CliRunner: messages, exit codes, no tracebacks."""

from __future__ import annotations

from click.testing import CliRunner

from conftest import term_text, terms, tree_bytes
from glossary_build import __version__
from glossary_build.cli import main

GOOD = terms(
    alpha=term_text("Alpha", "First.", body="Before beta."),
    beta=term_text("Beta", "Second.", body="After alpha."),
)


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_build_writes_the_site_and_prints_a_summary(make_site):
    root = make_site(GOOD)
    result = invoke("build")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Built 2 terms into site/: 15 files written, 0 unchanged, 0 errors, 0 warnings, ")
    again = invoke("build")
    assert again.stdout.startswith("Built 2 terms into site/: 0 files written, 15 unchanged, 0 errors, 0 warnings, ")
    assert (root / "site" / "terms" / "alpha" / "index.html").is_file()
    (root / "content" / "terms" / "alpha.md").write_text(GOOD["content/terms/alpha.md"] + "\nOne more line.\n")
    edited = invoke("build")
    assert edited.stdout.startswith("Built 2 terms into site/: 1 file written, 14 unchanged, 0 errors, 0 warnings, ")


def test_build_with_src_out_and_base_url(make_site, tmp_path):
    make_site(GOOD, root=tmp_path / "project")
    result = invoke("build", "--src", "project", "--out", "public", "--base-url", "https://example.org")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "public" / "terms" / "alpha" / "index.html").read_text()
    assert '<link rel="canonical" href="https://example.org/terms/alpha/">' in html


def test_failed_build_lists_every_problem_and_keeps_the_site(make_site):
    root = make_site(GOOD)
    assert invoke("build").exit_code == 0
    before = tree_bytes(root / "site")
    make_site(terms(
        alpha=term_text("Alpha", "First.", body="Before beta and [[betta]]."),
        gamma="---\ntitle: Gamma\nsumary: x\n---\nAlpha.\n",
    ))
    result = invoke("build")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "content/terms/alpha.md:5: error: broken link [[betta]]: no term has this slug, title or alias (did you mean 'Beta'?)",
        "content/terms/gamma.md:1: error: missing required key 'summary' (for example `summary: A layer design that runs only a few experts per token.`)",
        "content/terms/gamma.md:3: error: unknown key 'sumary' (did you mean 'summary'?)",
        "Error: build failed (3 errors, 0 warnings); site was not changed",
    ]
    assert "Traceback" not in result.output
    assert tree_bytes(root / "site") == before


def test_refused_output_is_one_line_without_traceback(make_site):
    root = make_site(GOOD | {"site/notes.txt": "mine"})
    result = invoke("build")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: refusing to replace 'site': it is not empty and was not written by glossary")
    assert len(result.stderr.splitlines()) == 1
    assert (root / "site" / "notes.txt").read_text() == "mine"


def test_check_reports_and_writes_nothing(make_site):
    root = make_site(GOOD)
    result = invoke("check")
    assert result.exit_code == 0
    assert result.stdout == "Checked 2 terms: 0 errors, 0 warnings\n"
    assert not (root / "site").exists()


def test_strict_fails_on_warnings(make_site):
    make_site(terms(alpha=term_text("Alpha", body="Before beta."), beta=term_text("Beta", body="Nothing.")))
    assert invoke("check").exit_code == 0
    result = invoke("check", "--strict")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "content/terms/alpha.md:1: warning: orphan: no other term links to this one; mention it or link it with [[...]]"
    )


def test_config_errors_are_reported_with_the_term_problems(make_site):
    make_site(GOOD | {"glossary.yaml": "title: T\nbase_ulr: https://x.org/\n"})
    result = invoke("check")
    assert result.exit_code == 1
    assert "glossary.yaml:2: error: unknown key 'base_ulr' (did you mean 'base_url'?)" in result.stderr


def test_version_and_help():
    assert invoke("--version").output == f"glossary, version {__version__}\n"
    help_text = invoke("--help").output
    assert "build" in help_text and "check" in help_text
    assert "Examples:" in invoke("build", "--help").output


def test_check_json_lists_diagnostics(make_site):
    import json

    make_site(terms(alpha=term_text("Alpha", body="Before beta."), beta=term_text("Beta", body="Nothing.")))
    loose = invoke("check", "--format", "json")
    assert loose.exit_code == 0
    data = json.loads(loose.stdout)
    assert data["ok"] is True and data["terms"] == 2
    assert data["diagnostics"] == [{
        "path": "content/terms/alpha.md", "line": 1, "severity": "warning",
        "message": "orphan: no other term links to this one; mention it or link it with [[...]]",
    }]
    strict = invoke("check", "--format", "json", "--strict")
    assert strict.exit_code == 1 and json.loads(strict.stdout)["ok"] is False


def test_quiet_and_verbose_builds(make_site):
    make_site(GOOD)
    assert invoke("build", "-q").output == ""
    verbose = invoke("build", "-v", "--clean").stdout.splitlines()
    assert "  wrote terms/alpha/index.html" in verbose
    assert verbose[-1].startswith("Built 2 terms")


def test_every_command_has_help_with_examples():
    for command in ["build", "check", "serve", "new", "init", "calc", "formulas"]:
        text = invoke(command, "--help").output
        assert "Examples:" in text, command
