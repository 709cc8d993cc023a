import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.attention import (
    MultiHeadAttention,
    OneLayerAttention,
    SelfAttention,
    check_attention_inputs,
    positional_encoding,
    scaled_dot_product_attention,
)

DT = torch.float64


def _qkv(*batch, L=5, S=6, d_k=4, d_v=3, seed=0):
    g = torch.Generator().manual_seed(seed)

    def make(*shape):
        return torch.randn(*shape, generator=g, dtype=DT)

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


# ---- scaled dot-product attention: equivalence with PyTorch -----------------------

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


def test_sdpa_broadcasts_leading_dimensions_like_torch():
    q, _, _ = _qkv(2, 3, seed=1)
    _, k, v = _qkv(seed=2)  # one set of keys and values for every batch and head
    out, w = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5, 3) and w.shape == (2, 3, 5, 6)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))


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


def test_no_grad_and_value_only_grad_paths_agree_with_torch():
    q, k, v = _qkv(2, 3)
    mask = MASKS["causal"]
    with torch.no_grad():
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


# ---- scaled dot-product attention: properties ---------------------------------

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


@given(L=st.integers(1, 5), S=st.integers(1, 5), seed=st.integers(0, 10_000),
       p=st.floats(0.0, 1.0))
@settings(max_examples=60, deadline=None)
def test_any_mask_rows_sum_to_one_or_zero_and_match_torch(L, S, seed, p):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, n, 4, generator=g, dtype=DT) for n in (L, S, S))
    mask = torch.rand(2, L, S, generator=g) < p  # rows may be entirely False
    out, w = scaled_dot_product_attention(q, k, v, mask)
    allowed = mask.any(-1)  # (2, L)
    torch.testing.assert_close(w.sum(-1), allowed.to(DT))
    assert torch.all(w >= 0) and torch.all(w[~mask] == 0)
    assert torch.all(out[~allowed] == 0)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v,
                                                                    attn_mask=mask))


SHAPES = st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple)
DTYPES = st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool])


@given(q_shape=SHAPES, k_shape=SHAPES, v_shape=SHAPES, dtypes=st.tuples(
    DTYPES, DTYPES, DTYPES), mask_shape=st.none() | SHAPES,
       mask_dtype=st.sampled_from([torch.bool, torch.float32, torch.int64]))
@settings(max_examples=200, deadline=None)
def test_random_bad_inputs_give_a_result_or_a_clear_error(q_shape, k_shape, v_shape,
                                                          dtypes, mask_shape,
                                                          mask_dtype):
    q, k, v = (torch.zeros(s, dtype=d) for s, d in zip((q_shape, k_shape, v_shape),
                                                        dtypes))
    mask = None if mask_shape is None else torch.ones(mask_shape, dtype=mask_dtype)
    try:
        out, w = scaled_dot_product_attention(q, k, v, mask)
    except (TypeError, ValueError) as err:
        assert any(name in str(err) for name in ("q", "k", "v", "mask"))
        return
    assert out.shape[-2:] == (q_shape[-2], v_shape[-1])
    assert w.shape[-2:] == (q_shape[-2], k_shape[-2])


# ---- scaled dot-product attention: misuse ---------------------------------------

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


@pytest.mark.parametrize("which", ["q", "k", "v"])
@pytest.mark.parametrize("bad, error, message", [
    (None, TypeError, "torch.Tensor, got NoneType"),
    ([[1.0, 2.0]], TypeError, "torch.Tensor, got list"),
    (torch.ones(3, 4, dtype=torch.long), TypeError, "floating-point dtype"),
    (torch.tensor(1.0, dtype=DT), ValueError, r"at least 2 dimensions.*shape \(\)"),
    (torch.ones(4, dtype=DT), ValueError, r"at least 2 dimensions.*shape \(4,\)"),
])
def test_sdpa_rejects_each_bad_argument_by_name(which, bad, error, message):
    args = dict(zip("qkv", _qkv(d_k=4, d_v=4)))
    args[which] = bad
    with pytest.raises(error, match=f"^{which} must .*{message}"):
        scaled_dot_product_attention(**args)


@pytest.mark.parametrize("mask, error, message", [
    ([[True] * 6] * 5, TypeError, "mask must be a torch.Tensor, got list"),
    (torch.ones(5, 6, dtype=torch.uint8), TypeError, "boolean tensor.*torch.uint8"),
    (torch.ones(5, 6, dtype=torch.long), TypeError, "boolean tensor.*torch.int64"),
    (torch.zeros(5, 6), TypeError, "boolean tensor.*torch.float32"),
    (torch.ones(6, 5, dtype=torch.bool), ValueError, r"mask has shape \(6, 5\)"),
    (torch.ones(6, dtype=torch.bool).view(6, 1), ValueError, r"\(6, 1\)"),
    (torch.ones(3, 5, 6, dtype=torch.bool), ValueError, r"\(3, 5, 6\).*\(5, 6\)"),
])
def test_sdpa_rejects_bad_masks(mask, error, message):
    q, k, v = _qkv()
    with pytest.raises(error, match=message):
        scaled_dot_product_attention(q, k, v, mask)


