import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.attention import (MultiHeadAttention, OneLayerAttention, SelfAttention,
                               alignment_score, draw_attention_steps,
                               plot_alignment, plot_head_weights,
                               plot_positional_encoding, plot_score_scaling,
                               positional_encoding, scaled_dot_product_attention,
                               score_spread, train_reversal)
from introdl.tasks import reversal_alignment, reversal_task

DT = torch.float64


def _qkv(*batch, L=5, S=6, d_k=4, d_v=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    make = lambda *shape: torch.randn(*shape, generator=g, dtype=DT)  # noqa: E731
    return (make(*batch, L, d_k).requires_grad_(),
            make(*batch, S, d_k).requires_grad_(),
            make(*batch, S, d_v).requires_grad_())


MASKS = {
    "none": None,
    "full (L, S)": torch.rand(5, 6, generator=torch.Generator().manual_seed(1)) > 0.4,
    "per batch (B, 1, L, S)": torch.rand(
        2, 1, 5, 6, generator=torch.Generator().manual_seed(2)) > 0.4,
    "keys only (B, 1, 1, S)": torch.tensor([[True] * 6, [True] * 3 + [False] * 3]
                                           ).view(2, 1, 1, 6),
    "causal": torch.ones(5, 6, dtype=torch.bool).tril(),
}


@pytest.mark.parametrize("mask", MASKS.values(), ids=MASKS.keys())
def test_sdpa_matches_torch_values_and_gradients(mask):
    q, k, v = _qkv(2, 3)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, expected)
    assert weights.shape == (2, 3, 5, 6)
    upstream = torch.randn_like(out)
    ours = torch.autograd.grad(out, (q, k, v), upstream)
    theirs = torch.autograd.grad(expected, (q, k, v), upstream)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b)


def test_sdpa_causal_equals_is_causal_flag():
    q, k, v = _qkv(2, L=6, S=6)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    out, w = scaled_dot_product_attention(q, k, v, causal)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, expected)
    assert torch.all(w.triu(1) == 0)


def test_sdpa_weights_are_softmax_of_scaled_scores():
    q, k, v = _qkv(L=3, S=4, d_k=9)
    _, w = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(w, torch.softmax(q @ k.T / 3.0, dim=-1))


def test_fully_masked_row_gives_zero_weights_output_and_finite_grads():
    q, k, v = _qkv(2)
    mask = torch.ones(5, 6, dtype=torch.bool)
    mask[2] = False
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(w[:, 2] == 0) and torch.all(out[:, 2] == 0)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v,
                                                                    attn_mask=mask))
    torch.testing.assert_close(w[:, [0, 1, 3, 4]].sum(-1), torch.ones(2, 4, dtype=DT))
    grads = torch.autograd.grad(out.sum(), (q, k, v))
    assert all(torch.isfinite(g).all() for g in grads)


@given(L=st.integers(1, 6), S=st.integers(1, 6), d=st.integers(1, 5),
       seed=st.integers(0, 10_000), scale=st.floats(0.01, 30.0))
@settings(max_examples=60, deadline=None)
def test_weight_properties(L, S, d, seed, scale):
    g = torch.Generator().manual_seed(seed)
    q = scale * torch.randn(2, L, d, generator=g, dtype=DT)
    k = scale * torch.randn(2, S, d, generator=g, dtype=DT)
    v = torch.randn(2, S, 3, generator=g, dtype=DT)
    mask = torch.rand(2, L, S, generator=g) > 0.5
    mask[:, :, 0] = True  # every row may attend somewhere
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, L, 3) and w.shape == (2, L, S)
    assert torch.all(w >= 0)
    assert torch.all(w[~mask] == 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, L, dtype=DT))
    assert torch.isfinite(out).all()


