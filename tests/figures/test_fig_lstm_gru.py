"""Figures of the chapter "LSTM and GRU"."""

import pytest
import torch

from introdl.experiments.lstm_gru import RecallResult
from introdl.figures.lstm_gru import (
    draw_gru_cell,
    draw_lstm_cell,
    plot_lstm_gates,
    plot_recall_vs_delay,
)
from introdl.figures.style import new_figure
from introdl.gated import LSTMGates


def test_recall_plot_accuracy_and_epochs_one_curve_per_network():
    results = RecallResult([2, 4], {"RNN": [1.0, 0.3], "GRU": [1.0, 1.0]},
                           {"RNN": [3, 8], "GRU": [2, 5]}, {"RNN": 10, "GRU": 30},
                           {}, {})
    fig, axes = new_figure(ncols=2)
    assert plot_recall_vs_delay(results, axes=axes) is fig
    acc, epochs = axes
    assert acc.get_xlabel().startswith("delay") and len(acc.lines) == 3
    assert list(acc.lines[2].get_ydata()) == [0.25, 0.25]  # chance
    assert list(epochs.lines[1].get_ydata()) == [2, 5] and len(epochs.lines) == 2
    assert [t.get_text() for t in acc.get_xticklabels()] == ["2", "4"]
    assert acc.lines[0].get_linestyle() != acc.lines[1].get_linestyle()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["RNN (10 parameters)", "GRU (30 parameters)"]
    assert len(plot_recall_vs_delay(results).axes) == 2


def test_gate_heatmaps_on_given_axes():
    gates = LSTMGates(*(torch.rand(5, 3) for _ in range(4)))
    assert len(plot_lstm_gates(gates).axes) == 6  # 3 heatmaps + 3 colour bars
    fig, axes = new_figure(nrows=3)
    assert plot_lstm_gates(gates, axes=axes) is fig
    assert all(ax.images[0].get_array().shape == (3, 5) for ax in axes)  # (H, T)
    with pytest.raises(ValueError, match="gates must be an LSTMGates"):
        plot_lstm_gates(LSTMGates(*(torch.rand(2, 5, 3) for _ in range(4))))


def test_cell_diagrams_name_their_gates():
    lstm = {t.get_text() for t in draw_lstm_cell().axes[0].texts}
    assert {"$c_{t-1}$", "$c_t$", "$h_t$"} <= lstm
    assert sum("forget" in t or "input" in t or "output" in t for t in lstm) >= 3
    gru = {t.get_text() for t in draw_gru_cell().axes[0].texts}
    assert any("update" in t for t in gru) and any("reset" in t for t in gru)