def test_sdpa_accepts_none_a_0d_and_a_full_mask_as_no_mask():
    q, k, v = _qkv(2)
    plain, w = scaled_dot_product_attention(q, k, v)
    for mask in (None, torch.tensor(True), torch.ones(5, 6, dtype=torch.bool)):
        out, w_mask = scaled_dot_product_attention(q, k, v, mask)
        torch.testing.assert_close(out, plain)
        torch.testing.assert_close(w_mask, w)
    out, w = scaled_dot_product_attention(q, k, v, torch.tensor(False))
    assert torch.all(out == 0) and torch.all(w == 0)  # nothing to attend to


def test_sdpa_rejects_leading_dimensions_that_do_not_broadcast():
    q, _, _ = _qkv(2)
    _, k, v = _qkv(3)
    with pytest.raises(ValueError, match=r"leading dimensions.*\(2, 5, 4\).*"
                                         r"\(3, 6, 4\)"):
        scaled_dot_product_attention(q, k, v)


def test_sdpa_empty_tensors_follow_torch():
    q, k, v = _qkv(2, L=0)  # no queries
    out, w = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 0, 3) and w.shape == (2, 0, 6)
    q, k, v = (t.detach() for t in _qkv(2, S=0))  # no keys: output 0, as in PyTorch
    out, w = scaled_dot_product_attention(q, k, v)
    assert w.shape == (2, 5, 0)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    assert torch.all(out == 0)
    q, k, v = (t.detach() for t in _qkv(d_k=0))  # d_k = 0: every score is 0
    out, w = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(w, torch.full((5, 6), 1 / 6, dtype=DT))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))


def test_sdpa_propagates_nan_and_inf_instead_of_hiding_them():
    q, k, v = (t.detach() for t in _qkv())
    q[1, 0] = float("nan")
    out, w = scaled_dot_product_attention(q, k, v)
    assert torch.isnan(out[1]).all() and torch.isnan(w[1]).all()
    assert torch.isfinite(out[[0, 2, 3, 4]]).all()
    k[2, 0] = float("inf")
    out, _ = scaled_dot_product_attention(q, k, v)
    assert not torch.isfinite(out).all()


def test_check_attention_inputs_accepts_valid_arguments():
    q, k, v = _qkv(2, 3)
    assert check_attention_inputs(q, k, v) is None
    assert check_attention_inputs(q, k, v, MASKS["keys only (B, 1, 1, S)"]) is None


# ---- positional encoding -----------------------------------------------------------

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


@pytest.mark.parametrize("kwargs, name", [
    (dict(seq_len=4.0, d_model=4), "seq_len"),
    (dict(seq_len=4, d_model=None), "d_model"),
    (dict(seq_len=True, d_model=4), "seq_len"),
    (dict(seq_len="4", d_model=4), "seq_len"),
    (dict(seq_len=4, d_model=4, dtype=torch.long), "dtype"),
    (dict(seq_len=4, d_model=4, dtype="float32"), "dtype"),
    (dict(seq_len=4, d_model=4, dtype=None), "dtype"),
])
def test_positional_encoding_rejects_wrong_types(kwargs, name):
    with pytest.raises(TypeError, match=f"^{name} must"):
        positional_encoding(**kwargs)


# ---- self-attention --------------------------------------------------------------

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


def test_self_attention_defaults_bias_and_empty_sequences():
    attn = SelfAttention(6)
    assert attn.W_k.out_features == 6 and attn.W_v.out_features == 6
    assert attn.W_q.bias is None and SelfAttention(6, bias=True).W_q.bias is not None
    assert SelfAttention(6, d_k=2).W_v.out_features == 2  # d_v defaults to d_k
    out, w = attn(torch.randn(2, 0, 6))
    assert out.shape == (2, 0, 6) and w.shape == (2, 0, 0)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(d_model=0), ValueError, "d_model"),
    (dict(d_model=4, d_k=-1), ValueError, "d_k"),
    (dict(d_model=4, d_v=0), ValueError, "d_v"),
    (dict(d_model=4.0), TypeError, "d_model"),
    (dict(d_model=None), TypeError, "d_model"),
    (dict(d_model=4, d_k="2"), TypeError, "d_k"),
])
def test_self_attention_rejects_bad_sizes(kwargs, error, name):
    with pytest.raises(error, match=f"^{name} must"):
        SelfAttention(**kwargs)


@pytest.mark.parametrize("x, error, message", [
    ([[1.0] * 4], TypeError, "x must be a torch.Tensor"),
    (torch.ones(2, 3, 4, dtype=torch.long), TypeError, "x must have a floating"),
    (torch.tensor(1.0), ValueError,
     r"x must have 2 or 3 dimension\(s\), got shape \(\)"),
    (torch.ones(4), ValueError, r"got shape \(4,\)"),
    (torch.ones(2, 3, 5), ValueError, r"x must have size 4 in its last dimension"),
])
def test_self_attention_rejects_bad_inputs(x, error, message):
    with pytest.raises(error, match=message):
        SelfAttention(4)(x)


