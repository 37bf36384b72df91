"""Bodies as a reader gets them: Markdown features render; raw HTML is made safe."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from conftest import page, run_build, run_check, term_text, terms


def body_of(make_site, body: str, **config) -> BeautifulSoup:
    files = terms(page=term_text("Page", body=body))
    if config:
        files["glossary.yaml"] = "".join(f"{k}: {v}\n" for k, v in config.items())
    result = run_check(make_site(files))
    return BeautifulSoup(result.glossary.rendered["page"].body, "html.parser")


def test_tables_fenced_code_footnotes_definition_lists_and_heading_anchors(make_site):
    body = """
## Memory per precision

| precision | bytes |
|:----------|------:|
| fp16      | 2     |

```python
print("hi")
```

A claim.[^1]

Token
:   A piece of text.

[^1]: The source.
"""
    soup = body_of(make_site, body)
    heading = soup.find("h2")
    assert heading["id"] == "memory-per-precision"
    assert heading.find("a", class_="headerlink")["href"] == "#memory-per-precision"
    assert [th.get_text() for th in soup.select("table th")] == ["precision", "bytes"]
    assert soup.select_one("table td[align=right]").get_text() == "2"
    assert soup.select_one("pre code")["class"] == ["language-python"]
    assert soup.select_one("sup a.footnote-ref")["href"] == "#fn:1"
    assert "The source." in soup.select_one("div.footnote").get_text()
    assert soup.select_one("dl dt").get_text() == "Token"


def test_scripts_event_handlers_and_javascript_urls_are_removed(make_site):
    body = """
<script>alert(1)</script>

<img src="x.png" onerror="alert(2)" alt="pic">

<a href="javascript:alert(3)">click</a> and [md link](javascript:alert(4)).

<iframe src="https://example.org"></iframe>

<p style="color:red" onclick="alert(5)">styled</p>
"""
    soup = body_of(make_site, body)
    assert soup.find("script") is None
    assert soup.find("iframe") is None
    for element in soup.find_all(True):
        assert not any(name.startswith("on") or name == "style" for name in element.attrs), element
        assert not element.get("href", "").lower().startswith("javascript:")
    assert soup.find("img")["alt"] == "pic"
    assert "styled" in soup.get_text()


def test_trust_html_passes_raw_html_through(make_site):
    soup = body_of(make_site, '<div class="note" data-x="1">kept</div>', trust_html="true")
    assert soup.find("div", attrs={"data-x": "1"}).get_text() == "kept"


def test_safe_raw_html_is_kept(make_site):
    soup = body_of(make_site, "<details><summary>More</summary>Hidden <kbd>Ctrl</kbd></details>")
    assert soup.find("summary").get_text() == "More"
    assert soup.find("kbd").get_text() == "Ctrl"


@pytest.mark.parametrize("body", ["Intro.\n\n```\nprint('x')\n```", "Intro.\n\n```\nprint('x')  # left open"])
def test_a_fence_in_the_body_never_swallows_the_texts_after_it(make_site, body):
    """Body and answers are converted as one document when that is safe; a fence that
    reaches into the next text would swallow it, so that is found and undone."""
    text = ("---\ntitle: Fenced\nsummary: A term with code.\nfaqs:\n  - q: Why?\n    a: Because *it* works.\n"
            "  - q: And then?\n    a: |\n      A fence of its own:\n\n      ```\n      done()\n      ```\n"
            f"takeaways: ['Keep **one** thing.']\n---\n{body}\n")
    root = make_site(terms(fenced=text))
    run_build(root)
    article = page(root, "terms/fenced/index.html")
    assert "glossary-part" not in str(article) and "\x07" not in str(article)
    assert article.select_one(".faqs .answer em").get_text() == "it"
    assert article.find("strong", string="one") is not None
    assert all("works" not in code.get_text() for code in article.select("pre, code"))
    assert article.select(".faqs .answer")[1].select_one("pre code").get_text().strip() == "done()"


INLINE_SAMPLES = [  # one feature each, then mixed: a wrong needle shows in its own sample
    "Plain prose with no markup at all, over two\nlines.",
    "A `code span` and ``double `ticks` inside``.",
    r"Escaped \*stars\*, a backslash \\ and \[not a link\].",
    "[a link](https://example.org 'title') and [a reference][r].\n\n[r]: https://example.org/r",
    "![an image](x.png) and ![a referenced one][r].\n\n[r]: y.png",
    "<https://example.org/auto> as an address.",
    "<someone@example.org> as an address.",
    "Hard  \nbreak.",
    "Entities &amp; &copy; &#169; &#xA9; and a bare & sign.",
    "Inline <span class=\"x\">HTML</span>, <!-- a comment --> and <br/>.",
    "Only *stars*, **double** and ***triple***.",
    "Only _underscores_, __double__ and a_snake_case_name.",
    "A note.[^n]\n\n[^n]: Said here.",
    "[[Token]], [[token|the token]] and [[missing]].",
    "A figure: {{ figure(nothing) }}.",
    "`code [[token]] *x*` then *em*, [[Token]], <b>bold</b> &amp; 2*3*4 and * spaced * stars.",
    "* item with `code`\n* item with [[Token]]\n\n> quoted *emphasis* and [brackets] alone",
]


def _renderer(inline: str):
    """A body renderer whose inline stage is ours ("prefiltered") or Python-Markdown's own."""
    from markdown.treeprocessors import InlineProcessor

    from glossary_build.links import NameIndex
    from glossary_build.markdown_ext import BodyRenderer, LinkTarget

    index = NameIndex(by_name={"token": "token"}, display={"token": "Token"})
    targets = {"token": LinkTarget("token", "Token", "A unit of text.", "../token/")}
    renderer = BodyRenderer(index, targets, autolinker=None, trust_html=True)
    if inline == "stock":
        renderer.md.treeprocessors.register(InlineProcessor(renderer.md), "inline", 20)
    return renderer


