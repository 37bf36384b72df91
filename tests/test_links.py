"""Cross references: [[links]], automatic links, related terms and backlinks, read from parsed HTML."""

from __future__ import annotations

from bs4 import BeautifulSoup

from conftest import messages, run_check, term_text, terms
from glossary_build.links import Autolinker


def errors(result) -> list[str]:
    return [m for m in messages(result) if ": error: " in m]

NEIGHBOURS = dict(
    parameter=term_text("Parameter", "A learned number.", aliases=["model parameter"]),
    mixture_of_experts=term_text("Mixture of experts", "Experts and a router.", aliases=["MoE", "sparse MoE"]),
    expert=term_text("Expert", "One sub-network."),
    lora=term_text("LoRA", "Low-rank adapters.", aliases=["low-rank adaptation"]),
    token=term_text("Token", "A piece of text."),
    large_language_model=term_text("Large language model", "A big model.", aliases=["LLM"]),
    gpu=term_text("GPU", "A graphics processor."),
    query=term_text("Query", "A question."),
    cpp=term_text("C++", "A language."),
    k_means=term_text("k-means", "A clustering method."),
    class_=term_text("Class", "A label."),
)


def links_in(make_site, body: str, extra: dict | None = None, slug: str = "page", **config) -> list[tuple[str, str]]:
    """(link text, target slug) of every term link in the rendered body of one page."""
    files = terms(**NEIGHBOURS, **{slug: term_text("Page", "The page under test.", body=body)}) | (extra or {})
    root = make_site(files)
    result = run_check(root, **config)
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    soup = BeautifulSoup(result.glossary.rendered[slug].body, "html.parser")
    return [(a.get_text(), a["data-term"]) for a in soup.select("a[data-term]")]


# -- explicit links ----------------------------------------------------------

def test_explicit_links_resolve_by_slug_title_or_alias_in_any_case(make_site):
    body = "[[lora]] then [[Mixture Of Experts]] then [[moe]] then [[LLM|big models]] and [[GPU]]."
    assert links_in(make_site, body) == [
        ("lora", "lora"), ("Mixture Of Experts", "mixture-of-experts"), ("moe", "mixture-of-experts"),
        ("big models", "large-language-model"), ("GPU", "gpu"),
    ]


def test_explicit_link_carries_the_summary_and_a_relative_href(make_site):
    root = make_site(terms(**NEIGHBOURS, page=term_text("Page", body="Read [[lora|this]].")))
    html = run_check(root).glossary.rendered["page"].body
    anchor = BeautifulSoup(html, "html.parser").select_one("a[data-term]")
    assert anchor["title"] == "Low-rank adapters."
    assert anchor["href"] == "../../terms/lora/index.html"


def test_broken_link_reports_line_and_nearest_names(make_site):
    root = make_site(terms(**NEIGHBOURS, page=term_text("Page", body="One line.\n\nSee [[mixture of expert]].")))
    assert errors(run_check(root)) == [
        "content/terms/page.md:7: error: broken link [[mixture of expert]]: no term has this slug, "
        "title or alias (did you mean 'Mixture of experts'?)"
    ]


def test_wiki_syntax_inside_code_stays_literal(make_site):
    body = "Use `[[lora]]` in text.\n\n```\nW = [[0.5, -1.0], [2, 3]]\n```\n"
    assert links_in(make_site, body) == []


# -- automatic links ---------------------------------------------------------

def test_leftmost_longest_match_wins(make_site):
    assert links_in(make_site, "A mixture of experts has many experts.") == [
        ("mixture of experts", "mixture-of-experts"), ("experts", "expert"),
    ]


def test_whole_words_only(make_site):
    assert links_in(make_site, "Parametric methods and tokenization differ.") == []


def test_punctuation_edges_match(make_site):
    assert links_in(make_site, "Sparse layers (MoE) and LoRA, on tokens.") == [
        ("MoE", "mixture-of-experts"), ("LoRA", "lora"), ("tokens", "token"),
    ]


def test_names_with_symbols_match_exactly(make_site):
    assert links_in(make_site, "Written in C++ with k-means.") == [("C++", "cpp"), ("k-means", "k-means")]
    assert links_in(make_site, "Written in C with k means.") == []


