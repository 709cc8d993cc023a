"""Sequence models built from :class:`introdl.rnn.RNN`, their losses, demos
and the figures of the chapters "Deep sequence modeling", "Recurrent neural
networks" and "Predicting the next word".

Every model maps a batch of sequences to one output per time step:

- :class:`PerStepMLP`: the naive approach, one feed-forward net applied to
  each step on its own, ``y_hat_t = f(x_t)``;
- :class:`RNNTagger`: a simple RNN with a linear read-out,
  ``y_hat_t = W_hy h_t + b_y``;
- :class:`RNNLanguageModel`: embedding -> RNN -> scores over the vocabulary.

Targets equal to :data:`introdl.tasks.IGNORE_INDEX` are skipped by
:func:`sequence_cross_entropy` and :func:`sequence_accuracy`.
"""

from __future__ import annotations

from typing import Sequence

import torch

from introdl.checks import check_ndim, check_positive_int, check_tensor
from introdl.rnn import RNN
from introdl.losses import IGNORE_INDEX, sequence_accuracy, sequence_cross_entropy

__all__ = ["PerStepMLP", "RNNTagger", "RNNLanguageModel", "train_echo_models", "next_word_probabilities",
           "first_input_influence", "train_language_model", "parameter_counts",
           "pronoun_statistics", "draw_naive_sequence_model", "draw_rnn_loop",
           "draw_rnn_unrolled", "plot_hidden_states", "plot_accuracy_curves",
           "plot_length_histogram", "plot_pronoun_statistics", "plot_order_demo",
           "plot_parameter_counts"]


# ---- models -------------------------------------------------------------------

class PerStepMLP(torch.nn.Module):
    """The naive sequence model: the same two-layer network applied to each
    time step independently, ``y_hat_t = W_2 relu(W_1 x_t + b_1) + b_2``.

    ``forward(x)``: ``x`` ``(B, T, input_size)`` -> logits ``(B, T, output_size)``.
    Nothing flows from one step to the next.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(input_size, hidden_size),
                                       torch.nn.ReLU(),
                                       torch.nn.Linear(hidden_size, output_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # nn.Linear acts on the last dimension: (B, T, O)


class RNNTagger(torch.nn.Module):
    """A simple RNN with a linear read-out at every step.

    ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)`` (our :class:`~introdl.rnn.RNN`)
    and ``y_hat_t = W_hy h_t + b_y``. ``forward(x)``: ``x`` ``(B, T, input_size)``
    -> logits ``(B, T, output_size)``; ``self.rnn(x)[0]`` gives the hidden
    states ``(B, T, hidden_size)``.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.rnn = RNN(input_size, hidden_size)
        self.readout = torch.nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hs, _ = self.rnn(x)  # (B, T, H)
        return self.readout(hs)  # (B, T, O)