def test_sdpa_errors_name_shapes():
    q, k, v = _qkv(d_k=4)
    with pytest.raises(ValueError,
                       match=r"q has shape \(5, 4\) and k has shape \(6, 3\)"):
        scaled_dot_product_attention(q, k[:, :3], v)
    with pytest.raises(ValueError,
                       match=r"k has shape \(6, 4\) and v has shape \(5, 3\)"):
        scaled_dot_product_attention(q, k, v[:5])
    with pytest.raises(ValueError, match=r"mask has shape \(5, 5\)"):
        scaled_dot_product_attention(q, k, v, torch.ones(5, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask must be a boolean tensor"):
        scaled_dot_product_attention(q, k, v, torch.ones(5, 6))
    with pytest.raises(TypeError, match="q must be a torch.Tensor"):
        scaled_dot_product_attention([[1.0]], k, v)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        scaled_dot_product_attention(q[0], k, v)
    with pytest.raises(TypeError, match="share one dtype"):
        scaled_dot_product_attention(q.float(), k, v)


def test_positional_encoding_formula():
    pe = positional_encoding(7, 6, dtype=DT)
    assert pe.shape == (7, 6) and pe.dtype == DT
    for pos in range(7):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            sin, cos = math.sin(angle), math.cos(angle)
            assert pe[pos, 2 * i].item() == pytest.approx(sin, abs=1e-12)
            assert pe[pos, 2 * i + 1].item() == pytest.approx(cos, abs=1e-12)


def test_positional_encoding_odd_width_and_range():
    pe = positional_encoding(50, 5)
    assert pe.shape == (50, 5) and pe.dtype == torch.float32
    assert pe.abs().max() <= 1
    angle = torch.arange(50, dtype=DT) / 10000 ** (4 / 5)
    torch.testing.assert_close(pe[:, 4], torch.sin(angle).float())
    torch.testing.assert_close(positional_encoding(1, 1), torch.zeros(1, 1))


@pytest.mark.parametrize("seq_len, d_model", [(0, 4), (4, 0), (-1, 4)])
def test_positional_encoding_rejects_non_positive(seq_len, d_model):
    with pytest.raises(ValueError, match="must be > 0"):
        positional_encoding(seq_len, d_model)


def test_self_attention_is_permutation_equivariant():
    torch.manual_seed(0)
    attn = SelfAttention(8, d_k=4, d_v=5).double()
    x = torch.randn(3, 6, 8, dtype=DT)
    perm = torch.randperm(6)
    out, w = attn(x)
    out_p, w_p = attn(x[:, perm])
    assert out.shape == (3, 6, 5) and w.shape == (3, 6, 6)
    torch.testing.assert_close(out_p, out[:, perm])
    torch.testing.assert_close(w_p, w[:, perm][:, :, perm])


def _loaded_pair(E=8, h=2, bias=True):
    torch.manual_seed(3)
    theirs = torch.nn.MultiheadAttention(E, h, bias=bias, batch_first=True, dtype=DT)
    for p in theirs.parameters():
        torch.nn.init.normal_(p, std=0.5)
    ours = MultiHeadAttention(E, h, bias=bias).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_multi_head_matches_torch(bias, masked):
    ours, theirs = _loaded_pair(bias=bias)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(3, 5, 8, generator=g, dtype=DT, requires_grad=True)
    mem = torch.randn(3, 7, 8, generator=g, dtype=DT, requires_grad=True)
    mask = torch.rand(5, 7, generator=g) > 0.3 if masked else None
    mask = None if mask is None else mask | torch.eye(5, 7, dtype=torch.bool)
    out, w = ours(x, mem, mem, mask=mask)
    ref, ref_w = theirs(x, mem, mem, attn_mask=None if mask is None else ~mask,
                        average_attn_weights=False)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(w, ref_w)
    assert w.shape == (3, 2, 5, 7)
    up = torch.randn_like(out)
    g_ours = torch.autograd.grad(out, [x, mem, *ours.parameters()], up)
    g_theirs = torch.autograd.grad(ref, [x, mem, *theirs.parameters()], up)
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b)


def test_multi_head_self_attention_default_and_causal():
    ours, theirs = _loaded_pair(E=12, h=3)
    x = torch.randn(2, 6, 12, dtype=DT)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    out, w = ours(x, mask=causal)
    ref, ref_w = theirs(x, x, x, attn_mask=~causal, average_attn_weights=False)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(w, ref_w)
    torch.testing.assert_close(w.mean(1), theirs(x, x, x, attn_mask=~causal)[1])


def test_one_head_is_self_attention_plus_output_projection():
    torch.manual_seed(0)
    mha = MultiHeadAttention(6, 1, bias=False).double()
    single = SelfAttention(6).double()
    W_q, W_k, W_v = mha.in_proj_weight.detach().chunk(3)
    single.load_state_dict({"W_q.weight": W_q, "W_k.weight": W_k, "W_v.weight": W_v})
    x = torch.randn(2, 4, 6, dtype=DT)
    out, w = mha(x)
    s_out, s_w = single(x)
    torch.testing.assert_close(w[:, 0], s_w)
    torch.testing.assert_close(out, mha.out_proj(s_out))


def test_multi_head_errors():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"query must have shape \(B, length, 8\)"):
        mha(torch.randn(5, 8))
    with pytest.raises(ValueError, match=r"key must have shape"):
        mha(torch.randn(2, 5, 8), torch.randn(2, 5, 4))


