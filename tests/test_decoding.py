import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.decoding import (
    next_token,
    perplexity,
    sample_sequence,
    top_k_filter,
    top_p_filter,
)
from introdl.losses import IGNORE_INDEX

# ---- independent references, one row at a time, in plain Python --------------------


def reference_top_k(row: list[float], k: int) -> set[int]:
    """Indices of the k largest values (values tied with the k-th are kept)."""
    kth = sorted(row, reverse=True)[min(k, len(row)) - 1]
    return {i for i, v in enumerate(row) if v >= kth}


def reference_top_p(row: list[float], p: float) -> set[int]:
    """Holtzman et al.'s nucleus: the fewest most probable tokens whose
    probabilities sum to at least p."""
    m = max(row)
    exps = [math.exp(v - m) for v in row]
    probs = [e / sum(exps) for e in exps]
    kept, mass = set(), 0.0
    for i in sorted(range(len(row)), key=lambda i: -probs[i]):
        kept.add(i)
        mass += probs[i]
        if mass >= p:
            break
    return kept


def kept(filtered: torch.Tensor) -> set[int]:
    return set(torch.isfinite(filtered).nonzero().flatten().tolist())


@pytest.mark.parametrize("k", [1, 2, 5, 10, 50])
def test_top_k_matches_reference(k):
    g = torch.Generator().manual_seed(k)
    logits = torch.randn(6, 10, generator=g, dtype=torch.float64)
    out = top_k_filter(logits, k)
    for row, filtered in zip(logits.tolist(), out):
        assert kept(filtered) == reference_top_k(row, k)
        finite = torch.isfinite(filtered)
        torch.testing.assert_close(filtered[finite], torch.tensor(row,
                                   dtype=torch.float64)[finite])  # values untouched


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9, 0.99])
def test_top_p_matches_reference(p):
    g = torch.Generator().manual_seed(int(100 * p))
    logits = 2 * torch.randn(8, 12, generator=g, dtype=torch.float64)
    for row, filtered in zip(logits.tolist(), top_p_filter(logits, p)):
        assert kept(filtered) == reference_top_p(row, p)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-20, 20), min_size=1, max_size=30), st.floats(0.01, 1.0))
def test_top_p_property(row, p):
    logits = torch.tensor(row, dtype=torch.float64)
    out = top_p_filter(logits, p)
    probs = logits.softmax(-1)
    keep = torch.isfinite(out)
    assert keep[logits.argmax()]  # the best token always stays
    assert probs[keep].sum() >= p - 1e-9  # the nucleus holds at least p ...
    if keep.sum() > 1:  # ... and without its least probable member it would not
        assert probs[keep].sum() - probs[keep].min() < p + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-20, 20), min_size=1, max_size=30), st.integers(1, 40))
def test_top_k_property(row, k):
    logits = torch.tensor(row)
    keep = torch.isfinite(top_k_filter(logits, k))
    assert keep.sum() >= min(k, len(row))
    if keep.sum() < len(row):
        assert logits[keep].min() > logits[~keep].max()


def test_filters_keep_everything_at_their_limit_and_work_on_batches():
    logits = torch.randn(2, 3, 7)
    assert torch.equal(top_k_filter(logits, 7), logits)
    assert torch.equal(top_k_filter(logits, 100), logits)
    assert torch.equal(top_p_filter(logits, 1.0), logits)
    assert top_k_filter(logits, 2).isfinite().sum(-1).eq(2).all()


def test_filters_reject_bad_arguments():
    logits = torch.randn(4)
    for p in (0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="p must lie in"):
            top_p_filter(logits, p)
    with pytest.raises(ValueError, match="k must be > 0"):
        top_k_filter(logits, 0)
    with pytest.raises(TypeError, match="k must be an int"):
        top_k_filter(logits, 2.5)
    with pytest.raises(TypeError, match="floating-point"):
        top_k_filter(torch.tensor([1, 2, 3]), 1)
    with pytest.raises(TypeError, match="logits must be a torch.Tensor"):
        top_p_filter([0.1, 0.2], 0.5)


def test_temperature_zero_is_greedy_and_small_temperature_tends_to_it():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(50, 9, generator=g)
    greedy = logits.argmax(-1)
    assert torch.equal(next_token(logits, temperature=0), greedy)
    assert torch.equal(next_token(logits, 0, top_k=3, top_p=0.5), greedy)
    top = [torch.softmax(logits / t, -1).amax(-1).min().item() for t in (1, 0.1, 0.01)]
    assert top[0] < top[1] < top[2]  # softmax(logits / t) -> one-hot on the arg-max
    gaps = logits.sort(-1, descending=True).values.diff(dim=-1)[:, 0].abs()  # (50,)
    t = gaps.min().item() / 50  # every runner-up is e^-50 less probable
    draws = next_token(logits, t, generator=torch.Generator().manual_seed(1))
    assert torch.equal(draws, greedy)


