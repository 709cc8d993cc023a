"""Models, experiments and figures of the chapter "LSTM and GRU".

The cells themselves live in :mod:`introdl.rnn`. Here: the long-term
dependency experiment (plain RNN vs LSTM vs GRU on
:func:`introdl.tasks.first_symbol_recall`), the cell diagrams and the gate
heatmap.
"""

from __future__ import annotations

from typing import Sequence

import torch

from introdl.checks import check_number, check_positive_int
from introdl.bptt import LastStateModel
from introdl.rnn import GRU, LSTM, RNN
from introdl.tasks import first_symbol_recall
from introdl.training import accuracy, evaluate, fit, one_thread, parameter_count

__all__ = ["make_recurrent", "StopBelow", "recall_vs_delay",
           "draw_lstm_cell", "draw_gru_cell", "plot_recall_vs_delay",
           "plot_lstm_gates"]

KINDS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def make_recurrent(kind: str, input_size: int, hidden_size: int, *,
                   keep_bias: float = 0.0, generator: torch.Generator | None = None):
    """A from-scratch ``"RNN"``, ``"LSTM"`` or ``"GRU"`` (batch first).

    ``keep_bias`` is added to the bias of the gate that keeps the old state,
    the LSTM's forget gate ``f`` and the GRU's update gate ``z`` (the second
    block of ``H`` rows in both), and subtracted from the LSTM's input gate
    ``i``. A new network then keeps about ``sigmoid(keep_bias)`` of its state
    per step and writes little, as a GRU does with ``z`` near 1. (Tallec and
    Ollivier's "chrono" initialisation sets the LSTM's biases in this way.)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    check_number("keep_bias", keep_bias)
    rnn = KINDS[kind](input_size, hidden_size, generator=generator)
    H = hidden_size
    with torch.no_grad():
        if kind != "RNN":
            rnn.bias_hh_l0[H:2 * H] += keep_bias  # f (LSTM) or z (GRU): keep
        if kind == "LSTM":
            rnn.bias_hh_l0[:H] -= keep_bias  # i: write little
    return rnn


class StopBelow:
    """Stop a :func:`introdl.training.fit` run once the validation loss is
    below ``threshold``: the task is solved, more epochs would only cost time.

    It offers the ``step(value, state) -> bool`` and ``best_epoch`` /
    ``best_state`` interface that ``fit(early_stopping=...)`` expects;
    ``best_epoch`` is the epoch that reached the threshold.
    """

    def __init__(self, threshold: float):
        self.threshold = check_number("threshold", threshold)
        self.best_epoch = self.best_state = None
        self.epoch = -1

    def step(self, value: float, state=None) -> bool:
        self.epoch += 1
        if value < self.threshold:
            self.best_epoch = self.epoch
            return True
        return False


def recall_vs_delay(delays: Sequence[int] = (4, 8, 16, 32),
                    hidden_sizes: dict | None = None, *, num_epochs: int = 8,
                    num_train: int = 1024, num_val: int = 256, batch_size: int = 128,
                    lr: float = 0.04,
                    keep_bias: float = 3.0, noise_std: float = 2.0,
                    stop_loss: float = 0.1, seed: int = 0) -> dict:
    """Train each kind of network on :func:`~introdl.tasks.first_symbol_recall`
    for each delay; return the validation accuracies.

    Every run: Adam with learning rate ``lr``, mini-batches of ``batch_size``, at most
    ``num_epochs`` epochs, stopping early once the validation loss is below
    ``stop_loss`` (:class:`StopBelow`); one CPU thread.

    Args:
        delays: the delays ``T`` to try.
        hidden_sizes: kind -> hidden size; the default sizes (RNN 28, LSTM 12,
            GRU 14) give the three about the same number of parameters.
        keep_bias: see :func:`make_recurrent` (LSTM and GRU only).
        noise_std: standard deviation of the noise between symbol and answer.
    Returns:
        A dict with ``"delays"`` (the list of delays), ``"accuracy"`` and
        ``"epochs"`` (kind -> one value per delay), ``"params"`` (kind ->
        number of parameters) and ``"models"`` (kind -> the model trained on
        the longest delay).
    """
    hidden_sizes = hidden_sizes or {"RNN": 28, "LSTM": 12, "GRU": 14}
    check_positive_int("num_train", num_train)
    out = {"delays": list(delays), "accuracy": {}, "epochs": {}, "params": {},
           "models": {}}
    loss_fn = torch.nn.functional.cross_entropy
    for kind, H in hidden_sizes.items():
        accs, epochs = [], []
        for delay in delays:
            train = first_symbol_recall(num_train, delay, noise_std=noise_std,
                                        seed=seed)
            val = first_symbol_recall(num_val, delay, noise_std=noise_std,
                                      seed=seed + 1)
            gen = torch.Generator().manual_seed(seed)
            rnn = make_recurrent(kind, train[0].shape[-1], H, generator=gen,
                                 keep_bias=0.0 if kind == "RNN" else keep_bias)
            model = LastStateModel(rnn, H, int(train[1].max()) + 1, generator=gen)
            with one_thread():
                history = fit(model, train, val, loss_fn=loss_fn,
                              optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                              num_epochs=num_epochs, batch_size=batch_size,
                              early_stopping=StopBelow(stop_loss), generator=gen)
            accs.append(evaluate(model, val, loss_fn, accuracy)[1])
            epochs.append(history.num_epochs)
        out["accuracy"][kind], out["epochs"][kind] = accs, epochs
        out["params"][kind], out["models"][kind] = parameter_count(model), model
    return out


def _belt_arrow(ax, start, end, **kwargs):
    """An arrow between two points that are not nodes (no gap at either end)."""
    from introdl.figures import diagrams

    diagrams.arrow(ax, start, end, r_start=0.0, r_end=0.0, **kwargs)


def _line(ax, points, color="black"):
    xs, ys = zip(*points)
    ax.plot(xs, ys, color=color, linewidth=1.1, linestyle="-", zorder=1)


def draw_lstm_cell():
    """Diagram of one LSTM step: the cell state runs along the top, where the
    forget gate multiplies it and the input gate adds new content; the
    output gate decides how much of ``tanh(c_t)`` becomes ``h_t``."""
    from introdl.figures import diagrams

    fig, ax = diagrams.new_diagram(6.4, 3.6, xlim=(0, 11.4), ylim=(-0.4, 6.0))
    top, gate_y, bus = 5.0, 2.5, 0.9
    diagrams.node(ax, (0.6, top), "$c_{t-1}$", kind="state", fontsize=10)
    diagrams.node(ax, (10.8, top), "$c_t$", kind="state")
    diagrams.node(ax, (0.6, bus), "$h_{t-1}$", kind="hidden", fontsize=10)
    diagrams.node(ax, (10.8, gate_y), "$h_t$", kind="hidden")
    diagrams.node(ax, (1.9, -0.05), "$x_t$", kind="input", radius=0.35)
    gates = {"f": (2.6, r"$\sigma$" + "\nforget $f_t$"),
             "i": (4.4, r"$\sigma$" + "\ninput $i_t$"),
             "g": (6.2, r"$\tanh$" + "\ncandidate $g_t$"),
             "o": (8.0, r"$\sigma$" + "\noutput $o_t$")}
    _line(ax, [(1.0, bus), (8.0, bus)])
    _line(ax, [(1.9, 0.3), (1.9, bus)])
    for name, (x, label) in gates.items():
        diagrams.box(ax, (x, gate_y), label, width=1.5, height=1.0, kind="op",
                     fontsize=8)
        _belt_arrow(ax, (x, bus), (x, gate_y - 0.5))
    diagrams.node(ax, (2.6, top), r"$\times$", kind="plain", radius=0.3)
    diagrams.node(ax, (5.3, top), "$+$", kind="plain", radius=0.3)
    diagrams.node(ax, (5.3, 3.9), r"$\times$", kind="plain", radius=0.3)
    diagrams.box(ax, (9.3, 4.0), r"$\tanh$", width=0.9, height=0.55, kind="op",
                 fontsize=9)
    diagrams.node(ax, (9.3, gate_y), r"$\times$", kind="plain", radius=0.3)
    diagrams.arrow(ax, (0.6, top), (2.6, top), r_end=0.3)
    diagrams.arrow(ax, (2.6, top), (5.3, top), r_start=0.3, r_end=0.3)
    diagrams.arrow(ax, (5.3, top), (10.8, top), r_start=0.3)
    diagrams.arrow(ax, (2.6, gate_y + 0.5), (2.6, top), r_start=0.0, r_end=0.3)
    diagrams.arrow(ax, (4.4, gate_y + 0.5), (5.3, 3.9), r_start=0.0, r_end=0.3)
    diagrams.arrow(ax, (6.2, gate_y + 0.5), (5.3, 3.9), r_start=0.0, r_end=0.3)
    diagrams.arrow(ax, (5.3, 3.9), (5.3, top), r_start=0.3, r_end=0.3)
    _belt_arrow(ax, (9.3, top), (9.3, 4.28))
    diagrams.arrow(ax, (9.3, 3.72), (9.3, gate_y), r_start=0.0, r_end=0.3)
    diagrams.arrow(ax, (8.75, gate_y), (9.3, gate_y), r_start=0.0, r_end=0.3)
    diagrams.arrow(ax, (9.3, gate_y), (10.8, gate_y), r_start=0.3)
    diagrams.caption(ax, (6.0, 5.65), "cell state: forget, then add")
    diagrams.caption(ax, (4.5, 0.3), r"every gate reads $h_{t-1}$ and $x_t$")
    return fig


def draw_gru_cell():
    """Diagram of one GRU step: the update gate mixes the old state and a
    candidate, ``h_t = (1 - z_t) n_t + z_t h_{t-1}``; the reset gate decides
    how much of the old state the candidate sees."""
    from introdl.figures import diagrams

    fig, ax = diagrams.new_diagram(6.4, 3.6, xlim=(0, 11.4), ylim=(-0.4, 6.0))
    top, gate_y, bus = 5.0, 2.5, 0.9
    diagrams.node(ax, (0.6, top), "$h_{t-1}$", kind="hidden", fontsize=10)
    diagrams.node(ax, (10.8, top), "$h_t$", kind="hidden")
    diagrams.node(ax, (1.9, -0.05), "$x_t$", kind="input", radius=0.35)
    _line(ax, [(1.2, top), (1.2, bus), (8.0, bus)])
    _line(ax, [(1.9, 0.3), (1.9, bus)])
    boxes = {"z": (3.0, r"$\sigma$" + "\nupdate $z_t$"),
             "r": (5.5, r"$\sigma$" + "\nreset $r_t$"),
             "n": (8.0, r"$\tanh$" + "\ncandidate $n_t$")}
    for name, (x, label) in boxes.items():
        diagrams.box(ax, (x, gate_y), label, width=1.5, height=1.0, kind="op",
                     fontsize=8)
        _belt_arrow(ax, (x, bus), (x, gate_y - 0.5))
    diagrams.node(ax, (3.0, top), r"$\times$", kind="plain", radius=0.3)
    diagrams.node(ax, (8.0, 4.0), r"$\times$", kind="plain", radius=0.3)
    diagrams.node(ax, (8.0, top), "$+$", kind="plain", radius=0.3)
    diagrams.arrow(ax, (0.6, top), (3.0, top), r_end=0.3)
    diagrams.arrow(ax, (3.0, top), (8.0, top), r_start=0.3, r_end=0.3)
    diagrams.arrow(ax, (8.0, top), (10.8, top), r_start=0.3)
    diagrams.arrow(ax, (3.0, gate_y + 0.5), (3.0, top), r_start=0.0, r_end=0.3,
                   label="$z_t$", label_pos=0.5)
    diagrams.arrow(ax, (3.75, gate_y + 0.35), (8.0, 4.0), r_start=0.0, r_end=0.3,
                   label="$1 - z_t$", label_pos=0.55)
    diagrams.arrow(ax, (8.0, gate_y + 0.5), (8.0, 4.0), r_start=0.0, r_end=0.3)
    diagrams.arrow(ax, (8.0, 4.0), (8.0, top), r_start=0.3, r_end=0.3)
    diagrams.arrow(ax, (6.25, gate_y), (7.25, gate_y), r_start=0.0, r_end=0.0,
                   label="$r_t$", label_pos=0.45)
    diagrams.caption(ax, (9.6, 1.5), r"$n_t = \tanh(W_{in} x_t + b_{in}$" + "\n"
                     + r"$+ \, r_t \odot (W_{hn} h_{t-1} + b_{hn}))$", fontsize=8)
    diagrams.caption(ax, (6.5, 5.65), "keep the old state (z) or take the candidate")
    diagrams.caption(ax, (4.6, 0.3), r"every gate reads $h_{t-1}$ and $x_t$")
    return fig


def plot_recall_vs_delay(results: dict, chance: float = 0.25, *, ax=None):
    """Validation accuracy against the delay, one curve per kind of network
    (the output of :func:`recall_vs_delay`); a dotted line marks chance."""
    from introdl.figures.style import plot_curves

    curves = {f"{kind} ({results['params'][kind]:,} parameters)": acc
              for kind, acc in results["accuracy"].items()}
    fig = plot_curves(curves, x=results["delays"], ax=ax, xlabel="delay $T$ (steps)",
                      ylabel="validation accuracy")
    ax = ax or fig.axes[0]
    for line, marker, size in zip(ax.lines, "os^D", (7, 6, 4, 4)):
        line.set_marker(marker)  # distinct markers: the curves may overlap
        line.set_markersize(size)
    ax.axhline(chance, color="#888888", linestyle=":", linewidth=1.2)
    ax.text(results["delays"][0], chance + 0.02, "chance", color="#666666", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(results["delays"], labels=[str(d) for d in results["delays"]])
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left")
    return fig


def plot_lstm_gates(gates, *, axes=None):
    """Heatmaps of the input, forget and output gates of one sequence.

    Args:
        gates: an :class:`~introdl.rnn.LSTMGates` whose fields are ``(T, H)``.
    Returns:
        A Figure of three panels, hidden unit against time step, values in
        ``[0, 1]`` on one colour scale.
    """
    from introdl.figures.style import new_figure, plot_heatmap

    if axes is None:
        fig, axes = new_figure(nrows=3, height=5.4, sharex=True)
    names = (("i", "input gate $i_t$"), ("f", "forget gate $f_t$"),
             ("o", "output gate $o_t$"))
    for ax, (field, title) in zip(axes, names):
        values = getattr(gates, field).detach().T  # (H, T)
        plot_heatmap(values, ax=ax, vmin=0, vmax=1, title=title, ylabel="unit")
    axes[-1].set_xlabel("time step $t$ (the symbol is at $t = 0$)")
    return axes[0].figure
