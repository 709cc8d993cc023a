import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl import corpus, text
from introdl.losses import sequence_cross_entropy
from introdl.training import eval_mode, fit, parameter_count
from introdl.transformer import (
    LayerNorm,
    TinyGPT,
    TransformerBlock,
    causal_mask,
    generate,
    layer_norm,
    sample,
)

DT = torch.float64


# ---- layer normalization ---------------------------------------------------------

def test_layer_norm_matches_torch_values_and_gradients():
    g = torch.Generator().manual_seed(0)
    x = (3 * torch.randn(4, 5, 6, generator=g, dtype=DT) + 2).requires_grad_()
    w = torch.randn(6, generator=g, dtype=DT, requires_grad=True)
    b = torch.randn(6, generator=g, dtype=DT, requires_grad=True)
    ours, theirs = layer_norm(x, w, b), F.layer_norm(x, (6,), w, b)
    torch.testing.assert_close(ours, theirs)
    up = torch.randn_like(ours)
    for a, c in zip(torch.autograd.grad(ours, (x, w, b), up),
                    torch.autograd.grad(theirs, (x, w, b), up)):
        torch.testing.assert_close(a, c)
    plain = layer_norm(x)
    torch.testing.assert_close(plain.mean(-1), torch.zeros(4, 5, dtype=DT))
    ln = torch.nn.LayerNorm(6, dtype=DT)
    ours_ln = LayerNorm(6).double()
    ours_ln.load_state_dict(ln.state_dict())
    torch.testing.assert_close(ours_ln(x), ln(x))


@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple),
       scale=st.floats(1e-3, 1e3), shift=st.floats(-1e3, 1e3),
       seed=st.integers(0, 10_000))
@settings(max_examples=60, deadline=None)
def test_layer_norm_matches_torch_on_any_shape(shape, scale, shift, seed):
    x = scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed),
                            dtype=DT) + shift
    torch.testing.assert_close(layer_norm(x), F.layer_norm(x, shape[-1:]))


def test_layer_norm_of_a_constant_vector_is_zero_not_nan():
    x = torch.full((3, 4), 7.0)
    assert torch.all(layer_norm(x) == 0)
    assert torch.all(layer_norm(torch.ones(2, 1)) == 0)  # d = 1
    assert layer_norm(torch.ones(0, 4)).shape == (0, 4)  # an empty batch
    y = layer_norm(torch.tensor([[1.0, float("nan"), 2.0], [1.0, 2.0, 3.0]]))
    assert torch.isnan(y[0]).all() and torch.isfinite(y[1]).all()  # NaN is not hidden


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(x=[1.0, 2.0]), TypeError, "x must be a torch.Tensor"),
    (dict(x=torch.ones(2, 3, dtype=torch.long)), TypeError, "x must have a floating"),
    (dict(x=torch.tensor(1.0)), ValueError, "x must have at least one dimension"),
    (dict(x=torch.ones(2, 3), weight=torch.ones(4)), ValueError,
     r"weight must be \(3,\), got \(4,\)"),
    (dict(x=torch.ones(2, 3), weight=torch.ones(1)), ValueError,
     r"weight must be \(3,\), got \(1,\)"),
    (dict(x=torch.ones(2, 3), bias=torch.ones(2, 3)), ValueError,
     r"bias must be \(3,\), got \(2, 3\)"),
    (dict(x=torch.ones(2, 3), bias=[0.0, 0.0, 0.0]), TypeError,
     "bias must be a torch.Tensor"),
    (dict(x=torch.ones(2, 3), eps=-1e-5), ValueError, "eps must lie in"),
    (dict(x=torch.ones(2, 3), eps=float("nan")), ValueError, "eps must lie in"),
    (dict(x=torch.ones(2, 3), eps=None), TypeError, "eps must be a real number"),
])
def test_layer_norm_rejects_misuse_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        layer_norm(**kwargs)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(d=0), ValueError, "d"), (dict(d=4.0), TypeError, "d"),
    (dict(d=4, eps=-1.0), ValueError, "eps"), (dict(d=4, eps="1e-5"), TypeError, "eps"),
])
def test_layer_norm_module_rejects_bad_settings(kwargs, error, name):
    with pytest.raises(error, match=f"^{name} must"):
        LayerNorm(**kwargs)


# ---- causal mask -------------------------------------------------------------------