@pytest.mark.parametrize("text", INLINE_SAMPLES)
def test_skipping_inline_patterns_changes_no_output(text):
    """Patterns are skipped on text that lacks their characters: the HTML is Python-Markdown's own."""
    from glossary_build.markdown_ext import PrefilteredInlineProcessor

    ours, stock = _renderer("prefiltered"), _renderer("stock")
    assert isinstance(ours.md.treeprocessors["inline"], PrefilteredInlineProcessor)
    assert not isinstance(stock.md.treeprocessors["inline"], PrefilteredInlineProcessor)
    ours.md.reset()
    stock.md.reset()
    assert ours.md.convert(text) == stock.md.convert(text)


def test_every_inline_pattern_of_this_markdown_version_has_a_needle():
    """A pattern without one is tried on every text: still right, but slower (update PATTERN_NEEDLES)."""
    from glossary_build.markdown_ext import _needles

    renderer = _renderer("prefiltered")
    missing = [name for name in ("backtick", "escape", "link", "image_link", "autolink", "automail",
                                 "linebreak", "html", "entity", "em_strong", "footnote", "wikilink",
                                 "glossary_macro")
               if _needles(renderer.md.inlinePatterns[name]) is None]
    assert missing == []


def test_a_toc_marker_becomes_a_table_of_contents_and_other_text_stays(make_site):
    soup = body_of(make_site, "[TOC]\n\n## First part\n\nText.\n\n## Second part\n\nMore text.")
    assert [a["href"] for a in soup.select("div.toc a")] == ["#first-part", "#second-part"]
    plain = body_of(make_site, "No marker here.\n\n## First part\n\nText about [TOC] markers, quoted.")
    assert plain.select("div.toc") == [] and "[TOC] markers" in plain.get_text()


def test_texts_converted_together_are_sanitised_together(monkeypatch):
    """Body, answers and takeaways in one document, cleaned in one pass: nothing unsafe in any of them."""
    from glossary_build import markdown_ext
    from glossary_build.source import parse_term

    text = ("---\ntitle: Page\nsummary: About.\n"
            "faqs:\n  - q: Why?\n    a: 'See <img src=x onerror=alert(1)> and [x](javascript:alert(2)).'\n"
            "takeaways: ['Keep <script>alert(3)</script> **this**.', 'And <a href=\"javascript:alert(4)\">that</a>.']\n"
            "---\nA body with <span onclick=\"alert(5)\">inline HTML</span>.\n")
    term, problems = parse_term(text, "page", "content/terms/page.md")
    assert problems == []
    calls = []
    monkeypatch.setattr(markdown_ext, "sanitize", lambda html: calls.append(html) or markdown_ext._cleaner.clean(html))
    renderer = _renderer("prefiltered")
    renderer.trust_html = False
    rendered = renderer.render_term(term)
    assert len(calls) == 1  # one pass for all four texts
    html = "\n".join([rendered.body, *rendered.faq_answers, *rendered.takeaways])
    for unsafe in ("onerror", "javascript:", "<script", "onclick", "alert(3)"):
        assert unsafe not in html
    assert rendered.takeaways[0] == "Keep  <strong>this</strong>."
    assert "<img" in rendered.faq_answers[0] and "inline HTML</span>" in rendered.body
