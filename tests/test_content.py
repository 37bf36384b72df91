"""The shipped AI glossary: it builds cleanly and every term is woven into the rest."""

from __future__ import annotations

import pytest

from conftest import REPO, run_check

CORE_TERMS = [  # the coverage the glossary promises its readers
    "parameter", "weight", "bias", "hyperparameter", "learning-rate", "batch-size", "epoch", "token",
    "tokenizer", "vocabulary", "context-window", "embedding", "mixture-of-experts", "dense-model",
    "active-parameters", "router", "lora", "qlora", "parameter-efficient-fine-tuning", "adapter",
    "fine-tuning", "full-fine-tuning", "quantization", "pruning", "knowledge-distillation", "inference",
    "latency", "throughput", "training-data", "backpropagation", "gradient-descent", "optimizer",
    "loss-function", "overfitting", "regularization", "dropout", "scaling-laws", "compute-optimal-training",
    "large-language-model", "small-language-model", "transformer", "attention", "grouped-query-attention",
    "kv-cache", "flops", "memory-bandwidth", "gpu-memory", "numerical-precision", "temperature",
    "top-p-sampling", "retrieval-augmented-generation", "grounding", "few-shot-learning", "in-context-learning",
    "benchmark", "model-card", "open-weight-model", "checkpoint", "safetensors", "model-capacity",
]
FAQ_TERMS = ["parameter", "hyperparameter", "token", "mixture-of-experts", "lora"]


@pytest.fixture(scope="module")
def shipped():
    result = run_check(REPO, strict=True)
    return result


def test_shipped_glossary_has_no_problems_even_strict(shipped):
    assert [d.format() for d in shipped.diagnostics] == []
    assert shipped.glossary is not None


def test_core_terms_exist(shipped):
    assert sorted(set(CORE_TERMS) - set(shipped.glossary.terms)) == []
    assert len(shipped.glossary.terms) >= 60


def test_every_term_links_out_and_is_linked_to(shipped):
    glossary = shipped.glossary
    for slug in glossary.terms:
        assert glossary.referenced_by[slug], f"{slug} is an orphan"
        assert glossary.rendered[slug].links, f"{slug} links to no other term"


@pytest.mark.parametrize("slug", FAQ_TERMS)
def test_central_terms_answer_at_least_three_questions(shipped, slug):
    assert len(shipped.glossary.terms[slug].faqs) >= 3


def test_every_term_is_complete(shipped):
    for term in shipped.glossary.terms.values():
        assert term.category, term.slug
        assert term.sources and all(s.url for s in term.sources), term.slug
        assert len(term.summary) <= 160, term.slug
        assert len(term.body.split()) >= 150, term.slug
        assert term.related, term.slug


CALCULATORS = {
    "parameter": {"transformer_params", "dense_layer_params"},
    "lora": {"lora_params"},
    "mixture-of-experts": {"moe_transformer_params"},
    "quantization": {"weight_memory"},
    "kv-cache": {"kv_cache"},
    "token": {"token_cost"},
    "inference": {"token_cost", "decode_speed"},
    "gpu-memory": {"training_memory", "weight_memory"},
    "flops": {"inference_flops", "training_flops"},
    "scaling-laws": {"compute_optimal", "compute_optimal_budget"},
    "qlora": {"weight_memory", "lora_params"},
    "numerical-precision": {"weight_memory"},
    "compute-optimal-training": {"compute_optimal"},
}


@pytest.mark.parametrize("slug", sorted(CALCULATORS))
def test_central_terms_let_readers_try_the_numbers(shipped, slug):
    from bs4 import BeautifulSoup

    rendered = shipped.glossary.rendered[slug]
    html = rendered.body + "".join(rendered.calculators)
    formulas = {form["data-formula"] for form in BeautifulSoup(html, "html.parser").select("form.calculator")}
    assert CALCULATORS[slug] <= formulas