def test_causal_mask_matches_torch_convention():
    m = causal_mask(5)
    assert m.dtype == torch.bool and m.shape == (5, 5)
    torch.testing.assert_close(
        m, torch.nn.Transformer.generate_square_subsequent_mask(5) == 0)
    with pytest.raises(ValueError, match="seq_len must be > 0"):
        causal_mask(0)
    with pytest.raises(TypeError, match="seq_len must be an int"):
        causal_mask(5.0)
    assert causal_mask(3, device="meta").device.type == "meta"
    assert causal_mask(3, device=None).device.type == "cpu"


# ---- transformer block -----------------------------------------------------------

def torch_encoder_layer(norm_first: bool, dropout: float):
    """PyTorch's layer of the book's block sizes, with weights large enough that a
    mistake shows (d_model 16, 4 heads, feed-forward 24, GELU, float64)."""
    torch.manual_seed(0)
    ref = torch.nn.TransformerEncoderLayer(16, 4, 24, dropout=dropout,
                                           activation="gelu", batch_first=True,
                                           norm_first=norm_first, dtype=DT)
    for p in ref.parameters():
        torch.nn.init.normal_(p, std=0.3)
    return ref


@pytest.mark.parametrize("norm_first", [True, False])
def test_block_matches_torch_encoder_layer(norm_first):
    ref = torch_encoder_layer(norm_first, dropout=0.0)
    ours = TransformerBlock(16, 4, 24, norm_first=norm_first).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 7, 16, dtype=DT, requires_grad=True)
    mask = causal_mask(7)
    out, w = ours(x, mask=mask)
    expected = ref(x, src_mask=~mask)
    torch.testing.assert_close(out, expected)
    assert w.shape == (3, 4, 7, 7) and torch.all(w.triu(1) == 0)
    up = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad(out, [x, *ours.parameters()], up),
                    torch.autograd.grad(expected, [x, *ref.parameters()], up)):
        torch.testing.assert_close(a, b)


def test_block_defaults_and_empty_sequences():
    block = TransformerBlock(8, 2)
    assert block.linear1.out_features == 32  # d_ff = 4 d_model
    out, w = block(torch.randn(2, 0, 8))
    assert out.shape == (2, 0, 8) and w.shape == (2, 2, 0, 0)
    out, _ = block(torch.randn(3, 4, 8), mask=None)
    assert out.shape == (3, 4, 8)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(d_model=0, num_heads=1), ValueError, "d_model"),
    (dict(d_model="8", num_heads=1), TypeError, "d_model"),
    (dict(d_model=8, num_heads=0), ValueError, "num_heads"),
    (dict(d_model=8, num_heads=3), ValueError, "embed_dim must be divisible"),
    (dict(d_model=8, num_heads=2, d_ff=0), ValueError, "d_ff"),
    (dict(d_model=8, num_heads=2, d_ff=2.5), TypeError, "d_ff"),
])
def test_block_rejects_bad_sizes(kwargs, error, name):
    with pytest.raises(error, match=f"^{name}"):
        TransformerBlock(**kwargs)


@pytest.mark.parametrize("args, error, message", [
    ((torch.randn(4, 8),), ValueError, r"x must be \(B, T, 8\), got \(4, 8\)"),
    ((torch.randn(2, 4, 6),), ValueError, r"got \(2, 4, 6\)"),
    ((torch.ones(2, 4, 8, dtype=torch.long),), TypeError, "x must have a floating"),
    (([[[0.0] * 8]],), TypeError, "x must be a torch.Tensor"),
    ((torch.randn(2, 4, 8), torch.ones(4, 4)), TypeError, "mask must be a boolean"),
    ((torch.randn(2, 4, 8), causal_mask(5)), ValueError, r"mask has shape \(5, 5\)"),
])
def test_block_rejects_bad_inputs_by_name(args, error, message):
    with pytest.raises(error, match=message):
        TransformerBlock(8, 2)(*args)


@pytest.mark.parametrize("norm_first", [True, False])
def test_block_with_dropout_in_eval_mode_matches_torch(norm_first):
    ref = torch_encoder_layer(norm_first, dropout=0.3)
    ours = TransformerBlock(16, 4, 24, norm_first=norm_first, dropout=0.3).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 7, 16, dtype=DT, requires_grad=True)
    with eval_mode(ours), eval_mode(ref):
        out, _ = ours(x, mask=causal_mask(7))
        expected = ref(x, src_mask=~causal_mask(7))
    torch.testing.assert_close(out, expected)
    for a, b in zip(torch.autograd.grad(out.sum(), [x, *ours.parameters()]),
                    torch.autograd.grad(expected.sum(), [x, *ref.parameters()])):
        torch.testing.assert_close(a, b)
    assert ours.training and ref.training  # modes restored