def test_reversal_task_and_alignment():
    X, y = reversal_task(20, seq_len=5, vocab_size=7, seed=1)
    assert X.shape == y.shape == (20, 5) and X.max() < 7
    torch.testing.assert_close(y[:, 0], X[:, 4])
    A = reversal_alignment(5)
    torch.testing.assert_close(A @ X.T.float(), y.T.float())
    assert alignment_score(A.expand(3, 5, 5), A) == 1.0
    with pytest.raises(ValueError, match="seq_len must be >= 2"):
        reversal_task(3, seq_len=1)


@pytest.mark.slow
def test_trained_reversal_model_attends_along_the_anti_diagonal():
    run = train_reversal(num_epochs=6, seed=0)
    expected = reversal_alignment(8)
    assert run.accuracy > 0.99
    assert alignment_score(run.weights_after, expected) > 0.9
    assert alignment_score(run.weights_before, expected) < 0.3
    # every query's strongest key is its mirror position
    assert torch.equal(run.weights_after.argmax(-1),
                       expected.argmax(-1).expand(len(run.X_test), 8))
    assert run.history.train_loss[-1] < 0.05 < run.history.train_loss[0]


def test_one_layer_attention_shapes():
    model = OneLayerAttention(vocab_size=5, seq_len=4, d_model=8)
    logits, w = model(torch.zeros(3, 4, dtype=torch.long), return_weights=True)
    assert logits.shape == (3, 4, 5) and w.shape == (3, 4, 4)
    assert model(torch.zeros(3, 4, dtype=torch.long)).shape == (3, 4, 5)


def test_score_spread_grows_like_sqrt_dk():
    s = score_spread(d_ks=(4, 256), n=4000)
    assert s["unscaled"][1] / s["unscaled"][0] == pytest.approx(8, rel=0.15)
    assert s["scaled"] == pytest.approx([1, 1], rel=0.1)
    assert s["weights_unscaled"].max() > s["weights_scaled"].max()


def test_figures_return_figures():
    import matplotlib.figure

    A = reversal_alignment(4)
    figs = [draw_attention_steps(), plot_score_scaling(score_spread(n=50)),
            plot_positional_encoding(positional_encoding(20, 32)),
            plot_alignment(A / 2, A, A, list("abcd"), list("dcba")),
            plot_head_weights(torch.rand(2, 3, 3), list("xyz"))]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)


def test_no_grad_and_value_only_grad_paths_agree_with_torch():
    q, k, v = _qkv(2, 3)
    mask = MASKS["causal"]
    with torch.no_grad():  # the softmax then works in place on the scores
        out, w = scaled_dot_product_attention(q, k, v, mask)
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v,
                                                                       attn_mask=mask))
        torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 5, dtype=DT))
    q0, k0 = q.detach(), k.detach()  # only v needs a gradient
    out, _ = scaled_dot_product_attention(q0, k0, v, mask)
    expected = F.scaled_dot_product_attention(q0, k0, v, attn_mask=mask)
    (g_ours,) = torch.autograd.grad(out.sum(), v)
    (g_theirs,) = torch.autograd.grad(expected.sum(), v)
    torch.testing.assert_close(g_ours, g_theirs)
