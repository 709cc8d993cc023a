"""Figures of the chapter "LSTM and GRU": diagrams of one step of each cell, the
accuracy of the three kinds of network against the delay, and the gates of a
trained LSTM."""

from introdl.experiments.lstm_gru import RecallResult
from introdl.figures import diagrams
from introdl.figures.style import new_figure, plot_curves, plot_heatmap
from introdl.gated import LSTMGates

__all__ = ["draw_lstm_cell", "draw_gru_cell", "plot_recall_vs_delay", "plot_lstm_gates"]


def _belt_arrow(ax, start, end, **kwargs):
    """An arrow between two points that are not nodes (no gap at either end)."""
    diagrams.arrow(ax, start, end, r_start=0.0, r_end=0.0, **kwargs)


def _line(ax, points, color="black"):
    xs, ys = zip(*points)
    ax.plot(xs, ys, color=color, linewidth=1.1, linestyle="-", zorder=1)


def draw_lstm_cell():
    """Diagram of one LSTM step: the cell state runs along the top, where the
    forget gate multiplies it and the input gate adds new content; the
    output gate decides how much of ``tanh(c_t)`` becomes ``h_t``."""
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
    for x, label in gates.values():
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
    for x, label in boxes.values():
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


def plot_recall_vs_delay(results: RecallResult, chance: float = 0.25, *,
                         axes=None):
    """Two panels against the delay, one curve per network (the output of
    :func:`~introdl.experiments.lstm_gru.recall_vs_delay`): the validation
    accuracy, with a dotted line at chance, and the number of epochs trained
    (a run stops once it has solved the task). Each network has its own
    marker and line style, since curves at 100 % overlap. ``axes``: two axes
    to draw on (default: a new figure). Returns the Figure."""
    if axes is None:
        _, axes = new_figure(ncols=2, height=3.4)
    for ax, values, ylabel in ((axes[0], results.accuracy, "validation accuracy"),
                               (axes[1], results.epochs, "epochs trained")):
        plot_curves(values, x=results.delays, ax=ax, xlabel="delay $D$ (steps)",
                    ylabel=ylabel)
        styles = zip("osD^v", (8, 6, 5, 4, 4),
                     ("-", "--", "-.", (0, (4, 1, 1, 1, 1, 1)), "-"))
        for line, (marker, size, dash) in zip(ax.lines, styles):
            line.set(marker=marker, markersize=size, linestyle=dash)
        ax.set_xscale("log", base=2)
        ax.set_xticks(results.delays, labels=[str(d) for d in results.delays])
        ax.get_legend().remove()
    axes[0].axhline(chance, color="#888888", linestyle=":", linewidth=1.2)
    axes[0].text(results.delays[0], chance + 0.02, "chance", color="#666666",
                 fontsize=8)
    axes[0].set_ylim(0, 1.05)
    axes[1].set_ylim(0, max(max(e) for e in results.epochs.values()) + 1)
    axes[1].yaxis.get_major_locator().set_params(integer=True)
    labels = [f"{name} ({results.params[name]:,} parameters)"
              for name in results.accuracy]
    axes[0].figure.legend(axes[0].lines[:len(labels)], labels,
                          loc="outside lower center", ncols=2, fontsize=8)
    return axes[0].figure


def plot_lstm_gates(gates: LSTMGates, *, axes=None):
    """Heatmaps of the input, forget and output gates of one sequence.

    Args:
        gates: an :class:`~introdl.gated.LSTMGates` whose fields are ``(T, H)``.
        axes: three axes to draw on (default: a new figure).
    Returns:
        A Figure of three panels, hidden unit against time step, values in
        ``[0, 1]`` on one colour scale.
    """
    if not isinstance(gates, LSTMGates) or gates.i.ndim != 2:
        raise ValueError("gates must be an LSTMGates whose fields are (T, H)")
    if axes is None:
        fig, axes = new_figure(nrows=3, height=5.4, sharex=True)
    names = (("i", "input gate $i_t$"), ("f", "forget gate $f_t$"),
             ("o", "output gate $o_t$"))
    for ax, (field, title) in zip(axes, names):
        values = getattr(gates, field).detach().T  # (H, T)
        plot_heatmap(values, ax=ax, vmin=0, vmax=1, title=title, ylabel="unit")
    axes[-1].set_xlabel("time step $t$ (the symbol is at $t = 0$)")
    return axes[0].figure