@pytest.mark.parametrize("norm_first", [True, False])
def test_block_dropout_drops_each_sublayer_output_before_the_residual_sum(norm_first):
    torch.manual_seed(0)
    block = TransformerBlock(8, 2, norm_first=norm_first, dropout=0.4).double()
    x = torch.randn(2, 5, 8, dtype=DT)
    torch.manual_seed(1)
    out, _ = block(x)

    def drop(t):
        return F.dropout(t, p=0.4, training=True)

    torch.manual_seed(1)  # the same masks, drawn in the same order
    if norm_first:
        h = x + drop(block.self_attn(block.norm1(x))[0])
        expected = h + drop(block.feed_forward(block.norm2(h)))
    else:
        h = block.norm1(x + drop(block.self_attn(x)[0]))
        expected = block.norm2(h + drop(block.feed_forward(h)))
    torch.testing.assert_close(out, expected)
    with eval_mode(block):
        assert not torch.allclose(block(x)[0], out)  # eval mode: nothing dropped


def test_block_without_dropout_is_the_same_in_both_modes():
    block = TransformerBlock(8, 2)  # dropout=0 by default
    x = torch.randn(2, 5, 8)
    with eval_mode(block):
        evaluated = block(x)[0]
    torch.testing.assert_close(block(x)[0], evaluated)


@pytest.mark.parametrize("dropout, error", [(1.0, ValueError), (-0.1, ValueError),
                                            ("0.1", TypeError), (None, TypeError)])
def test_block_and_gpt_reject_a_bad_dropout_by_name(dropout, error):
    with pytest.raises(error, match="^dropout"):
        TransformerBlock(8, 2, dropout=dropout)
    with pytest.raises(error, match="^dropout"):
        TinyGPT(7, context_len=4, d_model=8, dropout=dropout)


# ---- the tiny GPT --------------------------------------------------------------

def test_gpt_shapes_and_weights():
    model = TinyGPT(11, context_len=8, d_model=16, num_heads=4, num_layers=3)
    ids = torch.randint(0, 11, (2, 6))
    logits, weights = model(ids, return_weights=True)
    assert logits.shape == (2, 6, 11)
    assert len(weights) == 3 and all(w.shape == (2, 4, 6, 6) for w in weights)
    torch.testing.assert_close(weights[0].sum(-1), torch.ones(2, 4, 6))
    torch.testing.assert_close(model(ids), logits)
    with pytest.raises(ValueError, match=r"T <= 8, got \(2, 9\)"):
        model(torch.zeros(2, 9, dtype=torch.long))


def test_gpt_is_causal():
    torch.manual_seed(0)
    model = TinyGPT(13, context_len=10, d_model=16, num_heads=2, num_layers=2).double()
    ids = torch.randint(0, 13, (1, 10))
    changed = ids.clone()
    changed[0, 6:] = (ids[0, 6:] + 1) % 13  # change tokens 6..9
    a, b = model(ids), model(changed)
    torch.testing.assert_close(a[:, :6], b[:, :6])  # outputs 0..5 unchanged
    assert not torch.allclose(a[:, 6:], b[:, 6:])
    # and the gradient of output t with respect to later inputs is zero
    x = model.tok_emb(ids).detach().requires_grad_()
    out = x + model.pos_emb.weight[:10]
    for block in model.blocks:
        out, _ = block(out, mask=causal_mask(10))
    (grad,) = torch.autograd.grad(out[0, 4].sum(), x)
    assert torch.all(grad[0, 5:] == 0) and torch.any(grad[0, :5] != 0)


def test_gpt_accepts_int32_ids_empty_inputs_and_defaults():
    model = TinyGPT(7, context_len=4, d_model=8, num_heads=2, num_layers=1)
    ids = torch.randint(0, 7, (2, 3))
    torch.testing.assert_close(model(ids.int()), model(ids))
    assert model(ids[:, :0]).shape == (2, 0, 7)
    assert model(ids[:0]).shape == (0, 3, 7)
    assert model.blocks[0].linear1.out_features == 32


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(vocab_size=0, context_len=4), ValueError, "vocab_size"),
    (dict(vocab_size=5, context_len=0), ValueError, "context_len"),
    (dict(vocab_size=5, context_len=4, d_model=0), ValueError, "d_model"),
    (dict(vocab_size=5, context_len=4, num_layers=0), ValueError, "num_layers"),
    (dict(vocab_size=5, context_len=4, num_heads=3), ValueError, "embed_dim"),
    (dict(vocab_size=5.0, context_len=4), TypeError, "vocab_size"),
    (dict(vocab_size=5, context_len=None), TypeError, "context_len"),
])
def test_gpt_rejects_bad_sizes(kwargs, error, name):
    with pytest.raises(error, match=f"^{name}"):
        TinyGPT(**kwargs)