# ---- multi-head attention -------------------------------------------------------

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


def test_multi_head_value_defaults_to_key():
    ours, theirs = _loaded_pair()
    x, mem = torch.randn(2, 4, 8, dtype=DT), torch.randn(2, 6, 8, dtype=DT)
    out, w = ours(x, mem)
    ref, ref_w = theirs(x, mem, mem, average_attn_weights=False)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(w, ref_w)


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


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(embed_dim=0, num_heads=1), ValueError, "embed_dim"),
    (dict(embed_dim=8, num_heads=0), ValueError, "num_heads"),
    (dict(embed_dim=8, num_heads=3), ValueError, "embed_dim must be divisible"),
    (dict(embed_dim=8.0, num_heads=2), TypeError, "embed_dim"),
    (dict(embed_dim=8, num_heads=None), TypeError, "num_heads"),
])
def test_multi_head_rejects_bad_sizes(kwargs, error, name):
    with pytest.raises(error, match=f"^{name}"):
        MultiHeadAttention(**kwargs)


def test_multi_head_rejects_bad_inputs_by_name():
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(2, 5, 8)
    cases = [((x.tolist(),), TypeError, "query must be a torch.Tensor"),
             ((x.long(),), TypeError, "query must have a floating"),
             ((x.double(),), TypeError, "query must have the layer's dtype"),
             ((x, x.double()), TypeError, "key must have the layer's dtype"),
             ((torch.tensor(1.0),), ValueError, r"query must have shape.*got \(\)"),
             ((x, torch.randn(3, 5, 8)), ValueError, r"key must.*\(3, 5, 8\)"),
             ((x, x, torch.randn(2, 5, 7)), ValueError, "value must have shape"),
             ((x, x, torch.randn(2, 4, 8)), ValueError, "k has shape"),
             ((x, None, None, torch.ones(5, 5)), TypeError, "mask must be a boolean"),
             ((x, None, None, torch.ones(5, 4, dtype=torch.bool)), ValueError,
              r"mask has shape \(5, 4\)")]
    for args, error, message in cases:
        with pytest.raises(error, match=message):
            mha(*args)


def test_multi_head_handles_empty_sequences_and_batches():
    mha = MultiHeadAttention(8, 2)
    out, w = mha(torch.randn(2, 0, 8))
    assert out.shape == (2, 0, 8) and w.shape == (2, 2, 0, 0)
    out, w = mha(torch.randn(0, 3, 8))
    assert out.shape == (0, 3, 8) and w.shape == (0, 2, 3, 3)


# ---- the one-layer toy model ----------------------------------------------------

def test_one_layer_attention_shapes():
    model = OneLayerAttention(vocab_size=5, seq_len=4, d_model=8)
    logits, w = model(torch.zeros(3, 4, dtype=torch.long), return_weights=True)
    assert logits.shape == (3, 4, 5) and w.shape == (3, 4, 4)
    assert model(torch.zeros(3, 4, dtype=torch.long)).shape == (3, 4, 5)
    assert model(torch.zeros(3, 4, dtype=torch.int32)).shape == (3, 4, 5)


def test_one_layer_attention_without_positions_is_permutation_equivariant():
    model = OneLayerAttention(vocab_size=6, seq_len=5, d_model=8, pos_scale=0.0)
    X = torch.tensor([[0, 1, 2, 3, 4]])
    perm = torch.tensor([4, 2, 0, 3, 1])
    torch.testing.assert_close(model(X[:, perm]), model(X)[:, perm])


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(vocab_size=0, seq_len=4), ValueError, "vocab_size"),
    (dict(vocab_size=5, seq_len=0), ValueError, "seq_len"),
    (dict(vocab_size=5, seq_len=4, d_model=0), ValueError, "d_model"),
    (dict(vocab_size=5, seq_len=4, pos_scale=float("nan")), ValueError, "pos_scale"),
    (dict(vocab_size=5, seq_len=4, pos_scale="2"), TypeError, "pos_scale"),
    (dict(vocab_size=5, seq_len=4, init_std=-0.1), ValueError, "init_std"),
])
def test_one_layer_attention_rejects_bad_settings(kwargs, error, name):
    with pytest.raises(error, match=f"^{name} must"):
        OneLayerAttention(**kwargs)


@pytest.mark.parametrize("X, error, message", [
    (torch.zeros(3, 4), TypeError, "X must have dtype torch.int64 or torch.int32"),
    (torch.zeros(3, 4, dtype=torch.bool), TypeError,
     "X must have dtype torch.int64 or torch.int32"),
    (torch.zeros(4, dtype=torch.long), ValueError,
     r"X must have 2 dimension\(s\), got shape \(4,\)"),
    (torch.zeros(3, 5, dtype=torch.long), ValueError,
     r"last dimension, got shape \(3, 5\)"),
    ([[0, 1, 2, 3]], TypeError, "X must be a torch.Tensor"),
])
def test_one_layer_attention_rejects_bad_inputs(X, error, message):
    with pytest.raises(error, match=message):
        OneLayerAttention(vocab_size=5, seq_len=4, d_model=8)(X)
