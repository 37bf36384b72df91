"""Each formula against published numbers; the source of every figure is named beside it."""

from __future__ import annotations

import math

import pytest

from conftest import REPO
from glossary_build.formulakit import evaluate, evaluate_formatted, load_formulas
from glossary_build.presets import load_presets

REGISTRY, _ = load_formulas()
F = REGISTRY.formulas

# Configurations as published in each model's config.json / paper.
LLAMA_2_7B = dict(vocab=32000, d_model=4096, layers=32, d_ff=11008, heads=32, kv_heads=32,
                  mlp="gated", embeddings="untied", bias="none", norm="rmsnorm", positions=0)
GPT_2_SMALL = dict(vocab=50257, d_model=768, layers=12, d_ff=3072, heads=12, kv_heads=12,
                   mlp="classic", embeddings="tied", bias="all", norm="layernorm", positions=1024)
GPT_3 = dict(vocab=50257, d_model=12288, layers=96, d_ff=49152, heads=96, kv_heads=96,
             mlp="classic", embeddings="tied", bias="all", norm="layernorm", positions=2048)
MIXTRAL = dict(vocab=32000, d_model=4096, layers=32, d_ff=14336, experts=8, top_k=2, heads=32, kv_heads=8,
               mlp="gated", embeddings="untied", bias="none", norm="rmsnorm", positions=0)


@pytest.mark.parametrize("config, expected, source", [
    # sum of tensor sizes in meta-llama/Llama-2-7b-hf model.safetensors.index.json (13,476,831,232 bytes in fp16)
    (LLAMA_2_7B, 6_738_415_616, "Llama 2 7B checkpoint"),
    # Llama 2 70B uses grouped-query attention with 8 key/value heads (Touvron et al. 2023, arXiv:2307.09288)
    (dict(LLAMA_2_7B, d_model=8192, layers=80, d_ff=28672, heads=64, kv_heads=8), 68_976_648_192, "Llama 2 70B"),
    # Llama 2 13B config.json
    (dict(LLAMA_2_7B, d_model=5120, layers=40, d_ff=13824, heads=40, kv_heads=40), 13_015_864_320, "Llama 2 13B"),
    # Meta-Llama-3-8B config.json: 128,256-token vocabulary, 8 key/value heads
    (dict(LLAMA_2_7B, vocab=128256, d_ff=14336, kv_heads=8), 8_030_261_248, "Llama 3 8B"),
    # Mistral-7B-v0.1 config.json (Jiang et al. 2023, arXiv:2310.06825)
    (dict(LLAMA_2_7B, d_ff=14336, kv_heads=8), 7_241_732_096, "Mistral 7B"),
    # openai-community/gpt2: the checkpoint's tensors sum to 124,439,808 (the paper rounds to 117M)
    (GPT_2_SMALL, 124_439_808, "GPT-2 small"),
])
def test_transformer_params_reproduce_released_checkpoints(config, expected, source):
    assert evaluate(F["transformer_params"], config)["total"] == expected, source


def test_gpt3_is_about_175_billion():
    # Brown et al. 2020 (arXiv:2005.14165), Table 2.1: 175.0B parameters
    total = evaluate(F["transformer_params"], GPT_3)["total"]
    assert math.isclose(total, 175e9, rel_tol=0.005)
    assert evaluate_formatted(F["transformer_params"], GPT_3)["total_short"] == "175B"


def test_mixtral_total_and_active_parameters():
    # Mistral AI, "Mixtral of experts" (2023-12-11): 46.7B total, 12.9B used per token
    result = evaluate(F["moe_transformer_params"], MIXTRAL)
    assert result["total"] == 46_702_792_704
    assert result["active"] == 12_879_925_248
    text = evaluate_formatted(F["moe_transformer_params"], MIXTRAL)
    assert (text["total_short"], text["active_short"]) == ("46.7B", "12.9B")


def test_simple_moe_formula_agrees_with_the_architecture():
    moe = evaluate(F["moe_params"], dict(shared=1_605_636_096, expert=5_637_144_576, experts=8, top_k=2))
    assert (moe["total"], moe["active"]) == (46_702_792_704, 12_879_925_248)


def test_dense_layer_and_regression_models():
    # torch.nn.Linear(20, 1): 20 weights + 1 bias; softmax regression over 10 classes on 784 pixels: 7,850
    assert evaluate(F["dense_layer_params"], dict(inputs=20, outputs=1))["total"] == 21
    assert evaluate(F["dense_layer_params"], dict(inputs=784, outputs=10))["total"] == 7850
    assert evaluate(F["dense_layer_params"], dict(inputs=784, outputs=10, use_bias="no"))["total"] == 7840


@pytest.mark.parametrize("precision, expected", [("fp32", "28.0 GB (26.1 GiB)"), ("bf16", "14.0 GB (13.0 GiB)"),
                                                 ("int8", "7.00 GB (6.52 GiB)"), ("int4", "3.50 GB (3.26 GiB)")])
def test_weight_memory_by_precision(precision, expected):
    assert evaluate_formatted(F["weight_memory"], dict(params=7e9, precision=precision))["bytes"] == expected