@pytest.mark.parametrize("ids, error, message", [
    (torch.zeros(2, 3), TypeError, "ids must hold integer token ids"),
    (torch.zeros(2, 3, dtype=torch.bool), TypeError, "ids must hold integer"),
    (torch.zeros(3, dtype=torch.long), ValueError, r"ids must have shape \(B, T\)"),
    (torch.tensor(1), ValueError, r"got \(\)"),
    ([[1, 2]], TypeError, "ids must be a torch.Tensor"),
])
def test_gpt_rejects_bad_ids_by_name(ids, error, message):
    model = TinyGPT(7, context_len=4, d_model=8, num_heads=2, num_layers=1)
    with pytest.raises(error, match=message):
        model(ids)


def test_gpt_ids_outside_the_vocabulary_raise_index_error_as_documented():
    model = TinyGPT(7, context_len=4, d_model=8, num_heads=2, num_layers=1)
    with pytest.raises(IndexError):
        model(torch.tensor([[0, 7]]))


# ---- generation -----------------------------------------------------------------

def _tiny():
    torch.manual_seed(0)
    return TinyGPT(7, context_len=4, d_model=8, num_heads=2, num_layers=1)


def test_generate_is_seeded_and_respects_context():
    model = _tiny()
    start = torch.zeros(2, 1, dtype=torch.long)
    a = generate(model, start, 9, generator=torch.Generator().manual_seed(1))
    b = generate(model, start, 9, generator=torch.Generator().manual_seed(1))
    assert a.shape == (2, 10) and torch.equal(a, b) and a.max() < 7
    assert model.training  # the mode is restored
    with pytest.raises(ValueError, match="temperature"):
        generate(model, start, 3, temperature=0.0)


def test_generate_zero_tokens_returns_the_prompt_and_eval_mode_is_kept():
    model = _tiny().eval()
    start = torch.tensor([[1, 2]])
    assert torch.equal(generate(model, start, 0), start)
    generate(model, start, 2)
    assert not model.training


def test_generate_stops_when_every_row_has_produced_stop_id():
    model = _tiny()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.weight[3] = 1.0  # every logit row favours token 3 strongly...
        model.norm.bias.fill_(50.0)  # ...by a margin of 50 * d_model
    out = generate(model, torch.zeros(2, 1, dtype=torch.long), 10, stop_id=3,
                   generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 2) and torch.all(out[:, 1] == 3)
    out = generate(model, torch.zeros(2, 1, dtype=torch.long), 5, stop_id=None)
    assert out.shape == (2, 6)  # no stop token: all 5 tokens


def test_generate_uses_the_global_generator_when_none_is_given():
    model = _tiny()
    start = torch.zeros(1, 1, dtype=torch.long)
    torch.manual_seed(5)
    a = generate(model, start, 6)
    torch.manual_seed(5)
    assert torch.equal(a, generate(model, start, 6, generator=None))


def test_generate_restores_the_mode_when_the_model_diverges():
    model = _tiny()
    with torch.no_grad():
        model.head.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="logits are not finite"):
        generate(model, torch.zeros(1, 1, dtype=torch.long), 3)
    assert model.training