def test_sampling_follows_the_filtered_distribution():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    n = 20000
    draws = next_token(logits.expand(n, 4), generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=4) / n
    torch.testing.assert_close(freq, torch.tensor([0.5, 0.3, 0.15, 0.05]), atol=0.015,
                               rtol=0)
    draws = next_token(logits.expand(n, 4), top_k=2,
                       generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=4) / n
    torch.testing.assert_close(freq, torch.tensor([0.625, 0.375, 0, 0]), atol=0.015,
                               rtol=0)
    draws = next_token(logits.expand(n, 4), top_p=0.9,  # keeps 0.5 + 0.3 + 0.15
                       generator=torch.Generator().manual_seed(0))
    assert set(draws.tolist()) == {0, 1, 2}
    hot = next_token(logits.expand(n, 4), temperature=100.0,
                     generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(hot, minlength=4) / n  # nearly uniform
    torch.testing.assert_close(freq, torch.full((4,), 0.25), atol=0.02, rtol=0)


def test_same_seed_same_tokens():
    logits = torch.randn(5, 30)
    a = next_token(logits, 1.2, top_p=0.95, generator=torch.Generator().manual_seed(3))
    b = next_token(logits, 1.2, top_p=0.95, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == (5,) and a.dtype == torch.int64


def test_next_token_rejects_bad_arguments():
    with pytest.raises(ValueError, match="temperature must lie in"):
        next_token(torch.randn(3), temperature=-1)
    with pytest.raises(TypeError, match="temperature must be a real number"):
        next_token(torch.randn(3), temperature=None)
    with pytest.raises(ValueError, match="NaN"):
        next_token(torch.tensor([0.0, float("nan")]))


class CountingLM(torch.nn.Module):
    """A toy language model: after token t it predicts t + 1 (mod V), surely."""

    def __init__(self, vocab_size=6):
        super().__init__()
        self.vocab_size = vocab_size
        self.dummy = torch.nn.Linear(1, 1)  # a parameter, so the model has a mode

    def forward(self, ids):
        nxt = (ids + 1) % self.vocab_size  # (B, T)
        return 10.0 * F.one_hot(nxt, self.vocab_size).float()  # (B, T, V)


def test_sample_sequence_extends_prompts_and_stops():
    model = CountingLM().train()
    ids = torch.tensor([[0], [3]])
    out = sample_sequence(model, ids, 4, temperature=0)
    assert out.tolist() == [[0, 1, 2, 3, 4], [3, 4, 5, 0, 1]]
    assert model.training  # mode restored
    out = sample_sequence(model, ids, 10, temperature=0, stop_id=5)
    assert out.tolist() == [[0, 1, 2, 3, 4, 5], [3, 4, 5, 5, 5, 5]]  # 5 repeats
    gen = torch.Generator().manual_seed(0)
    out = sample_sequence(model, ids, 3, temperature=1.0, top_k=1, generator=gen)
    assert out.tolist() == [[0, 1, 2, 3], [3, 4, 5, 0]]


def test_sample_sequence_is_reproducible_and_rejects_bad_prompts():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(7, 7))  # logits from the last id
    ids = torch.zeros(4, 1, dtype=torch.long)
    a = sample_sequence(model, ids, 8, generator=torch.Generator().manual_seed(5))
    b = sample_sequence(model, ids, 8, generator=torch.Generator().manual_seed(5))
    c = sample_sequence(model, ids, 8, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ValueError, match="T0 >= 1"):
        sample_sequence(model, torch.zeros(2, 0, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="T0 >= 1"):
        sample_sequence(model, torch.zeros(3, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="num_tokens must be > 0"):
        sample_sequence(model, ids, 0)


def test_perplexity_equals_exp_of_torch_cross_entropy():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 11, generator=g, dtype=torch.float64)
    y = torch.randint(0, 11, (3, 5), generator=g)
    y[0, 3:] = IGNORE_INDEX  # padding is skipped
    expected = torch.exp(F.cross_entropy(logits.reshape(-1, 11), y.reshape(-1)))
    assert perplexity(logits, y) == pytest.approx(expected.item(), rel=1e-12)
    y = y.masked_fill(y == IGNORE_INDEX, 7)  # another padding id ...
    y[1, :2] = 7  # ... skipped as PyTorch skips it
    expected = torch.exp(F.cross_entropy(logits.reshape(-1, 11), y.reshape(-1),
                                         ignore_index=7))
    assert perplexity(logits, y, ignore_index=7) == pytest.approx(expected.item(),
                                                                  rel=1e-12)


def test_perplexity_bounds():
    y = torch.tensor([[1, 2, 0]])
    assert perplexity(torch.zeros(1, 3, 10), y) == pytest.approx(10)  # uniform: V
    sure = 50.0 * F.one_hot(y, 10).float()
    assert perplexity(sure, y) == pytest.approx(1.0, abs=1e-6)  # certain and right
    assert perplexity(sure.roll(1, dims=-1), y) > 1e10  # certain and wrong


def test_perplexity_rejects_bad_inputs():
    with pytest.raises(ValueError, match="targets must be logits.shape"):
        perplexity(torch.zeros(2, 3, 4), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="no token to score"):
        perplexity(torch.zeros(2, 4), torch.full((2,), IGNORE_INDEX))
    with pytest.raises(TypeError, match="floating-point"):
        perplexity(torch.zeros(2, 4, dtype=torch.long),
                   torch.zeros(2, dtype=torch.long))
