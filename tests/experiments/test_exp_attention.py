"""Experiments of the chapter "Attention"."""

import pytest
import torch

from introdl.attention import OneLayerAttention
from introdl.experiments.attention import (
    ReversalRun,
    ScoreSpread,
    alignment_score,
    score_spread,
    train_reversal,
)
from introdl.tasks import reversal_alignment, reversal_task
from introdl.training import History


def test_reversal_task_and_alignment():
    X, y = reversal_task(20, seq_len=5, vocab_size=7, seed=1)
    assert X.shape == y.shape == (20, 5) and X.max() < 7
    torch.testing.assert_close(y[:, 0], X[:, 4])
    A = reversal_alignment(5)
    torch.testing.assert_close(A @ X.T.float(), y.T.float())
    assert alignment_score(A.expand(3, 5, 5), A) == 1.0
    assert alignment_score(torch.full((5, 5), 0.2), A) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="seq_len must be >= 2"):
        reversal_task(3, seq_len=1)


@pytest.mark.slow
def test_trained_reversal_model_attends_along_the_anti_diagonal():
    state = torch.random.get_rng_state()
    run = train_reversal(num_epochs=6, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)  # global RNG untouched
    assert isinstance(run, ReversalRun) and isinstance(run.history, History)
    assert isinstance(run.model, OneLayerAttention)
    expected = reversal_alignment(8)
    assert run.accuracy > 0.99
    assert alignment_score(run.weights_after, expected) > 0.9
    assert alignment_score(run.weights_before, expected) < 0.3
    # every query's strongest key is its mirror position
    assert torch.equal(run.weights_after.argmax(-1),
                       expected.argmax(-1).expand(len(run.X_test), 8))
    assert run.history.train_loss[-1] < 0.05 < run.history.train_loss[0]


def test_train_reversal_is_reproducible():
    a = train_reversal(seq_len=4, vocab_size=5, n_train=200, num_epochs=1, seed=2)
    b = train_reversal(seq_len=4, vocab_size=5, n_train=200, num_epochs=1, seed=2)
    assert a.history.train_loss == b.history.train_loss
    assert torch.equal(a.weights_after, b.weights_after)
    assert a.weights_before.shape == (500, 4, 4)


def test_score_spread_grows_like_sqrt_dk():
    s = score_spread(d_ks=(4, 256), n=4000)
    assert isinstance(s, ScoreSpread) and s.d_k == [4, 256]
    assert s.unscaled[1] / s.unscaled[0] == pytest.approx(8, rel=0.15)
    assert s.scaled == pytest.approx([1, 1], rel=0.1)
    assert s.weights_unscaled.max() > s.weights_scaled.max()
    assert s.weights_scaled.shape == (8,)
    torch.testing.assert_close(s.weights_scaled.sum(), torch.tensor(1.0))


def test_score_spread_accepts_a_generator():
    s = score_spread(d_ks=(d for d in (4, 16)), n=50)
    assert s.d_k == [4, 16] and len(s.unscaled) == len(s.scaled) == 2
