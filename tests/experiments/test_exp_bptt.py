"""Experiments of the chapter "Backpropagation through time"."""

import pytest
import torch

from introdl.experiments.bptt import (
    bptt_by_hand,
    clipping_demo,
    deep_net_grad_norms,
    grad_norms_through_time,
    hidden_state_grads,
)
from introdl.training import one_thread

F64 = torch.float64


def _setup(T=6, B=2, H=5, n_in=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    W_hh = 0.8 * torch.randn(H, H, generator=g, dtype=F64)
    W_xh = torch.randn(H, n_in, generator=g, dtype=F64)
    x = torch.randn(T, B, n_in, generator=g, dtype=F64)
    u = torch.randn(H, generator=g, dtype=F64)
    return W_hh, W_xh, x, u


def test_hand_written_bptt_equals_autograd():
    W_hh, W_xh, x, u = _setup()
    states, grads = hidden_state_grads(W_hh, W_xh, x, u)
    assert states.shape == grads.shape == (7, 2, 5)
    torch.testing.assert_close(grads[-1], u.expand(2, 5))  # dL/dh_T = u
    torch.testing.assert_close(bptt_by_hand(states, W_hh, grads[-1]), grads)


def test_states_follow_the_recurrence():
    W_hh, W_xh, x, u = _setup()
    states, _ = hidden_state_grads(W_hh, W_xh, x, u)
    torch.testing.assert_close(states[0], torch.zeros(2, 5, dtype=F64))
    expected = torch.tanh(states[2] @ W_hh.T + x[2] @ W_xh.T)
    torch.testing.assert_close(states[3], expected)


def test_hidden_state_grads_rejects_bad_shapes():
    W_hh, W_xh, x, u = _setup()
    with pytest.raises(ValueError, match="x must be"):
        hidden_state_grads(W_hh, W_xh, x[0], u)
    with pytest.raises(ValueError, match="x must be"):
        hidden_state_grads(W_hh, W_xh, x[:0], u)  # no steps
    with pytest.raises(ValueError, match=r"u \(H,\)"):
        hidden_state_grads(W_hh, W_xh, x, u[:3])
    with pytest.raises(ValueError, match=r"W_hh \(H, H\)"):
        hidden_state_grads(W_hh[:, :3], W_xh, x, u)
    with pytest.raises(TypeError, match="u must be a torch.Tensor"):
        hidden_state_grads(W_hh, W_xh, x, None)


def test_gradient_norms_obey_the_singular_value_bound():
    """||dL/dh_{T-k}|| <= sigma^k ||u||, since |tanh'| <= 1 (Eq. bound)."""
    norms = grad_norms_through_time((0.5, 0.9, 1.5), num_steps=30)
    for sigma, values in norms.items():
        assert len(values) == 31
        for k, v in enumerate(values):
            assert v <= sigma ** k * values[0] * (1 + 1e-9)
    assert norms[0.5][-1] < 1e-8 * norms[0.5][0]  # vanishing
    assert norms[1.5][-1] > 10 * norms[1.5][0]  # exploding


def test_deep_sigmoid_gradients_vanish_relu_do_not():
    sig = deep_net_grad_norms("sigmoid", depth=12)
    relu = deep_net_grad_norms("relu", depth=12)
    assert len(sig) == len(relu) == 12
    assert sig[0] < 1e-4 * sig[-1]
    assert 0.1 < relu[0] / relu[-1] < 10
    with pytest.raises(ValueError, match="activation"):
        deep_net_grad_norms("tanh")
    with pytest.raises(ValueError, match="depth must be > 0"):
        deep_net_grad_norms("relu", depth=0)


@pytest.mark.slow
def test_clipping_tames_the_exploding_run():
    runs = clipping_demo(num_epochs=3)
    wild, tame = runs["no clipping"], runs["clipped at 1"]
    assert not (wild.train_loss[-1] < 1e6)  # huge or NaN
    assert tame.train_loss[-1] < 1.0 and max(tame.grad_norm) < 1e3
    assert clipping_demo(num_epochs=3)["clipped at 1"].train_loss == tame.train_loss


def test_clipping_demo_rejects_a_bad_threshold():
    with pytest.raises(ValueError, match="max_norm"):
        clipping_demo(max_norm=0.0, num_epochs=1, num_train=32)


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_the_chapters_descriptions_of_its_figures_hold():
    """The alt texts and captions of the chapter describe the figures in words
    ("about one order of magnitude", "roughly flat"); the settings are the
    chapter's, so these are the figures the reader sees."""
    norms = grad_norms_through_time(sigmas=(0.5, 1.0, 1.5), num_steps=50)
    orders = {s: torch.tensor(v[50] / v[0]).log10().item() for s, v in norms.items()}
    assert orders[0.5] < -10  # "by many orders of magnitude", on a straight line
    assert -1.5 < orders[1.0] < -0.5  # "by about one order of magnitude"
    assert 1.5 < orders[1.5] < 2.5  # "by about two orders of magnitude"
    rising = norms[1.5]  # "slowly at first and faster in the earliest steps"
    assert rising[10] / rising[0] < rising[50] / rising[40]
    sigmoid = deep_net_grad_norms("sigmoid", depth=20)
    relu = deep_net_grad_norms("relu", depth=20)
    assert sigmoid[0] / sigmoid[-1] < 1e-6  # "many orders of magnitude smaller"
    assert all(a < b for a, b in zip(sigmoid, sigmoid[1:]))  # "climbs steadily"
    assert max(relu) / min(relu) < 10  # "roughly flat, within a factor of ten"


@pytest.mark.slow
def test_the_chapters_description_of_the_clipping_figure_holds():
    runs = clipping_demo(max_norm=1.0)  # the chapter's run
    wild, tame = runs["no clipping"], runs["clipped at 1"]
    assert wild.grad_norm[0] > 100 and wild.train_loss[-1] > 1e6 * wild.train_loss[0]
    assert max(tame.train_loss) < 1 and tame.train_loss[-1] < tame.train_loss[0]
    assert max(tame.grad_norm) < 10  # "with clipping it stays below ten"