def test_names_with_two_capitals_are_case_sensitive(make_site):
    assert links_in(make_site, "A moe, a lora and an llm are not names here.") == []
    assert links_in(make_site, "An MoE with LoRA on an LLM.") == [
        ("MoE", "mixture-of-experts"), ("LoRA", "lora"), ("LLM", "large-language-model"),
    ]


def test_other_names_match_in_any_case_and_keep_the_writers_casing(make_site):
    assert links_in(make_site, "TOKEN budgets and a Large Language Model.") == [
        ("TOKEN", "token"), ("Large Language Model", "large-language-model"),
    ]


def test_regular_plurals_link_to_the_singular(make_site):
    body = "Parameters, LLMs, GPUs, queries and classes."
    assert links_in(make_site, body) == [
        ("Parameters", "parameter"), ("LLMs", "large-language-model"), ("GPUs", "gpu"),
        ("queries", "query"), ("classes", "class"),
    ]


def test_only_the_first_mention_links(make_site):
    assert links_in(make_site, "A token. Another token.\n\nA third token.") == [("token", "token")]


def test_explicit_link_counts_as_the_mention(make_site):
    assert links_in(make_site, "A token, then [[token|the token page]].") == [("the token page", "token")]


def test_never_inside_code_links_headings_images_or_raw_html(make_site):
    body = """
## Token budgets

Inline `token` code and [a token link](https://example.org) and ![a token](x.png).

```
token = 1
```

<div>raw token html</div>

    indented token code
"""
    assert links_in(make_site, body) == []


def test_prose_after_skipped_parts_still_links(make_site):
    body = "## Token\n\nUse `token` here, then a token in prose."
    assert links_in(make_site, body) == [("token", "token")]


def test_never_links_a_page_to_itself(make_site):
    root = make_site(terms(**NEIGHBOURS))
    body = run_check(root).glossary.rendered["lora"].body
    assert BeautifulSoup(body, "html.parser").select("a[data-term]") == []
    NEIGHBOURS_SELF = dict(NEIGHBOURS, lora=term_text("LoRA", "x", aliases=["low-rank adaptation"], body="LoRA is low-rank adaptation; see LoRA."))
    root = make_site(terms(**NEIGHBOURS_SELF))
    body = run_check(root).glossary.rendered["lora"].body
    assert BeautifulSoup(body, "html.parser").select("a[data-term]") == []


def test_self_mention_consumes_its_words(make_site):
    # "Mixture of experts" on its own page must not link "experts" to the Expert term
    files = terms(**dict(NEIGHBOURS, mixture_of_experts=term_text(
        "Mixture of experts", "x", aliases=["MoE"], body="A mixture of experts layer.")))
    root = make_site(files)
    body = run_check(root).glossary.rendered["mixture-of-experts"].body
    assert BeautifulSoup(body, "html.parser").select("a[data-term]") == []


def test_autolink_false_opts_a_term_out_but_explicit_links_work(make_site):
    extra = terms(quiet=term_text("Quiet", "Hushed.", autolink="false"))
    assert links_in(make_site, "A quiet room.", extra) == []
    assert links_in(make_site, "A [[quiet]] room.", extra) == [("quiet", "quiet")]


def test_config_can_turn_automatic_links_off(make_site):
    extra = {"glossary.yaml": "autolink: false\n"}
    assert links_in(make_site, "A token and [[lora]].", extra) == [("lora", "lora")]


def test_faqs_and_takeaways_are_linked_once_per_page_with_the_body(make_site):
    text = ("---\ntitle: Page\nsummary: x\nfaqs:\n  - q: Why?\n    a: Because a token and LoRA.\n"
            "takeaways: [Tokens matter.]\n---\nA token.\n")
    root = make_site(terms(**NEIGHBOURS, page=text))
    rendered = run_check(root).glossary.rendered["page"]
    answer = BeautifulSoup(rendered.faq_answers[0], "html.parser")
    assert [a["data-term"] for a in answer.select("a")] == ["lora"]
    assert BeautifulSoup(rendered.takeaways[0], "html.parser").select("a") == []


