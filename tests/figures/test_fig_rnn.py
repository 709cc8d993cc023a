"""Figures of the chapters "Recurrent neural networks" and (the unrolled graph with
its backward pass) "Backpropagation through time"."""

import pytest
import torch

from introdl.figures.rnn import draw_rnn_loop, draw_rnn_unrolled, plot_hidden_states
from introdl.figures.style import new_figure


def _texts(fig):
    return {t.get_text() for t in fig.axes[0].texts}


def test_diagrams_have_their_labels():
    assert {"$x_t$", "$W_{hh}$"} <= _texts(draw_rnn_loop())
    forward = _texts(draw_rnn_unrolled(3))
    assert {"$h_0$", "$h_3$", "$L_3$", r"$\hat y_3$", "$W_{hy}$"} <= forward
    assert r"$L = \sum_t L_t$" in forward and "$h_4$" not in forward


def test_the_backward_version_adds_gradients_not_outputs():
    backward = _texts(draw_rnn_unrolled(3, backward=True))
    assert {"$h_0$", "$h_3$", "$L_3$"} <= backward
    assert r"$\hat y_3$" not in backward and "$W_{hy}$" not in backward
    jacobians = [t for t in backward if t.startswith(r"$\frac{\partial h_")]
    assert len(jacobians) == 3  # one Jacobian per step
    dashed = [p for p in draw_rnn_unrolled(3, backward=True).axes[0].patches
              if p.get_linestyle() == "--"]
    assert len(dashed) == 6  # into each state, and back along the chain
    with pytest.raises(ValueError, match="num_steps must be > 0"):
        draw_rnn_unrolled(0, backward=True)


def test_hidden_state_heatmap_labels_steps_and_honours_ax():
    fig, ax = new_figure()
    assert plot_hidden_states(torch.rand(5, 3) * 2 - 1, list("abcde"), ax=ax) is fig
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcde")
    assert ax.images[0].get_array().shape == (3, 5)  # units x steps
    with pytest.raises(ValueError, match="step_labels must have 5"):
        plot_hidden_states(torch.rand(5, 3), list("abc"))
    with pytest.raises(ValueError, match="hs must have 2 dimension"):
        plot_hidden_states(torch.rand(5), list("abcde"))
