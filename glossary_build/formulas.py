"""The arithmetic of model size and cost, in one place.

Every number the glossary shows about parameters, memory, compute or money comes
from a function here: figures in the prose, the first results of a calculator,
`glossary calc`, and (compiled by ``jsgen``) the calculator in the browser.

Functions use the restricted Python that ``jsgen`` compiles: arithmetic with
+ - * / and small integer powers, comparisons, if/else, local names, constant
tables, and calls to other functions of this module or to floor/ceil/sqrt/min/
max/abs. Each returns a dict with one entry per declared output.
"""

from .formulakit import Input, Output, formula, sqrt

BYTES_PER_PARAMETER = {"fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1, "int4": 0.5}
PRECISIONS = (
    ("fp32", "fp32 (4 bytes)"),
    ("fp16", "fp16 (2 bytes)"),
    ("bf16", "bf16 (2 bytes)"),
    ("fp8", "fp8 (1 byte)"),
    ("int8", "int8 (1 byte)"),
    ("int4", "int4 (half a byte)"),
)


def _parameters_input(default=7e9):
    return Input("params", "Parameters", default=default, unit="parameters", min=1, max=1e13, step=1, scale="log")


def _precision_input(default="bf16"):
    return Input("precision", "Precision", default=default, choices=PRECISIONS)


ARCHITECTURE = [
    Input("vocab", "Vocabulary size", default=32000, unit="tokens", min=1, max=1000000, step=1, scale="log"),
    Input("d_model", "Hidden size (d_model)", default=4096, min=1, max=65536, step=1, scale="log"),
    Input("layers", "Layers", default=32, min=1, max=256, step=1),
    Input("d_ff", "Feed-forward size (d_ff)", default=11008, min=1, max=262144, step=1, scale="log"),
    Input("heads", "Attention heads", default=32, min=1, max=512, step=1),
    Input("kv_heads", "Key/value heads", default=32, min=1, max=512, step=1,
          help="Equal to the attention heads for multi-head attention; fewer for grouped-query attention."),
    Input("mlp", "Feed-forward block", default="gated", choices=(
        ("gated", "gated, 3 matrices (SwiGLU)"), ("classic", "classic, 2 matrices (GELU)"))),
    Input("embeddings", "Output layer", default="untied", choices=(
        ("untied", "its own weights"), ("tied", "tied to the embeddings"))),
    Input("bias", "Biases in linear layers", default="none", choices=(
        ("none", "none"), ("qkv", "query/key/value only"), ("all", "all linear layers"))),
    Input("norm", "Normalisation", default="rmsnorm", choices=(
        ("rmsnorm", "RMSNorm (scale only)"), ("layernorm", "LayerNorm (scale and shift)"))),
    Input("positions", "Learned position embeddings", default=0, unit="positions", min=0, max=1000000, step=1,
          help="0 for rotary or other unlearned position encodings."),
]


def _attention(d_model, heads, kv_heads, bias):
    head_dim = d_model / heads
    query = d_model * heads * head_dim
    key_value = 2 * d_model * kv_heads * head_dim
    out = heads * head_dim * d_model
    biases = 0
    if bias == "qkv" or bias == "all":
        biases = heads * head_dim + 2 * kv_heads * head_dim
    if bias == "all":
        biases = biases + d_model
    return query + key_value + out + biases


def _feed_forward(d_model, d_ff, mlp, bias):
    matrices = 2
    if mlp == "gated":
        matrices = 3
    weights = matrices * d_model * d_ff
    biases = 0
    if bias == "all":
        biases = (matrices - 1) * d_ff + d_model
    return weights + biases


def _norm(d_model, norm):
    if norm == "layernorm":
        return 2 * d_model
    return d_model


def _embeddings(vocab, d_model, embeddings, positions):
    tables = 1
    if embeddings == "untied":
        tables = 2
    return tables * vocab * d_model + positions * d_model


@formula(
    title="Parameters of a dense transformer",
    inputs=ARCHITECTURE,
    outputs=[
        Output("total", "Total parameters", "exact", "parameters"),
        Output("total_short", "In short", "count", "parameters"),
        Output("per_layer", "Per layer", "exact", "parameters"),
        Output("embedding", "Embeddings and output layer", "exact", "parameters"),
    ],
    source="https://arxiv.org/abs/2307.09288",
    presets_when=lambda values: "experts" not in values,
)
def transformer_params(vocab, d_model, layers, d_ff, heads, kv_heads, mlp, embeddings, bias, norm, positions):
    """Counts every weight of a decoder-only transformer from its configuration.

    Each layer has attention (query and output projections of d_model x d_model,
    key and value projections sized by the key/value heads), a feed-forward block
    of 2 or 3 matrices, and two normalisation layers; a final norm follows the last
    layer. Reproduces the released checkpoints exactly: Llama 2 7B 6,738,415,616
    (config.json of meta-llama/Llama-2-7b-hf), GPT-2 small 124,439,808.
    """
    per_layer = _attention(d_model, heads, kv_heads, bias) + _feed_forward(d_model, d_ff, mlp, bias) + 2 * _norm(d_model, norm)
    embedding = _embeddings(vocab, d_model, embeddings, positions)
    total = layers * per_layer + embedding + _norm(d_model, norm)
    return {"total": total, "total_short": total, "per_layer": per_layer, "embedding": embedding}


@formula(
    title="Parameters of a mixture-of-experts transformer",
    inputs=ARCHITECTURE[:4] + [
        Input("experts", "Experts per layer", default=8, min=1, max=1024, step=1, scale="log"),
        Input("top_k", "Experts used per token (top-k)", default=2, min=1, max=1024, step=1),
    ] + ARCHITECTURE[4:],
    outputs=[
        Output("total", "Total parameters (all must be in memory)", "exact", "parameters"),
        Output("active", "Active parameters per token", "exact", "parameters"),
        Output("total_short", "Total, in short", "count", "parameters"),
        Output("active_short", "Active, in short", "count", "parameters"),
        Output("active_share", "Share of parameters active per token", "percent"),
    ],
    source="https://arxiv.org/abs/2401.04088",
    presets_when=lambda values: "experts" in values,
)
def moe_transformer_params(vocab, d_model, layers, d_ff, experts, top_k, heads, kv_heads, mlp, embeddings, bias, norm, positions):
    """Total and active parameters when each layer's feed-forward block is split into experts.

    Attention, norms and embeddings are shared; each expert is a full feed-forward
    block of size d_ff; a router (d_model x experts) picks top_k experts per token.
    Mixtral 8x7B's configuration gives 46,702,792,704 total and 12,879,925,248
    active, Mistral's published 46.7B and 12.9B.
    """
    expert = _feed_forward(d_model, d_ff, mlp, bias)
    shared_layer = _attention(d_model, heads, kv_heads, bias) + 2 * _norm(d_model, norm) + d_model * experts
    shared = layers * shared_layer + _embeddings(vocab, d_model, embeddings, positions) + _norm(d_model, norm)
    used = min(top_k, experts)
    total = shared + layers * experts * expert
    active = shared + layers * used * expert
    return {"total": total, "active": active, "total_short": total, "active_short": active, "active_share": active / total}


@formula(
    title="Mixture of experts: total and active parameters",
    inputs=[
        Input("shared", "Shared parameters", default=1.6e9, unit="parameters", min=0, max=1e13, step=1, scale="log",
              help="Attention, embeddings, norms and routers: used by every token."),
        Input("expert", "Parameters per expert", default=5.6e9, unit="parameters", min=1, max=1e13, step=1, scale="log",
              help="One expert's feed-forward weights, summed over all layers."),
        Input("experts", "Experts", default=8, min=1, max=1024, step=1, scale="log"),
        Input("top_k", "Experts used per token (top-k)", default=2, min=1, max=1024, step=1),
    ],
    outputs=[
        Output("total", "Total parameters", "count", "parameters"),
        Output("active", "Active parameters per token", "count", "parameters"),
        Output("active_share", "Share active per token", "percent"),
    ],
    source="https://arxiv.org/abs/2101.03961",
)
def moe_params(shared, expert, experts, top_k):
    """Total = shared + experts x expert; active = shared + top_k x expert."""
    used = min(top_k, experts)
    total = shared + experts * expert
    active = shared + used * expert
    return {"total": total, "active": active, "active_share": active / total}


@formula(
    title="Parameters of a dense layer or linear model",
    inputs=[
        Input("inputs", "Inputs (features)", default=20, min=1, max=1e6, step=1),
        Input("outputs", "Outputs", default=1, min=1, max=1e6, step=1,
              help="1 for linear regression or binary logistic regression; the number of classes for softmax regression."),
        Input("use_bias", "Bias per output", default="yes", choices=(("yes", "yes"), ("no", "no"))),
    ],
    outputs=[
        Output("weights", "Weights", "exact", "parameters"),
        Output("biases", "Biases", "exact", "parameters"),
        Output("total", "Total parameters", "exact", "parameters"),
    ],
    source="https://pytorch.org/docs/stable/generated/torch.nn.Linear.html",
)
def dense_layer_params(inputs, outputs, use_bias):
    """A fully connected layer has one weight per input-output pair and one bias per output."""
    weights = inputs * outputs
    biases = 0
    if use_bias == "yes":
        biases = outputs
    return {"weights": weights, "biases": biases, "total": weights + biases}


@formula(
    title="Memory for model weights",
    inputs=[_parameters_input(), _precision_input()],
    outputs=[Output("bytes", "Weight memory", "bytes")],
    source="https://huggingface.co/docs/transformers/main/en/perf_infer_gpu_one",
)
def weight_memory(params, precision):
    """Parameters x bytes per parameter; activations, KV cache and framework overhead come on top."""
    return {"bytes": params * BYTES_PER_PARAMETER[precision]}


@formula(
    title="Training memory with Adam in mixed precision",
    inputs=[_parameters_input()],
    outputs=[
        Output("weights", "Weights (bf16)", "bytes"),
        Output("gradients", "Gradients (bf16)", "bytes"),
        Output("optimizer", "Optimizer states (fp32 master weights, momentum, variance)", "bytes"),
        Output("total", "Total before activations", "bytes"),
    ],
    source="https://arxiv.org/abs/1910.02054",
)
def training_memory(params):
    """16 bytes per parameter: 2 (weights) + 2 (gradients) + 12 (fp32 copy and Adam's two moments).

    The ZeRO paper's accounting of mixed-precision Adam; activations, which grow
    with batch size and sequence length, are not included.
    """
    weights = 2 * params
    gradients = 2 * params
    optimizer = 12 * params
    return {"weights": weights, "gradients": gradients, "optimizer": optimizer, "total": weights + gradients + optimizer}


@formula(
    title="KV cache size",
    inputs=[
        Input("layers", "Layers", default=32, min=1, max=256, step=1),
        Input("kv_heads", "Key/value heads", default=32, min=1, max=512, step=1),
        Input("head_dim", "Head size", default=128, min=1, max=1024, step=1),
        Input("seq_len", "Sequence length", default=4096, unit="tokens", min=1, max=10000000, step=1, scale="log"),
        Input("batch", "Sequences in the batch", default=1, min=1, max=4096, step=1),
        _precision_input("fp16"),
    ],
    outputs=[
        Output("bytes", "KV cache", "bytes"),
        Output("per_token", "Per token", "bytes"),
    ],
    source="https://arxiv.org/abs/2211.05102",
)
def kv_cache(layers, kv_heads, head_dim, seq_len, batch, precision):
    """2 (keys and values) x layers x kv_heads x head_dim x bytes, for every token of every sequence."""
    per_token = 2 * layers * kv_heads * head_dim * BYTES_PER_PARAMETER[precision]
    return {"bytes": per_token * seq_len * batch, "per_token": per_token}


@formula(
    title="Inference compute",
    inputs=[
        _parameters_input(),
        Input("tokens", "Tokens processed", default=1000, unit="tokens", min=1, max=1e15, step=1, scale="log"),
    ],
    outputs=[
        Output("per_token", "Per token", "flops", "FLOPs"),
        Output("total", "For all tokens", "flops", "FLOPs"),
    ],
    source="https://arxiv.org/abs/2001.08361",
)
def inference_flops(params, tokens):
    """About 2 FLOPs per parameter per token (one multiply and one add); attention over long contexts adds more."""
    per_token = 2 * params
    return {"per_token": per_token, "total": per_token * tokens}


@formula(
    title="Training compute",
    inputs=[
        _parameters_input(),
        Input("tokens", "Training tokens", default=2e12, unit="tokens", min=1, max=1e15, step=1, scale="log"),
    ],
    outputs=[Output("flops", "Training compute", "flops", "FLOPs")],
    source="https://arxiv.org/abs/2001.08361",
)
def training_flops(params, tokens):
    """About 6 FLOPs per parameter per training token: 2 forward and 4 backward (Kaplan et al., 2020)."""
    return {"flops": 6 * params * tokens}


@formula(
    title="Compute-optimal training (Chinchilla rule of thumb)",
    inputs=[_parameters_input(70e9)],
    outputs=[
        Output("tokens", "Compute-optimal training tokens", "count", "tokens"),
        Output("flops", "Training compute at that size", "flops", "FLOPs"),
    ],
    source="https://arxiv.org/abs/2203.15556",
)
def compute_optimal(params):
    """About 20 training tokens per parameter (Hoffmann et al., 2022), and 6 x N x D FLOPs to train on them."""
    tokens = 20 * params
    return {"tokens": tokens, "flops": 6 * params * tokens}


@formula(
    title="Compute-optimal model for a compute budget",
    inputs=[Input("flops", "Compute budget", default=5.76e23, unit="FLOPs", min=1e10, max=1e30, step=1, scale="log")],
    outputs=[
        Output("params", "Parameters", "count", "parameters"),
        Output("tokens", "Training tokens", "count", "tokens"),
    ],
    source="https://arxiv.org/abs/2203.15556",
)
def compute_optimal_budget(flops):
    """Solves C = 6 x N x D with D = 20 x N: N = sqrt(C / 120)."""
    params = sqrt(flops / 120)
    return {"params": params, "tokens": 20 * params}


@formula(
    title="LoRA trainable parameters",
    inputs=[
        Input("d_model", "Hidden size (d_model)", default=4096, min=1, max=65536, step=1, scale="log"),
        Input("d_ff", "Feed-forward size (d_ff)", default=11008, min=1, max=262144, step=1, scale="log"),
        Input("kv_dim", "Key/value width (kv_heads x head size)", default=4096, min=1, max=65536, step=1, scale="log"),
        Input("layers", "Layers", default=32, min=1, max=256, step=1),
        Input("rank", "Rank r", default=8, min=1, max=1024, step=1, scale="log"),
        Input("targets", "Adapted matrices", default="qv", choices=(
            ("qv", "query and value"),
            ("qkvo", "all attention projections"),
            ("all", "attention and feed-forward (gated MLP)"),
        )),
        _parameters_input(6738415616),
    ],
    outputs=[
        Output("trainable", "Trainable parameters", "exact", "parameters"),
        Output("share", "Share of the base model", "percent"),
        Output("adapter_bytes", "Adapter size in bf16", "bytes"),
    ],
    source="https://arxiv.org/abs/2106.09685",
)
def lora_params(d_model, d_ff, kv_dim, layers, rank, targets, params):
    """A rank-r update of a d_in x d_out matrix trains r x (d_in + d_out) numbers (matrices A and B).

    LoRA paper: GPT-3 175B with r=8 on query and value trains 37.7M parameters.
    """
    square = rank * (d_model + d_model)
    narrow = rank * (d_model + kv_dim)
    per_layer = square + narrow
    if targets == "qkvo" or targets == "all":
        per_layer = 2 * square + 2 * narrow
    if targets == "all":
        per_layer = per_layer + 3 * rank * (d_model + d_ff)
    trainable = layers * per_layer
    return {"trainable": trainable, "share": trainable / params, "adapter_bytes": 2 * trainable}


@formula(
    title="Token and request cost",
    inputs=[
        Input("input_tokens", "Input tokens per request", default=1500, unit="tokens", min=0, max=10000000, step=1),
        Input("output_tokens", "Output tokens per request", default=500, unit="tokens", min=0, max=10000000, step=1),
        Input("input_price", "Price per million input tokens", default=0.5, unit="$", min=0, max=1000, step=0.01),
        Input("output_price", "Price per million output tokens", default=1.5, unit="$", min=0, max=1000, step=0.01),
        Input("requests", "Requests per month", default=100000, min=0, max=1e12, step=1, scale="log"),
    ],
    outputs=[
        Output("per_request", "Cost per request", "money"),
        Output("per_month", "Cost per month", "money"),
        Output("per_year", "Cost per year", "money"),
        Output("tokens_per_month", "Tokens per month", "count", "tokens"),
    ],
    source="https://openai.com/api/pricing/",
)
def token_cost(input_tokens, output_tokens, input_price, output_price, requests):
    """Per request: tokens x price per million / 1,000,000, input and output priced separately.

    Per month multiplies by the monthly request count; per year by 12 more.
    """
    per_request = (input_tokens * input_price + output_tokens * output_price) / 1000000
    per_month = per_request * requests
    return {
        "per_request": per_request,
        "per_month": per_month,
        "per_year": 12 * per_month,
        "tokens_per_month": (input_tokens + output_tokens) * requests,
    }


@formula(
    title="Decode speed limited by memory bandwidth",
    inputs=[
        Input("bandwidth", "Memory bandwidth", default=1000, unit="GB/s", min=1, max=100000, step=1, scale="log"),
        _parameters_input(),
        _precision_input("fp16"),
    ],
    outputs=[
        Output("bytes_per_token", "Bytes read per token", "bytes"),
        Output("tokens_per_second", "Upper bound at batch size 1", "rate", "tokens/s"),
    ],
    source="https://arxiv.org/abs/2211.05102",
)
def decode_speed(bandwidth, params, precision):
    """Generating one token reads every weight once, so tokens/s <= bandwidth / weight bytes.

    Real systems reach a fraction of this bound; batching shares one read of the
    weights between many sequences.
    """
    bytes_per_token = params * BYTES_PER_PARAMETER[precision]
    return {"bytes_per_token": bytes_per_token, "tokens_per_second": bandwidth * 1e9 / bytes_per_token}