def test_matcher_scales_to_many_names():
    names = [(f"term {i} name", f"t{i}") for i in range(10_000)] + [("mixture of experts", "moe")]
    linker = Autolinker(names)
    text = "A term 9999 name, then term 5 names, then a mixture of experts."
    assert [(text[m.start:m.end], m.slug) for m in linker.find(text)] == [
        ("term 9999 name", "t9999"), ("term 5 names", "t5"), ("mixture of experts", "moe"),
    ]


# -- names, related terms and backlinks --------------------------------------

def test_a_name_two_terms_share_names_both_files(make_site):
    root = make_site(terms(
        alpha=term_text("Alpha", aliases=["first"], body="See [[beta]]."),
        beta=term_text("Beta", aliases=["First"], body="See [[alpha]]."),
    ))
    assert messages(run_check(root)) == [
        "content/terms/alpha.md:4: error: alias 'first' is also the alias of content/terms/beta.md:4",
        "content/terms/beta.md:4: error: alias 'First' is also the alias of content/terms/alpha.md:4; "
        "each name must lead to one term",
    ]


def test_related_is_shown_both_ways(make_site):
    root = make_site(terms(
        alpha=term_text("Alpha", related=["Beta"], body="Gamma."),
        beta=term_text("Beta", body="Alpha."),
        gamma=term_text("Gamma", body="Beta."),
    ))
    glossary = run_check(root).glossary
    assert glossary.related == {"alpha": ["beta"], "beta": ["alpha"], "gamma": []}


def test_unknown_related_entry_points_at_its_line(make_site):
    text = "---\ntitle: Alpha\nsummary: x\nrelated:\n  - beta\n  - gama\n---\nBeta.\n"
    root = make_site(terms(alpha=text, beta=term_text("Beta", body="Alpha."), gamma=term_text("Gamma", body="Alpha, beta.")))
    assert errors(run_check(root)) == [
        "content/terms/alpha.md:6: error: related term 'gama' does not exist (did you mean 'Gamma'?)"
    ]


def test_referenced_by_counts_explicit_and_automatic_links(make_site):
    root = make_site(terms(
        alpha=term_text("Alpha", body="Mentions gamma."),
        beta=term_text("Beta", body="Links [[gamma]]."),
        gamma=term_text("Gamma", body="Mentions alpha and beta."),
    ))
    assert run_check(root).glossary.referenced_by["gamma"] == ["alpha", "beta"]


def test_links_to_a_file_with_errors_are_not_reported_again(make_site):
    root = make_site(terms(
        alpha=term_text("Alpha", body="See [[zulu]].", related=["zulu"]),
        zulu="---\ntitle: Zulu\n---\nNo summary.\n",
    ))
    result = run_check(root)
    assert errors(result) == [  # the cause only, not one more error per page that links to it
        "content/terms/zulu.md:1: error: missing required key 'summary' "
        "(for example `summary: A layer design that runs only a few experts per token.`)",
    ]
    assert result.glossary is None


def test_a_related_draft_is_an_error_on_its_own_line_and_the_rest_still_link(make_site):
    text = "---\ntitle: Alpha\nsummary: x\nrelated:\n  - beta\n  - gamma\n---\nBeta and gamma.\n"
    root = make_site(terms(alpha=text, beta=term_text("Beta", body="Alpha."),
                           gamma=term_text("Gamma", body="Alpha.", draft="true")))
    result = run_check(root)
    assert messages(result) == [
        "content/terms/alpha.md:6: error: related term 'gamma' is a draft; publish it or build with --drafts"]
    assert run_check(root, drafts=True).glossary.related == {"alpha": ["beta", "gamma"], "beta": ["alpha"],
                                                            "gamma": ["alpha"]}


def test_related_to_itself_or_twice_is_a_warning(make_site):
    text = "---\ntitle: Alpha\nsummary: x\nrelated: [alpha, beta, Beta]\n---\nBeta.\n"
    root = make_site(terms(alpha=text, beta=term_text("Beta", body="Alpha.")))
    assert messages(run_check(root)) == [
        "content/terms/alpha.md:4: warning: 'Beta' is listed twice in related",
        "content/terms/alpha.md:4: warning: a term cannot be related to itself ('alpha')",
    ]
    assert run_check(root, strict=True).glossary is None


# -- the trie after an edit --------------------------------------------------

WORDS = ["token", "query", "LoRA", "mixture", "of", "experts", "attention", "head", "MoE", "key", "value", "class"]


