"""The limits of recurrence, measured: the demos and figures of the chapter
"Limitations of recurrent models".

- :func:`time_layers`: wall-clock time of a recurrent layer and of
  self-attention as the sequence grows (median of repeated runs);
- :class:`RecallGRU` and :func:`recall_vs_length`: a gated recurrent encoder
  must squeeze a whole sequence into its fixed-size state, and recalls less
  of it as the sequence grows;
- :func:`bag_of_vectors`: averaging the inputs into one vector forgets order.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from introdl.checks import check_positive_int, check_tensor
from introdl.training import one_thread

__all__ = ["without_recurrence", "time_layers", "RecallGRU", "recall_vs_length",
           "bag_of_vectors", "draw_sequential_vs_parallel", "plot_timings",
           "plot_recall"]


def _median_times(fns: dict, repeats: int) -> dict:
    """Median wall-clock seconds of each ``fn()`` in ``fns`` over ``repeats``
    rounds, after one warm-up round. The functions take turns within each
    round, so that a passing load on the machine slows them all alike."""
    times = {name: [] for name in fns}
    for round_ in range(repeats + 1):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if round_:  # round 0 is the warm-up
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def without_recurrence(rnn: nn.RNN, x: torch.Tensor) -> torch.Tensor:
    """The arithmetic of one ``torch.nn.RNN`` layer with the waiting removed.

    Computes ``tanh(x_t W_ih^T + b_ih + x_t W_hh^T + b_hh)`` for every
    position at once: the same matrix products per position as the recurrent
    layer, but with ``x_t`` where the recurrence needs ``h_{t-1}``, so no
    position depends on another. (It is not a useful layer; it is a yardstick
    for the cost of the arithmetic alone.) ``x``: ``(B, T, d)`` -> ``(B, T, H)``.
    """
    z = x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0  # (B, T, H): all steps at once
    return torch.tanh(z + x @ rnn.weight_hh_l0.T + rnn.bias_hh_l0)  # (B, T, H)


def time_layers(lengths=(8, 16, 32, 64, 128, 256), d_model: int = 64,
                batch_size: int = 8, num_heads: int = 4, repeats: int = 5,
                seed: int = 0) -> dict:
    """Time a training step (forward and backward pass) of three layers on
    sequences of growing length.

    - ``"recurrent"``: ``torch.nn.RNN(d_model, d_model)``, one step per
      position, each waiting for the previous one;
    - ``"no waiting"``: :func:`without_recurrence`, the same arithmetic with
      every position at once;
    - ``"attention"``: self-attention,
      :class:`introdl.attention.MultiHeadAttention` ``(d_model, num_heads)``.

    Each entry is the median of ``repeats`` timed runs after a warm-up, on one
    CPU thread; the three layers take turns, so that other work on the machine
    slows them alike.

    Returns:
        dict: ``"length"`` holds the lengths; ``"recurrent"``, ``"no waiting"``
        and ``"attention"`` hold one time in seconds per length.
    """
    from introdl.attention import MultiHeadAttention

    check_positive_int("repeats", repeats)
    torch.manual_seed(seed)
    rnn = nn.RNN(d_model, d_model, batch_first=True)
    attention = MultiHeadAttention(d_model, num_heads)
    layers = {"recurrent": lambda x: rnn(x)[0],
              "no waiting": lambda x: without_recurrence(rnn, x),
              "attention": lambda x: attention(x)[0]}
    out = {"length": list(lengths), **{name: [] for name in layers}}
    with one_thread():
        for L in lengths:
            x = torch.randn(batch_size, check_positive_int("length", L), d_model,
                            requires_grad=True)
            steps = {name: lambda layer=layer: layer(x).sum().backward()
                     for name, layer in layers.items()}
            for name, t in _median_times(steps, repeats).items():
                out[name].append(t)
    return out


class RecallGRU(nn.Module):
    """Encoder that must hold a whole sequence in its last state.

    A GRU (``torch.nn.GRU``, gated, so vanishing gradients are not the
    obstacle) reads the symbols; a linear layer maps its *final* state
    ``(B, hidden_size)`` to a score for every symbol at each of ``max_len``
    output positions. ``forward(X)``: ``(B, T)`` ids -> ``(B, max_len,
    num_symbols)`` logits.
    """

    def __init__(self, num_symbols: int, max_len: int, hidden_size: int,
                 embed_dim: int = 8):
        super().__init__()
        self.num_symbols, self.max_len = num_symbols, max_len
        self.embedding = nn.Embedding(num_symbols + 1, embed_dim)  # + padding
        self.gru = nn.GRU(embed_dim, check_positive_int("hidden_size", hidden_size),
                          batch_first=True)
        self.readout = nn.Linear(hidden_size, max_len * num_symbols)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(self.embedding(X))  # h: (1, B, H), the final state
        return self.readout(h[0]).view(-1, self.max_len, self.num_symbols)


def recall_vs_length(hidden_sizes=(16, 64), lengths=(1, 2, 3, 4, 6, 8, 12, 16),
                     num_symbols: int = 10, n_train: int = 2000,
                     num_epochs: int = 8, seed: int = 0) -> dict:
    """Train one :class:`RecallGRU` per hidden size on
    :func:`introdl.tasks.recall_task` (mixed lengths) with
    :func:`introdl.training.fit`, then measure on fresh sequences the share of
    symbols recalled correctly, for each length separately.

    Returns:
        ``{"length": [...], hidden_size: [accuracy per length], ...}``.
    """
    from introdl.losses import sequence_accuracy, sequence_cross_entropy
    from introdl.tasks import recall_task
    from introdl.training import fit

    X, y, _ = recall_task(n_train, lengths, num_symbols, seed=seed)
    X_test, y_test, k_test = recall_task(2000, lengths, num_symbols, seed=seed + 1)
    results = {"length": list(lengths)}
    for H in hidden_sizes:
        torch.manual_seed(seed)
        model = RecallGRU(num_symbols, max(lengths), H)
        fit(model, (X, y), loss_fn=sequence_cross_entropy,
            optimizer=torch.optim.Adam(model.parameters(), lr=2e-2),
            num_epochs=num_epochs, batch_size=128,
            generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            logits = model(X_test)  # (n, T, num_symbols)
        results[H] = [sequence_accuracy(logits[k_test == k], y_test[k_test == k])
                      for k in lengths]
    return results


def bag_of_vectors(embeddings: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Squash a sequence into one vector: the mean of its embeddings.

    Args:
        embeddings: ``(V, d)``, one row per token; ids: ``(..., T)`` token ids.
    Returns:
        ``(..., d)``. Any reordering of the ``T`` ids gives the same vector.
    """
    check_tensor("embeddings", embeddings, floating=True)
    check_tensor("ids", ids)
    return embeddings[ids].mean(dim=-2)  # (..., T, d) -> (..., d)