def test_generate_with_an_infinite_temperature_samples_uniformly():
    model = _tiny()
    out = generate(model, torch.zeros(500, 1, dtype=torch.long), 1,
                   temperature=float("inf"), generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(out[:, 1], minlength=7)
    assert counts.min() > 40  # about 500 / 7 = 71 each


def test_generate_with_a_tiny_temperature_is_greedy_not_nan():
    model = _tiny()
    start = torch.tensor([[1], [4]])
    out = generate(model, start, 3, temperature=1e-45)  # logits / T would overflow
    ids = start
    for _ in range(3):  # the arg-max, step by step
        ids = torch.cat([ids, model(ids)[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(out, ids)
    # a temperature that is 0 in float32 (found by hypothesis): greedy, not 0 / 0
    assert torch.equal(generate(model, start, 3, temperature=8.5e-293), ids)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(num_tokens=-1), ValueError, "num_tokens must be >= 0"),
    (dict(num_tokens=2.0), TypeError, "num_tokens must be an int"),
    (dict(num_tokens=2, temperature=-1.0), ValueError, "temperature must lie in"),
    (dict(num_tokens=2, temperature=float("nan")), ValueError, "temperature"),
    (dict(num_tokens=2, temperature="hot"), TypeError, "temperature must be a real"),
    (dict(num_tokens=2, temperature=None), TypeError, "temperature"),
    (dict(num_tokens=2, stop_id="."), TypeError, "stop_id must be an int"),
    (dict(num_tokens=2, stop_id=-1), ValueError, "stop_id must be >= 0"),
    (dict(num_tokens=2, ids=torch.zeros(3, dtype=torch.long)), ValueError,
     r"ids must be \(B, T0\) with T0 >= 1, got \(3,\)"),
    (dict(num_tokens=2, ids=torch.zeros(2, 0, dtype=torch.long)), ValueError,
     r"got \(2, 0\)"),
    (dict(num_tokens=2, ids=[[0]]), TypeError, "ids must be a torch.Tensor"),
    (dict(num_tokens=2, ids=torch.zeros(1, 1)), TypeError, "ids must hold integer"),
])
def test_generate_rejects_misuse_by_name(kwargs, error, message):
    kwargs.setdefault("ids", torch.zeros(1, 1, dtype=torch.long))
    model = _tiny()
    with pytest.raises(error, match=message):
        generate(model, **kwargs)
    assert model.training


# ---- text in, text out ------------------------------------------------------------

@pytest.mark.slow
def test_tiny_gpt_learns_the_corpus():
    sentences = corpus.generate_sentences(300, seed=0)
    tokens = text.tokenize(" ".join(sentences))
    vocab = text.Vocab.build(tokens)
    X, Y = text.lm_windows(vocab.encode(tokens), seq_len=12, stride=6)
    torch.manual_seed(0)
    model = TinyGPT(len(vocab), context_len=12, d_model=24, num_heads=2, num_layers=1)
    history = fit(model, (X, Y), loss_fn=sequence_cross_entropy,
                  optimizer=torch.optim.Adam(model.parameters(), lr=1e-2),
                  num_epochs=6, batch_size=32,
                  generator=torch.Generator().manual_seed(0))
    uniform = torch.log(torch.tensor(float(len(vocab)))).item()
    assert history.train_loss[0] > 0.6 * uniform
    assert history.train_loss[-1] < 0.5 * uniform
    out = sample(model, vocab, "bob", 12, seed=3)
    assert out.startswith("bob") and out == sample(model, vocab, "bob", 12, seed=3)
    with pytest.raises(ValueError, match="prompt"):
        sample(model, vocab, "", 3)


def test_sample_misuse_and_edge_cases():
    vocab = text.Vocab.build(text.tokenize("bob eats the cake . alice runs ."))
    torch.manual_seed(0)
    model = TinyGPT(len(vocab), context_len=6, d_model=8, num_heads=2, num_layers=1)
    assert sample(model, vocab, "bob eats", max_tokens=0) == "bob eats"
    long = sample(model, vocab, "bob", max_tokens=8, stop="#")  # "#" is no token
    assert len(text.tokenize(long)) == 9
    with pytest.raises(ValueError, match="prompt must hold at least one token"):
        sample(model, vocab, "  ")
    with pytest.raises(TypeError, match="text must be a str"):
        sample(model, vocab, ["bob"])
    with pytest.raises(ValueError, match="seed must be >= 0"):
        sample(model, vocab, "bob", seed=-1)
    with pytest.raises(ValueError, match="max_tokens must be >= 0"):
        sample(model, vocab, "bob", max_tokens=-2)


@given(shape=st.lists(st.integers(0, 6), min_size=0, max_size=3).map(tuple),
       dtype=st.sampled_from([torch.int64, torch.int32, torch.float32, torch.bool]))
@settings(max_examples=60, deadline=None)
def test_gpt_random_ids_give_logits_or_a_clear_error(shape, dtype):
    model = TinyGPT(7, context_len=4, d_model=8, num_heads=2, num_layers=1)
    try:
        logits = model(torch.zeros(shape, dtype=dtype))
    except (TypeError, ValueError) as err:
        assert str(err).startswith("ids must")
        return
    assert logits.shape == (*shape, 7)


@given(num_tokens=st.integers(-2, 5) | st.floats(allow_nan=True),
       temperature=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-2, 3))