def _names(rng) -> list[tuple[str, str]]:
    """Titles and aliases of a few terms, in index order; names often share first words and plurals."""
    pairs = []
    for i in range(rng.randint(1, 12)):
        slug = f"t{i}"
        spellings = {" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 3))}
        pairs += [(name, slug) for name in sorted(spellings)]
    rng.shuffle(pairs)  # the order of terms in the index is any order
    return list(dict.fromkeys(pairs))


def _edited(rng, pairs):
    pairs = list(pairs)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["went", "came", "moved", "renamed"])
        if kind == "went" and pairs:
            pairs.pop(rng.randrange(len(pairs)))
        elif kind == "came":
            pairs.insert(rng.randint(0, len(pairs)), (f"{rng.choice(WORDS)} {rng.choice(WORDS)}s", f"t{rng.randint(0, 14)}"))
        elif kind == "moved" and pairs:
            pairs.insert(rng.randint(0, len(pairs)), pairs.pop(rng.randrange(len(pairs))))
        elif pairs:
            i = rng.randrange(len(pairs))
            pairs[i] = (rng.choice(WORDS) + " " + pairs[i][0], pairs[i][1])
    return list(dict.fromkeys(pairs))


def test_a_trie_updated_for_an_edit_is_the_trie_made_afresh():
    """Names that came, went, or moved in the order (which decides between names ending at one node)."""
    import copy
    import random

    from glossary_build.links import updated_trie

    rng = random.Random(7)
    for _ in range(400):
        before = _names(rng)
        after = _edited(rng, before)
        root = Autolinker(before).root
        untouched = copy.deepcopy(root)
        trie, _ = updated_trie(root, before, after, {})
        assert trie == Autolinker(after).root, (before, after)
        assert root == untouched  # the last build's matcher still works as it did


def test_a_trie_updated_from_another_names_trie_is_refused():
    from glossary_build.links import updated_trie

    root = Autolinker([("token", "token")]).root
    assert updated_trie(root, [("query", "query")], [], {}) is None


def _find_by_trying_every_name(names: list[tuple[str, str]], text: str) -> list[tuple[int, int, str, str]]:
    """What Autolinker.find must return, the slow way: at each token, the longest name
    that matches there (names ending alike: the first listed), then on after it."""
    from glossary_build.links import SPACE, tokenize, trie_paths

    paths = [(keys, exact, slug, name) for name, slug in names for keys, exact in trie_paths(name)]
    tokens = tokenize(text)
    found, i = [], 0
    while i < len(tokens):
        best = None
        for length in range(len(tokens) - i, 0, -1):
            window = [key for key, _, _ in tokens[i:i + length]]
            window[0] = window[0].lstrip(SPACE)  # a name may start after any space
            folded = tuple(key.casefold() for key in window)
            best = next(((slug, name) for keys, exact, slug, name in paths
                         if keys == folded and (exact is None or tuple(window) == exact)), None)
            if best:
                found.append((tokens[i][1], tokens[i + length - 1][2], *best))
                i += length
                break
        if best is None:
            i += 1
    return found


def test_the_matcher_finds_what_trying_every_name_finds():
    """Random names and texts: spacing, punctuation, case-sensitive names, plurals, non-ASCII."""
    import random

    words = ["token", "Tokens", "MoE", "moe", "LoRA", "rank", "query", "queries", "class", "C++", ".NET",
             "self-attention", "attention", "straße", "İstanbul", "mixture", "of", "experts", "bus", "K", "k"]
    separators = [" ", "  ", "\n", "", ", ", "-", "\t", " (", ") ", "\u00a0"]
    rng = random.Random(11)
    for _ in range(150):
        names = {}
        for n in range(rng.randint(1, 12)):
            name = " ".join(rng.choice(words) for _ in range(rng.choice([1, 1, 2, 3])))
            names.setdefault(name.casefold(), (name, f"t{n}"))
        names = list(names.values())
        linker = Autolinker(names)
        for _ in range(20):
            text = rng.choice(["", " "]) + "".join(rng.choice(words) + rng.choice(separators)
                                                    for _ in range(rng.randint(0, 10)))
            assert [(m.start, m.end, m.slug, m.name) for m in linker.find(text)] == \
                _find_by_trying_every_name(names, text), (names, text)