def test_training_memory_is_16_bytes_per_parameter():
    # Rajbhandari et al. 2020 (ZeRO, arXiv:1910.02054): 2 + 2 + 12 bytes; 7.5B parameters -> 120 GB
    assert evaluate(F["training_memory"], dict(params=7.5e9))["total"] == 120e9


def test_kv_cache_of_llama_2_7b_at_full_context():
    # 2 x 32 layers x 32 heads x 128 x 2 bytes = 512 KiB per token; 4,096 tokens -> 2 GiB
    result = evaluate(F["kv_cache"], dict(layers=32, kv_heads=32, head_dim=128, seq_len=4096, batch=1, precision="fp16"))
    assert result["per_token"] == 524_288
    assert result["bytes"] == 2 * 1024**3


def test_flops_rules_of_thumb():
    # Kaplan et al. 2020 (arXiv:2001.08361): C ~ 2N per token at inference, 6ND to train
    assert evaluate(F["inference_flops"], dict(params=7e9, tokens=1))["per_token"] == 14e9
    # GPT-3: 175B parameters x 300B tokens x 6 = 3.15e23 FLOPs (Brown et al. 2020 report 3.14e23)
    assert evaluate_formatted(F["training_flops"], dict(params=175e9, tokens=300e9))["flops"] == "3.15e23"


def test_compute_optimal_training_matches_chinchilla():
    # Hoffmann et al. 2022 (arXiv:2203.15556): Chinchilla, 70B parameters on 1.4T tokens
    result = evaluate_formatted(F["compute_optimal"], dict(params=70e9))
    assert result["tokens"] == "1.40T"
    # ... which costs about 5.76e23 FLOPs; the inverse gives back about 70B parameters
    budget = evaluate(F["compute_optimal_budget"], dict(flops=5.88e23))
    assert math.isclose(budget["params"], 70e9, rel_tol=0.001)


def test_lora_parameters_match_the_paper():
    # Hu et al. 2021 (arXiv:2106.09685), Table 4: GPT-3 with r=8 on W_q and W_v trains 37.7M parameters,
    # and with r=1 4.7M
    gpt3 = dict(d_model=12288, d_ff=49152, kv_dim=12288, layers=96, targets="qv", params=175e9)
    assert evaluate(F["lora_params"], dict(gpt3, rank=8))["trainable"] == 37_748_736
    assert evaluate(F["lora_params"], dict(gpt3, rank=1))["trainable"] == 4_718_592
    llama = evaluate_formatted(F["lora_params"], dict(rank=8, targets="qv"))
    assert (llama["trainable"], llama["share"]) == ("4,194,304", "0.0622%")


def test_token_cost_is_per_request_then_per_month():
    # 1,500 in + 500 out at $0.50 / $1.50 per million: $0.0015 per request; 100,000 a month: $150
    result = evaluate(F["token_cost"], dict(input_tokens=1500, output_tokens=500, input_price=0.5,
                                             output_price=1.5, requests=100000))
    assert math.isclose(result["per_request"], 0.0015)
    assert math.isclose(result["per_month"], 150)
    assert math.isclose(result["per_year"], 1800)


def test_decode_speed_is_bandwidth_over_weight_bytes():
    # 14 GB of fp16 weights read once per token at 1 TB/s: at most ~71 tokens/s
    assert evaluate_formatted(F["decode_speed"], dict(bandwidth=1000, params=7e9, precision="fp16"))["tokens_per_second"] == "71.4"


def test_values_out_of_range_are_refused():
    with pytest.raises(ValueError, match="'params' = -5 is below the minimum 1"):
        evaluate(F["weight_memory"], dict(params=-5))
    with pytest.raises(ValueError, match="must be one of"):
        evaluate(F["weight_memory"], dict(precision="fp12"))
    with pytest.raises(ValueError, match="has no input 'parms'"):
        evaluate(F["weight_memory"], dict(parms=1))


def test_shipped_presets_derive_published_counts():
    presets, problems = load_presets(REPO / "content", REGISTRY)
    assert problems == []
    counts = {p.id: p.values["params"] for p in presets}
    assert counts["llama-2-7b"] == 6_738_415_616
    assert counts["gpt-2-small"] == 124_439_808
    assert counts["mixtral-8x7b"] == 46_702_792_704
    assert all(p.source.startswith("https://") for p in presets)


def test_every_formula_documents_its_assumptions_and_source():
    for formula in F.values():
        assert formula.doc, formula.name
        assert formula.source.startswith("https://"), formula.name


def test_project_formulas_use_the_same_machinery(tmp_path):
    (tmp_path / "formulas.py").write_text(
        "from glossary_build.formulakit import Input, Output, formula\n\n"
        "@formula(title='Doubling', inputs=[Input('x', 'X', default=2, min=0, max=10)],\n"
        "         outputs=[Output('y', 'Twice X', 'number')], source='https://example.org')\n"
        "def double(x):\n    \"\"\"Twice x.\"\"\"\n    return {'y': 2 * x}\n"
    )
    registry, _ = load_formulas(tmp_path / "formulas.py")
    assert evaluate_formatted(registry.formulas["double"], {"x": 4}) == {"y": "8"}
    assert "weight_memory" in registry.formulas
