"""Loading term files: every problem as path:line, and YAML that keeps the writer's text."""

from __future__ import annotations

import pytest

from conftest import messages, run_check, term_text, terms
from glossary_build.source import decode, load_terms, parse_term

P = "content/terms/x.md"


def problems_of(text: str, slug: str = "x") -> list[str]:
    return [d.format() for d in parse_term(text, slug, P)[1]]


def parsed(text: str):
    term, problems = parse_term(text, "x", P)
    assert problems == []
    return term


GOOD = "---\ntitle: X\nsummary: An x.\n---\nBody.\n"


def test_a_valid_file_parses_into_a_term():
    term = parsed("---\ntitle: Mixture of Experts\nsummary: A layer.\naliases: [MoE]\n"
                  "faqs:\n  - q: Why?\n    a: Because.\nupdated: 2026-11-20\n---\nThe body.\n")
    assert term.title == "Mixture of Experts"
    assert term.aliases == ("MoE",)
    assert term.faqs[0].question == "Why?" and term.faqs[0].answer == "Because."
    assert term.updated == "2026-11-20"
    assert term.body_line == 10


def test_yaml_syntax_error_reports_the_file_line():
    text = "---\ntitle: X\nsummary: An x.\naliases: [a, b\ncategory: c\n---\nBody\n"
    (message,) = problems_of(text)
    assert message.startswith(f"{P}:5: error: invalid YAML")


def test_colon_in_value_suggests_quotes():
    (message,) = problems_of("---\ntitle: X\nsummary: Ratio: two to one\n---\nBody\n")
    assert message.startswith(f"{P}:3: error: invalid YAML: mapping values are not allowed")
    assert "quotes" in message


def test_missing_closing_fence():
    assert problems_of("---\ntitle: X\nsummary: An x.\nBody\n") == [
        f"{P}:1: error: front matter is not closed: add a line '---' after the last key"
    ]


def test_no_front_matter():
    (message,) = problems_of("# Title\n\nJust Markdown.\n")
    assert message.startswith(f"{P}:1: error: no front matter")


def test_front_matter_must_be_a_mapping():
    (message,) = problems_of("---\n- title\n- summary\n---\nBody\n")
    assert message.startswith(f"{P}:2: error: front matter must be a mapping")


def test_duplicate_key_names_both_lines():
    assert problems_of("---\ntitle: X\nsummary: An x.\ntitle: Y\n---\nBody\n") == [
        f"{P}:4: error: duplicate key 'title' (first given on line 2)"
    ]


def test_tab_indentation():
    text = "---\ntitle: X\nsummary: An x.\nfaqs:\n\t- q: a\n---\nBody\n"
    assert problems_of(text) == [f"{P}:5: error: tab used for indentation; YAML needs spaces"]


def test_unknown_key_suggests_the_nearest():
    text = "---\ntitle: X\nsummary: An x.\nrelatd: [y]\n---\nBody\n"
    assert problems_of(text) == [f"{P}:4: error: unknown key 'relatd' (did you mean 'related'?)"]


def test_missing_required_keys_are_all_reported():
    found = problems_of("---\naliases: [y]\n---\nBody\n")
    assert [m.split(": error: ")[1].split(" (")[0] for m in found] == [
        "missing required key 'title'", "missing required key 'summary'"
    ]
    assert all(m.startswith(f"{P}:1:") for m in found)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("aliases: foo", "'aliases' must be a list (e.g. `aliases: [MoE, sparse MoE]`), found text 'foo'"),
        ("title2: [a]", "unknown key 'title2' (did you mean 'title'?)"),
        ("draft: maybe", "'draft' must be true or false, found text 'maybe'"),
        ("updated: next week", "'updated' must be a date written YYYY-MM-DD (e.g. `updated: 2026-11-20`), found text 'next week'"),
        ("updated: 2026-02-30", "'updated' must be a date written YYYY-MM-DD (e.g. `updated: 2026-11-20`), found text '2026-02-30'"),
        ("tags: [a, [b]]", "item 2 of 'tags' must be text, found a list"),
        ("sources: [{title: Paper, url: 'javascript:alert(1)'}]", "'sources.0.url' must be a web address starting with https://, found 'javascript:alert(1)'"),
    ],
)
def test_wrong_types_name_the_field_and_what_was_expected(line, expected):
    assert problems_of(f"---\ntitle: X\nsummary: An x.\n{line}\n---\nBody\n") == [f"{P}:4: error: {expected}"]


def test_title_must_be_text():
    assert problems_of("---\ntitle: [a]\nsummary: An x.\n---\nBody\n") == [
        f"{P}:2: error: 'title' must be text (e.g. `title: Mixture of Experts`), found a list"
    ]


def test_faq_without_answer_points_at_the_item():
    text = "---\ntitle: X\nsummary: An x.\nfaqs:\n  - q: One?\n    a: Yes.\n  - q: Two?\n---\nBody\n"
    assert problems_of(text) == [f"{P}:7: error: faqs item 2 is missing 'a' (e.g. `a: The answer.`)"]


def test_unknown_key_inside_an_item():
    text = "---\ntitle: X\nsummary: An x.\nfaqs:\n  - q: One?\n    answer: Yes.\n---\nBody\n"
    found = problems_of(text)
    assert f"{P}:6: error: unknown key 'answer' in faqs item 1" in found[0]


def test_bad_slug_suggests_a_file_name():
    assert problems_of(GOOD, slug="Mixture_of Experts") == [
        f"{P}:1: error: bad file name 'Mixture_of Experts.md': use lowercase letters, digits and hyphens "
        "(rename it to mixture-of-experts.md)"
    ]