@settings(max_examples=60, deadline=None)
def test_generate_random_settings_give_tokens_or_a_clear_error(num_tokens, temperature):
    model = _tiny()
    start = torch.zeros(2, 1, dtype=torch.long)
    try:
        out = generate(model, start, num_tokens, temperature,
                       generator=torch.Generator().manual_seed(0))
    except (TypeError, ValueError) as err:
        assert str(err).split()[0] in ("num_tokens", "temperature", "the")
        return
    assert out.shape == (2, 1 + num_tokens) and torch.equal(out[:, :1], start)
    assert model.training


# ---- dropout and weight tying in the tiny GPT -------------------------------------

def test_gpt_dropout_acts_in_training_mode_only():
    torch.manual_seed(0)
    dropped = TinyGPT(11, context_len=6, d_model=16, num_heads=2, dropout=0.2)
    plain = TinyGPT(11, context_len=6, d_model=16, num_heads=2)
    plain.load_state_dict(dropped.state_dict())
    ids = torch.randint(0, 11, (3, 6))
    assert not torch.equal(dropped(ids), dropped(ids))  # a new mask each pass
    torch.manual_seed(5)
    first = dropped(ids)
    torch.manual_seed(5)
    torch.testing.assert_close(dropped(ids), first)  # seeded: reproducible
    with eval_mode(dropped):
        torch.testing.assert_close(dropped(ids), plain(ids))
    torch.testing.assert_close(plain(ids), plain(ids))  # dropout 0: deterministic
    assert all(block.dropout.p == 0.2 for block in dropped.blocks)
    assert dropped.dropout.p == 0.2  # and on the embeddings


def test_gpt_embedding_dropout_drops_the_sum_of_the_embeddings():
    torch.manual_seed(0)
    model = TinyGPT(11, context_len=6, d_model=16, num_heads=2, num_layers=1,
                    dropout=0.5)
    ids = torch.randint(0, 11, (2, 6))
    torch.manual_seed(3)
    logits = model(ids)
    torch.manual_seed(3)  # the same masks, in the same order
    x = F.dropout(model.tok_emb(ids) + model.pos_emb.weight[:6], 0.5, training=True)
    x, _ = model.blocks[0](x, mask=causal_mask(6))
    torch.testing.assert_close(logits, model.head(model.norm(x)))


def test_tied_gpt_shares_one_matrix_and_saves_v_times_d_parameters():
    torch.manual_seed(0)
    tied = TinyGPT(13, context_len=6, d_model=8, num_heads=2, tie_weights=True)
    untied = TinyGPT(13, context_len=6, d_model=8, num_heads=2)
    assert tied.head.weight is tied.tok_emb.weight
    assert untied.head.weight is not untied.tok_emb.weight
    assert parameter_count(untied) - parameter_count(tied) == 13 * 8
    tied = tied.double()  # conversions keep the tie
    assert tied.head.weight is tied.tok_emb.weight
    clone = TinyGPT(13, context_len=6, d_model=8, num_heads=2, tie_weights=True)
    clone.double().load_state_dict(tied.state_dict())
    ids = torch.randint(0, 13, (2, 6))
    torch.testing.assert_close(clone.double()(ids), tied(ids))


def test_tied_gradient_is_the_sum_over_both_uses():
    torch.manual_seed(0)
    tied = TinyGPT(13, context_len=6, d_model=8, num_heads=2,
                   tie_weights=True).double()
    untied = TinyGPT(13, context_len=6, d_model=8, num_heads=2).double()
    untied.load_state_dict(tied.state_dict())  # head = a copy of the embedding
    torch.testing.assert_close(untied.head.weight, untied.tok_emb.weight)
    ids = torch.randint(0, 13, (3, 6))
    tied(ids).logsumexp(-1).sum().backward()
    untied(ids).logsumexp(-1).sum().backward()
    torch.testing.assert_close(tied.tok_emb.weight.grad,
                               untied.tok_emb.weight.grad + untied.head.weight.grad)


def test_tied_gpt_built_on_the_meta_device():
    # built there, not moved there: .to("meta") makes new parameters (PyTorch)
    with torch.device("meta"):
        model = TinyGPT(9, context_len=6, d_model=8, tie_weights=True)
    assert model.head.weight is model.tok_emb.weight
    out = model(torch.empty(2, 5, dtype=torch.long, device="meta"))
    assert out.device.type == "meta" and out.shape == (2, 5, 9)