class RNNLanguageModel(torch.nn.Module):
    """Next-token model: embedding -> simple RNN -> a score for every token.

    ``forward(ids)``: ``ids`` ``(B, T)`` int64 -> logits ``(B, T, vocab_size)``;
    ``logits[b, t]`` scores the token that follows ``ids[b, :t + 1]``. The
    learned word vectors are the rows of ``self.embedding.weight``
    ``(vocab_size, embed_dim)``. They start small (normal, standard deviation
    ``init_std``) so that what training writes into them outweighs the
    random start.
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int,
                 init_std: float = 0.1):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab_size, embed_dim)
        torch.nn.init.normal_(self.embedding.weight, std=init_std)
        self.rnn = RNN(embed_dim, hidden_size)
        self.readout = torch.nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        hs, _ = self.rnn(self.embedding(ids))  # (B, T, E) -> (B, T, H)
        return self.readout(hs)  # (B, T, V)


# ---- demos --------------------------------------------------------------------

def train_echo_models(delay: int = 2, hidden_size: int = 16, num_epochs: int = 25,
                      n_train: int = 512, seq_len: int = 20, seed: int = 0):
    """Train the naive :class:`PerStepMLP` and an :class:`RNNTagger` on
    :func:`introdl.tasks.delayed_echo` (4 symbols) with ``introdl.training.fit``.

    Returns:
        dict: name -> ``{"model", "history", "val_accuracy"}`` with names
        ``"feed-forward per step"`` and ``"recurrent"``; ``history.val_metric``
        holds the validation accuracy after each epoch.
    """
    from introdl.tasks import delayed_echo
    from introdl.training import fit

    train = delayed_echo(n_train, seq_len, delay, seed=seed)
    val = delayed_echo(256, seq_len, delay, seed=seed + 1)
    results = {}
    for name, cls in (("feed-forward per step", PerStepMLP), ("recurrent", RNNTagger)):
        torch.manual_seed(seed)
        model = cls(4, hidden_size, 4)
        history = fit(model, train, val, loss_fn=sequence_cross_entropy,
                      optimizer=torch.optim.Adam(model.parameters(), lr=0.02),
                      num_epochs=num_epochs, batch_size=64, metric=sequence_accuracy,
                      generator=torch.Generator().manual_seed(seed))
        results[name] = dict(model=model, history=history,
                             val_accuracy=history.val_metric[-1])
    return results


def train_language_model(ids: torch.Tensor, vocab_size: int, *, embed_dim: int = 16,
                         hidden_size: int = 32, seq_len: int = 16,
                         num_epochs: int = 15, lr: float = 0.02, seed: int = 0):
    """Train an :class:`RNNLanguageModel` on a token stream with
    ``introdl.training.fit``; the last 10 % of the stream is for validation.

    Args:
        ids: token ids ``(n,)``; cut into windows by :func:`introdl.text.lm_windows`
            (stride ``seq_len // 2`` for training).
    Returns:
        ``(model, history)``.
    """
    from introdl.text import lm_windows
    from introdl.training import fit

    split = int(0.9 * len(ids))
    train = lm_windows(ids[:split], seq_len, stride=max(1, seq_len // 2))
    val = lm_windows(ids[split:], seq_len)
    torch.manual_seed(seed)
    model = RNNLanguageModel(vocab_size, embed_dim, hidden_size)
    history = fit(model, train, val, loss_fn=sequence_cross_entropy,
                  optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                  num_epochs=num_epochs, batch_size=64, clip_norm=1.0,
                  generator=torch.Generator().manual_seed(seed))
    return model, history


@torch.no_grad()
def next_word_probabilities(model: torch.nn.Module, vocab, prompt: Sequence[str],
                            k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most probable next tokens after ``prompt`` (a list of tokens),
    as ``(token, probability)`` pairs, most probable first."""
    check_positive_int("k", k)
    if len(prompt) == 0:
        raise ValueError("prompt must hold at least one token")
    was_training = model.training
    model.eval()
    logits = model(vocab.encode(prompt)[None])[0, -1]  # (V,): after the last token
    model.train(was_training)
    probs = torch.softmax(logits, dim=-1)  # (V,)
    top = torch.topk(probs, k)
    return [(vocab.itos[i], p) for i, p in zip(top.indices.tolist(),
                                               top.values.tolist())]


@torch.no_grad()
def first_input_influence(rnn: torch.nn.Module, X: torch.Tensor) -> torch.Tensor:
    """How long does a recurrent network remember its first input?

    Runs ``rnn`` (any module returning ``(states (B, T, H), ...)``, such as
    :class:`~introdl.rnn.RNN`) on one-hot sequences ``X`` ``(B, T, K)`` and on
    copies whose first symbol is changed (shifted by one in the alphabet), and
    returns the mean Euclidean distance between the two hidden states at each
    step, ``(T,)``. A distance near 0 at step ``t`` means the first input no
    longer matters there.
    """
    check_tensor("X", X, floating=True)
    check_ndim("X", X, (3,))
    X2 = X.clone()
    X2[:, 0] = X[:, 0].roll(1, dims=-1)  # another symbol at step 0 only
    hs, hs2 = rnn(X)[0], rnn(X2)[0]  # (B, T, H) each
    return (hs - hs2).norm(dim=-1).mean(dim=0)  # (T,)


def parameter_counts(seq_lens: Sequence[int], input_size: int, hidden_size: int):
    """Weights needed to read a whole sequence of each length in ``seq_lens``.

    A feed-forward layer on the flattened sequence needs
    ``(T * input_size + 1) * hidden_size`` weights, growing with ``T``; a
    simple RNN shares ``W_xh``, ``W_hh`` and its biases across steps:
    ``hidden_size * (input_size + hidden_size + 2)`` whatever ``T``.

    Returns:
        ``{"feed-forward on the whole sequence": [...], "recurrent": [...]}``.
    """
    check_positive_int("input_size", input_size)
    check_positive_int("hidden_size", hidden_size)
    ff = [(check_positive_int("T", T) * input_size + 1) * hidden_size
          for T in seq_lens]
    rnn = sum(p.numel() for p in RNN(input_size, hidden_size).parameters())
    return {"feed-forward on the whole sequence": ff, "recurrent": [rnn] * len(ff)}


def pronoun_statistics(sentences: Sequence[str]) -> dict[str, float]:
    """How well can "she" or "he" be predicted in the corpus's sentences
    "<name> ... and <pronoun> ..."?

    Returns the probability of "she" (a) given only the previous word "and",
    (b) given that the sentence starts with a woman's name, (c) given that it
    starts with a man's name. (a) is what a model that sees one step back
    can know; (b) and (c) need the first word of the sentence.
    """
    from introdl.corpus import FEMALE_NAMES

    seen = {"and": [], "female": [], "male": []}
    for s in sentences:
        tokens = s.split()
        for t in range(1, len(tokens)):
            if tokens[t - 1] == "and" and tokens[t] in ("she", "he"):
                she = tokens[t] == "she"
                seen["and"].append(she)
                seen["female" if tokens[0] in FEMALE_NAMES else "male"].append(she)
    if not seen["and"]:
        raise ValueError("sentences hold no '... and she/he ...' sentence")
    return {
        'previous word "and"': sum(seen["and"]) / len(seen["and"]),
        "sentence starts with a woman's name": sum(seen["female"]) /
        max(len(seen["female"]), 1),
        "sentence starts with a man's name": sum(seen["male"]) /
        max(len(seen["male"]), 1),
    }


# ---- figures ------------------------------------------------------------------

def draw_naive_sequence_model(num_steps: int = 4):
    """Diagram of the naive approach: one feed-forward network (the same box,
    the same weights) maps each ``x_t`` to ``y_hat_t``, with no link between
    time steps (the notes' missing "naive_sequence_modeling" image)."""
    from introdl.figures import diagrams

    check_positive_int("num_steps", num_steps)
    fig, ax = diagrams.new_diagram(6.4, 2.9, xlim=(0, 2.2 * num_steps + 0.4),
                                   ylim=(-0.4, 4.9))
    for t in range(num_steps):
        x = 1.2 + 2.2 * t
        diagrams.node(ax, (x, 0.5), f"$x_{t}$", kind="input")
        diagrams.box(ax, (x, 2.2), "feed-forward\nnetwork", width=1.7, height=1.0,
                     kind="hidden", fontsize=8)
        diagrams.node(ax, (x, 3.9), rf"$\hat y_{t}$", kind="output")
        diagrams.arrow(ax, (x, 0.5), (x, 2.2), r_end=0.5)
        diagrams.arrow(ax, (x, 2.2), (x, 3.9), r_start=0.5)
        if t:
            ax.text(x - 1.1, 2.2, r"$\times$", ha="center", va="center", fontsize=14,
                    color="#888888")
    diagrams.caption(ax, (1.1 * num_steps + 0.2, -0.3),
                     "the same network at every step; nothing passes between steps")
    return fig


def draw_rnn_loop():
    """Diagram of a recurrent cell with its loop: ``x_t`` enters, ``y_hat_t``
    leaves, and the hidden state ``h_t`` is fed back as the next step's
    ``h_{t-1}`` (the notes' missing "rnn_from_scratch" image)."""
    import matplotlib.patches as mpatches

    from introdl.figures import diagrams
    from introdl.figures.style import PALETTE

    fig, ax = diagrams.new_diagram(6.4, 3.0, xlim=(0, 10.5), ylim=(-0.3, 4.6))
    cx = 2.2
    diagrams.node(ax, (cx, 0.4), "$x_t$", kind="input")
    diagrams.box(ax, (cx, 2.1), "RNN cell\n$h_t$", width=1.8, height=1.1,
                 kind="state")
    diagrams.node(ax, (cx, 4.0), r"$\hat y_t$", kind="output")
    diagrams.arrow(ax, (cx, 0.4), (cx, 2.1), r_end=0.55, label="$W_{xh}$")
    diagrams.arrow(ax, (cx, 2.1), (cx, 4.0), r_start=0.55, label="$W_{hy}$")
    ax.add_patch(mpatches.FancyArrowPatch(  # the loop: h_t returns as h_{t-1}
        (cx + 0.9, 2.35), (cx + 0.9, 1.85), arrowstyle="-|>", mutation_scale=12,
        color="black", linewidth=1.1, zorder=2,
        connectionstyle="arc,angleA=0,angleB=0,armA=38,armB=38,rad=8"))
    ax.text(cx + 1.75, 2.1, "$W_{hh}$", ha="left", va="center", fontsize=9,
            color=PALETTE[1])
    diagrams.caption(ax, (cx + 1.45, 1.0), "$h_t$ is fed back\nas $h_{t-1}$",
                     fontsize=8)
    ax.text(5.3, 2.6, r"$h_t = \tanh(W_{hh}\, h_{t-1} + W_{xh}\, x_t)$",
            fontsize=11, va="center")
    ax.text(5.3, 1.6, r"$\hat y_t = W_{hy}\, h_t$", fontsize=11, va="center")
    diagrams.caption(ax, (7.5, 0.8), "one cell, applied at every time step")
    return fig


def draw_rnn_unrolled(num_steps: int = 4):
    """The unrolled computational graph (the notes' missing
    "rnn_computational_graph" image): a column per time step with ``x_t``,
    ``h_t``, ``y_hat_t`` and the loss ``L_t``; the same ``W_xh``, ``W_hh``,
    ``W_hy`` label every column, and the losses add up to ``L``."""
    from introdl.figures import diagrams

    check_positive_int("num_steps", num_steps)
    dx = 2.0
    fig, ax = diagrams.new_diagram(6.4, 3.9, xlim=(0, 1.6 + dx * num_steps),
                                   ylim=(-0.3, 7.2))
    diagrams.node(ax, (0.6, 2.4), "$h_0$", kind="state")
    diagrams.caption(ax, (0.6, 1.65), "start: 0", fontsize=8)
    total = (0.9 + dx * (num_steps + 1) / 2, 6.6)
    diagrams.box(ax, total, r"$L = \sum_t L_t$", width=2.0, height=0.7, kind="op")
    for t in range(1, num_steps + 1):
        x = 0.6 + dx * t
        diagrams.node(ax, (x, 0.5), f"$x_{t}$", kind="input")
        diagrams.node(ax, (x, 2.4), f"$h_{t}$", kind="state")
        diagrams.node(ax, (x, 4.0), rf"$\hat y_{t}$", kind="output")
        diagrams.node(ax, (x, 5.3), f"$L_{t}$", kind="op", radius=0.35)
        diagrams.arrow(ax, (x, 0.5), (x, 2.4), label="$W_{xh}$")
        diagrams.arrow(ax, (x - dx, 2.4), (x, 2.4), label="$W_{hh}$")
        diagrams.arrow(ax, (x, 2.4), (x, 4.0), label="$W_{hy}$")
        diagrams.arrow(ax, (x, 4.0), (x, 5.3), r_end=0.35)
        diagrams.arrow(ax, (x, 5.3), total, r_start=0.35, r_end=0.45,
                       color="#888888")
    return fig


def plot_hidden_states(hs: torch.Tensor, step_labels: Sequence[str], *, ax=None,
                       title: str | None = None):
    """Heatmap of hidden states over time: one row per hidden unit, one column
    per step. ``hs``: ``(T, H)`` values in ``[-1, 1]`` (tanh); ``step_labels``:
    ``T`` strings for the columns. Returns the ``Figure``."""
    from introdl.figures.style import plot_heatmap

    check_tensor("hs", hs, floating=True)
    check_ndim("hs", hs, (2,))
    if len(step_labels) != hs.shape[0]:
        raise ValueError(f"step_labels must have {hs.shape[0]} entries, got "
                         f"{len(step_labels)}")
    fig = plot_heatmap(hs.detach().T, ax=ax, xlabels=step_labels,
                       ylabels=[str(i) for i in range(hs.shape[1])],
                       xlabel="time step", ylabel="hidden unit", title=title,
                       vmin=-1, vmax=1)
    fig.axes[-1].set_ylabel("value of $h_t$")  # the colour bar
    return fig


def plot_accuracy_curves(results: dict, chance: float, *, ax=None):
    """Validation accuracy per epoch of each model in ``results`` (as returned
    by :func:`train_echo_models`), with a dotted line at ``chance``."""
    from introdl.figures.style import plot_curves

    curves = {name: r["history"].val_metric for name, r in results.items()}
    fig = plot_curves(curves, ax=ax, ylabel="validation accuracy")
    ax = fig.axes[0] if ax is None else ax
    ax.axhline(chance, color="#888888", linestyle=":", linewidth=1.2)
    ax.text(0, chance + 0.02, "chance", color="#555555", fontsize=8, va="bottom")
    ax.set_ylim(0, 1.05)
    return fig


def plot_length_histogram(lengths: Sequence[int], *, ax=None, unit: str = "tokens"):
    """Bar chart of how many sequences have each length. Returns the ``Figure``."""
    from collections import Counter

    from introdl.figures.style import PALETTE, new_figure

    if len(lengths) == 0:
        raise ValueError("lengths must not be empty")
    fig, ax = new_figure(height=2.8) if ax is None else (ax.figure, ax)
    counts = Counter(int(n) for n in lengths)
    xs = sorted(counts)
    ax.bar(xs, [counts[x] for x in xs], color=PALETTE[0], edgecolor="black",
           linewidth=0.5)
    ax.set(xlabel=f"sequence length ({unit})", ylabel="number of sequences",
           xticks=xs)
    return fig


def plot_pronoun_statistics(stats: dict[str, float], *, ax=None):
    """Horizontal bars of the probabilities of :func:`pronoun_statistics`."""
    from introdl.figures.style import PALETTE, new_figure

    fig, ax = new_figure(height=2.2) if ax is None else (ax.figure, ax)
    names = list(stats)[::-1]
    values = [stats[n] for n in names]
    bars = ax.barh(names, values, color=[PALETTE[k] for k in (2, 1, 0)][:len(names)],
                   edgecolor="black", linewidth=0.5)
    for hatch, bar in zip(("//", "..", ""), bars):
        bar.set_hatch(hatch)  # tells the bars apart in black and white
    for y, v in enumerate(values):
        ax.text(v + 0.02, y, f"{v:.0%}", va="center", fontsize=9)
    ax.set(xlim=(0, 1.15), xlabel='probability that the pronoun is "she"')
    ax.grid(axis="y", visible=False)
    return fig


def plot_order_demo(bags: torch.Tensor, states: torch.Tensor, names: Sequence[str],
                    vocab_words: Sequence[str]):
    """Two heatmaps side by side, one row per sentence: bag-of-words counts
    (left, ``bags`` ``(n, V)`` over ``vocab_words``) and an RNN's final hidden
    states (right, ``states`` ``(n, H)``), each cell labelled with its value.
    Returns the ``Figure``."""
    from introdl.figures.style import new_figure, plot_heatmap

    fig, (a, b) = new_figure(ncols=2, height=1.2 + 0.35 * len(names))
    plot_heatmap(bags, ax=a, xlabels=vocab_words, ylabels=names, cmap="Greys",
                 vmin=0, vmax=2 * max(1.0, float(bags.max())), colorbar=False,
                 title="bag of words (counts)")
    for (i, j), v in zip(torch.cartesian_prod(torch.arange(bags.shape[0]),
                                              torch.arange(bags.shape[1])).tolist(),
                         bags.flatten().tolist()):
        a.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8)
    plot_heatmap(states.detach(), ax=b, ylabels=[""] * len(names), vmin=-1, vmax=1,
                 xlabel="hidden unit", title="RNN's last hidden state",
                 colorbar=False, annotate=True)
    b.set_xticks(range(states.shape[1]))
    b.set_xticklabels([str(i) for i in range(states.shape[1])], fontsize=7)
    return fig


def plot_parameter_counts(seq_lens: Sequence[int], counts: dict, *, ax=None):
    """Parameters versus sequence length (both axes logarithmic), as from
    :func:`parameter_counts`. Returns the ``Figure``."""
    from introdl.figures.style import plot_curves

    fig = plot_curves(counts, x=list(seq_lens), ax=ax, xlabel="sequence length T",
                      ylabel="number of parameters", logy=True)
    fig.axes[0].set_xscale("log")
    for line, marker in zip(fig.axes[0].lines, "os"):
        line.set_marker(marker)
        line.set_markersize(4)
    return fig