# ---- figures -------------------------------------------------------------------

def draw_sequential_vs_parallel(seq_len: int = 5):
    """Left: a recurrent layer's chain of dependent steps, ``h_t`` waits for
    ``h_{t-1}``. Right: self-attention, every output computed from every
    input at once. Returns the ``Figure``."""
    from introdl.figures import diagrams

    fig, ax = diagrams.new_diagram(6.4, 2.6, xlim=(0, 14), ylim=(0, 5.6))
    xs_left = [0.8 + 1.35 * t for t in range(seq_len)]
    xs_right = [8.0 + 1.35 * t for t in range(seq_len)]
    for t, x in enumerate(xs_left):
        diagrams.node(ax, (x, 1.0), f"$x_{t + 1}$", kind="input", radius=0.42)
        diagrams.node(ax, (x, 3.4), f"$h_{t + 1}$", kind="state", radius=0.42)
        diagrams.arrow(ax, (x, 1.0), (x, 3.4), r_start=0.42, r_end=0.42)
        if t:
            diagrams.arrow(ax, (xs_left[t - 1], 3.4), (x, 3.4), r_start=0.42,
                           r_end=0.42, color="#D55E00")
    for t, x in enumerate(xs_right):
        diagrams.node(ax, (x, 1.0), f"$x_{t + 1}$", kind="input", radius=0.42)
        diagrams.node(ax, (x, 3.4), f"$y_{t + 1}$", kind="output", radius=0.42)
        for x0 in xs_right:
            diagrams.arrow(ax, (x0, 1.0), (x, 3.4), r_start=0.42, r_end=0.42,
                           style="-", color="#777777")
    diagrams.caption(ax, (xs_left[seq_len // 2], 4.9),
                     f"recurrent: {seq_len} steps, one after another")
    diagrams.caption(ax, (xs_right[seq_len // 2], 4.9),
                     "self-attention: one step, all pairs")
    return fig


def plot_timings(timings: dict, *, ax=None):
    """Milliseconds per training step against sequence length (log-log), one
    curve per layer in ``timings`` (from :func:`time_layers`).
    Returns the ``Figure``."""
    from introdl.figures.style import new_figure

    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    labels = {"recurrent": "recurrent layer (nn.RNN)",
              "no waiting": "same arithmetic, no waiting",
              "attention": "self-attention"}
    for name, marker in zip(labels, "o^s"):
        ax.plot(timings["length"], [1e3 * t for t in timings[name]], marker=marker,
                label=labels[name])
    ax.set(xscale="log", yscale="log", xlabel="sequence length",
           ylabel="time per training step (ms)")
    ax.set_xticks(timings["length"], labels=[str(n) for n in timings["length"]])
    ax.minorticks_off()
    ax.legend()
    return fig


def plot_recall(results: dict, chance: float, *, item: str = "symbols", ax=None):
    """Recall accuracy against sequence length, one curve per hidden size
    (from :func:`recall_vs_length`), with the chance level dotted; ``item``
    names what is recalled in the axis labels. Returns the ``Figure``."""
    from introdl.figures.style import new_figure

    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    for H, accs in results.items():
        if H != "length":
            ax.plot(results["length"], accs, marker="o", label=f"hidden size {H}")
    ax.axhline(chance, color="black", linestyle=":", linewidth=1, label="chance")
    ax.set(xlabel=f"sequence length ({item} to recall)",
           ylabel=f"{item} recalled correctly", ylim=(0, 1.05))
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.legend()
    return fig