def test_empty_body_points_at_the_closing_fence():
    assert problems_of("---\ntitle: X\nsummary: An x.\n---\n\n  \n") == [
        f"{P}:4: error: empty body: write the explanation below this closing '---'"
    ]


def test_all_problems_of_a_file_in_one_run():
    text = "---\ntitle: X\nsumary: An x.\naliases: foo\n---\n"
    assert sorted(m.split(": error: ")[0] for m in problems_of(text)) == [
        f"{P}:1", f"{P}:3", f"{P}:4", f"{P}:5",  # missing summary, 'sumary', 'aliases', empty body
    ]


def test_yaml_11_surprises_stay_text():
    term = parsed("---\ntitle: 1.10\nsummary: 0x1F\naliases: [NO, yes, on, ~x, 012]\n---\nBody\n")
    assert term.title == "1.10"
    assert term.summary == "0x1F"
    assert term.aliases == ("NO", "yes", "on", "~x", "012")


@pytest.mark.parametrize("written", ["2026-11-20", "2026-11-20T23:30:00-10:00", "2026-11-20 01:00:00 +14:00", "2026-11-20T23:59:59Z"])
def test_dates_are_the_calendar_date_as_written(written, monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    assert parsed(f"---\ntitle: X\nsummary: An x.\nupdated: {written}\n---\nBody\n").updated == "2026-11-20"


def test_yaml_tags_are_refused_not_constructed():
    text = "---\ntitle: !!python/object/apply:os.system [echo hi]\nsummary: An x.\n---\nBody\n"
    (message,) = problems_of(text)
    assert message.startswith(f"{P}:2: error: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed")


def test_alias_bombs_are_bounded():
    lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 9)]
    lines += ["title: X", "summary: An x.", "---", "Body"]
    found = problems_of("\n".join(lines))
    assert any("YAML too large" in m for m in found)


def test_bom_and_crlf_give_the_same_term():
    plain, _ = decode(GOOD.encode(), P)
    windows, _ = decode(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode(), P)
    assert plain == windows
    assert parse_term(windows, "x", P)[0] == parse_term(plain, "x", P)[0]


def test_invalid_utf8_names_the_file_and_line():
    text, found = decode(b"---\ntitle: Caf\xe9\n", P)
    assert text is None
    assert [d.format() for d in found] == [
        f"{P}:2: error: not valid UTF-8 (byte 0xe9); save the file with UTF-8 encoding"
    ]


def test_editor_leftovers_are_ignored(make_site, tmp_path):
    leftovers = [".#x.md", "x.md~", ".x.md.swp", "._x.md", "#x.md#"]
    make_site({f"content/terms/{name}": "not a term" for name in leftovers}
              | terms(x=term_text("X", body="Body")))
    loaded, problems = load_terms(tmp_path / "content" / "terms")
    assert [t.slug for t in loaded] == ["x"]
    assert problems == []


def test_problems_from_every_file_in_one_run(make_site):
    root = make_site(terms(
        a=term_text("A", body="See [[nowhere]]."),
        b="---\ntitle: B\n---\nBody\n",
        c=term_text("C", tags="oops"),
    ))
    found = messages(run_check(root))
    assert [m.split(": error")[0] for m in found] == [
        "content/terms/a.md:5", "content/terms/b.md:1", "content/terms/c.md:4",
    ]


def test_c_and_pure_python_yaml_loaders_agree(monkeypatch):
    import yaml

    from glossary_build import yamldata

    text = ("---\ntitle: 1.10\nsummary: 'Quoted: yes'\naliases: [NO, 2026-01-01]\n"
            "faqs:\n  - q: |\n      Multi\n      line\n    a: >\n      Folded\n      text\n---\nBody\n")
    results = []
    for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        monkeypatch.setattr(yamldata, "_Loader", loader)
        results.append(parse_term(text, "x", P))
    (c_term, c_problems), (py_term, py_problems) = results
    assert c_problems == py_problems == []
    assert c_term == py_term and c_term.lines == py_term.lines
    assert c_term.aliases == ("NO", "2026-01-01")
    assert c_term.faqs[0].question == "Multi\nline"


def test_files_parsed_by_several_processes_load_as_in_one(make_site, monkeypatch):
    """Terms, and problems, in file order whoever parsed them; parsed terms are remembered."""
    from glossary_build import parallel

    monkeypatch.setattr(parallel, "MIN_ITEMS", 2)
    files = {f"t{i:02}": term_text(f"Term {i}", body=f"Body {i}.") for i in range(12)}
    files |= {"t03": "---\ntitle: [broken\n---\n", "t07": "no front matter\n", "t09": "---\nsummary: No title.\n---\n"}
    root = make_site(terms(**files))
    results = {}
    for workers in (1, 2):
        known = {}
        loaded, problems = load_terms(root / "content" / "terms", known, workers=workers)
        results[workers] = ([(t.slug, t.title, t.digest) for t in loaded], [d.format() for d in problems], sorted(known))
    assert results[2] == results[1]
    slugs, problems, known = results[2]
    assert [s for s, _, _ in slugs] == [f"t{i:02}" for i in range(12) if i not in (3, 7, 9)]
    assert list(dict.fromkeys(p.split(":")[0] for p in problems)) == [f"content/terms/t{i}.md" for i in ("03", "07", "09")]
    assert known == [f"t{i:02}.md" for i in range(12) if i not in (3, 7, 9)]
