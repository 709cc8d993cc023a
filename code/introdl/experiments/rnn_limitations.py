"""Experiments of the chapter "Limitations of recurrent models".

- :func:`without_recurrence` and :func:`time_layers`: wall-clock time of a
  recurrent layer, of the same arithmetic without the waiting, and of
  self-attention as the sequence grows (median of repeated runs);
- :func:`sequential_depth` and :func:`count_parallelism`: the longest chain of
  dependent operations of each of those layers, and the arithmetic (FLOPs)
  available at each step of that chain, as the sequence grows;
- :class:`RecallGRU`, :class:`RecallAttention` and :func:`recall_vs_length`: a
  gated recurrent encoder must squeeze a whole sequence into its fixed-size
  state, and recalls less of it as the sequence grows; the same encoder with
  attention over all its outputs (the control) does not have to;
- :func:`bag_of_vectors`: averaging the inputs into one vector forgets order.
"""

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from introdl.attention import MultiHeadAttention
from introdl.checks import check_positive_int, check_tensor
from introdl.losses import sequence_accuracy, sequence_cross_entropy
from introdl.tasks import recall_task
from introdl.training import fit, one_thread

__all__ = ["without_recurrence", "median_times", "Timings", "time_layers",
           "sequential_depth", "Parallelism", "matmul_flops", "count_parallelism",
           "RecallGRU",
           "RecallAttention", "Recall", "recall_vs_length", "bag_of_vectors"]


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


def median_times(fns: Mapping[str, Callable[[], object]],
                 repeats: int) -> dict[str, float]:
    """Median wall-clock seconds of each ``fn()`` in ``fns`` over ``repeats``
    rounds, after one warm-up round. The functions take turns within each
    round, so that a passing load on the machine slows them all alike."""
    check_positive_int("repeats", repeats)
    times = {name: [] for name in fns}
    for round_ in range(repeats + 1):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if round_:  # round 0 is the warm-up
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


@dataclass
class Timings:
    """What :func:`time_layers` measured: for each layer name (``"recurrent"``,
    ``"no waiting"``, ``"attention"``), one time in seconds per length."""

    lengths: list[int]
    seconds: dict[str, list[float]]


def _layers(d_model: int, num_heads: int, seed: int) -> dict[str, Callable]:
    """The three layers that :func:`time_layers` and :func:`count_parallelism`
    compare, each a function ``x (B, T, d_model) -> (B, T, d_model)``, with
    PyTorch's own initialisation drawn from ``seed`` (torch's global
    generator is left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        rnn = nn.RNN(d_model, d_model, batch_first=True)
        attention = MultiHeadAttention(d_model, num_heads)
    return {"recurrent": lambda x: rnn(x)[0],
            "no waiting": lambda x: without_recurrence(rnn, x),
            "attention": lambda x: attention(x)[0]}


def time_layers(lengths: Sequence[int] = (8, 16, 32, 64, 128, 256), d_model: int = 64,
                batch_size: int = 8, num_heads: int = 4, repeats: int = 5,
                seed: int = 0) -> Timings:
    """Time a training step (forward and backward pass) of three layers on
    sequences of growing length.

    - ``"recurrent"``: ``torch.nn.RNN(d_model, d_model)``, one step per
      position, each waiting for the previous one;
    - ``"no waiting"``: :func:`without_recurrence`, the same arithmetic with
      every position at once;
    - ``"attention"``: self-attention,
      :class:`introdl.attention.MultiHeadAttention` ``(d_model, num_heads)``.

    Each entry is the median of ``repeats`` timed runs after a warm-up, on one
    CPU thread (:func:`median_times`). The layers' weights and the inputs are
    drawn from ``seed``; torch's global generator is left alone.
    """
    check_positive_int("repeats", repeats)
    lengths = [check_positive_int("length", T) for T in lengths]  # also a generator
    layers = _layers(d_model, num_heads, seed)
    gen = torch.Generator().manual_seed(seed)
    out = Timings(lengths, {name: [] for name in layers})
    with one_thread():
        for T in lengths:
            x = torch.randn(batch_size, T, d_model, generator=gen, requires_grad=True)
            steps = {name: lambda layer=layer, x=x: layer(x).sum().backward()
                     for name, layer in layers.items()}
            for name, t in median_times(steps, repeats).items():
                out.seconds[name].append(t)
    return out


def sequential_depth(y: torch.Tensor) -> int:
    """The longest chain of operations that produced ``y``, each needing the
    result of the one before: the longest path through the graph autograd
    recorded (leaves count as one step). Raises ``ValueError`` if ``y`` has
    no graph (it was not computed from a tensor that requires a gradient)."""
    if y.grad_fn is None:
        raise ValueError("y must be computed from a tensor with requires_grad=True")
    depth = {}  # node -> length of the longest chain that ends in it
    stack = [y.grad_fn]
    while stack:  # depth-first, without recursion: graphs can be thousands deep
        node = stack[-1]
        inputs = [g for g, _ in node.next_functions if g is not None]
        waiting = [g for g in inputs if g not in depth]
        if waiting:
            stack.extend(waiting)
            continue
        depth[node] = 1 + max((depth[g] for g in inputs), default=0)
        stack.pop()
    return depth[y.grad_fn]


@dataclass
class Parallelism:
    """What :func:`count_parallelism` counted: for each layer name (as in
    :class:`Timings`), per length, the forward pass's :func:`sequential_depth`
    and its matrix-product FLOPs. ``flops_per_step`` is their ratio: the work
    that could run at the same time at each step of the longest chain."""

    lengths: list[int]
    depth: dict[str, list[int]]
    flops: dict[str, list[int]]
    flops_per_step: dict[str, list[float]] = field(init=False)

    def __post_init__(self):
        self.flops_per_step = {name: [f / d for f, d in zip(fs, self.depth[name])]
                               for name, fs in self.flops.items()}


def matmul_flops(name: str, length: int, d_model: int, batch_size: int) -> int:
    """Floating-point operations (a multiply-add counts 2) of the matrix
    products in one forward pass of the layer ``name`` of :func:`time_layers`
    on a ``(batch_size, length, d_model)`` input. The recurrent layer and its
    yardstick do two ``d x d`` products per position; attention does four
    (queries, keys, values, output) plus the ``T x T`` scores and their mix
    with the values. ``torch.utils.flop_counter.FlopCounterMode`` counts the
    same (see the tests); its first use costs seconds, a formula nothing."""
    B, T, d = batch_size, length, d_model
    per_position = {"recurrent": 2, "no waiting": 2, "attention": 4}[name]
    products = per_position * 2 * B * T * d * d  # (B T, d) @ (d, d), 2 FLOPs each
    if name == "attention":
        products += 2 * (2 * B * T * T * d)  # Q @ K.mT and A @ V, summed over heads
    return products


def count_parallelism(lengths: Sequence[int] = (8, 16, 32, 64, 128, 256),
                      d_model: int = 64, batch_size: int = 8, num_heads: int = 4,
                      seed: int = 0) -> Parallelism:
    """Count, for the three layers of :func:`time_layers`, how long the chain
    of dependent operations of a forward pass is (:func:`sequential_depth`,
    from the graph PyTorch records) and how much arithmetic it does
    (:func:`matmul_flops`). Counts, not timings: the same on every machine
    and however busy it is."""
    lengths = [check_positive_int("length", T) for T in lengths]  # also a generator
    layers = _layers(d_model, num_heads, seed)
    gen = torch.Generator().manual_seed(seed)
    depth = {name: [] for name in layers}
    flops = {name: [] for name in layers}
    for T in lengths:
        x = torch.randn(batch_size, T, d_model, generator=gen, requires_grad=True)
        for name, layer in layers.items():
            depth[name].append(sequential_depth(layer(x)))
            flops[name].append(matmul_flops(name, T, d_model, batch_size))
    return Parallelism(lengths, depth, flops)


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
        self.num_symbols = check_positive_int("num_symbols", num_symbols)
        self.max_len = check_positive_int("max_len", max_len)
        self.embedding = nn.Embedding(num_symbols + 1, embed_dim)  # + padding
        self.gru = nn.GRU(embed_dim, check_positive_int("hidden_size", hidden_size),
                          batch_first=True)
        self.readout = nn.Linear(hidden_size, max_len * num_symbols)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(self.embedding(X))  # h: (1, B, H), the final state
        return self.readout(h[0]).view(len(X), self.max_len, self.num_symbols)


class RecallAttention(nn.Module):
    """The control for :class:`RecallGRU`: the same encoder, but the read-out
    may look at the GRU's output at *every* position, not only its last.

    Output position ``j`` has a learned query ``q_j`` ``(hidden_size,)``; it
    scores every GRU output ``o_t`` by ``q_j . o_t / sqrt(hidden_size)``, a
    softmax turns the scores into weights, and a linear layer reads the symbol
    off the weighted mix of outputs: attention, the next chapter's subject.
    ``forward(X)``: ``(B, T)`` ids -> ``(B, max_len, num_symbols)`` logits.
    """

    def __init__(self, num_symbols: int, max_len: int, hidden_size: int,
                 embed_dim: int = 8):
        super().__init__()
        self.embedding = nn.Embedding(check_positive_int("num_symbols", num_symbols)
                                      + 1, embed_dim)  # + padding
        self.gru = nn.GRU(embed_dim, check_positive_int("hidden_size", hidden_size),
                          batch_first=True)
        self.queries = nn.Parameter(torch.randn(check_positive_int(
            "max_len", max_len), hidden_size))  # (max_len, H): one per output
        self.readout = nn.Linear(hidden_size, num_symbols)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.gru(self.embedding(X))  # (B, T, H): every position
        scores = self.queries @ outputs.transpose(1, 2)  # (B, max_len, T)
        weights = torch.softmax(scores / math.sqrt(outputs.shape[-1]), dim=-1)
        return self.readout(weights @ outputs)  # (B, max_len, num_symbols)


@dataclass
class Recall:
    """What :func:`recall_vs_length` measured: the share of symbols recalled
    correctly at each length of ``lengths``, for each hidden size, by a
    :class:`RecallGRU` (``accuracy``) and by a :class:`RecallAttention`
    (``attention``, the control; empty if none was trained)."""

    lengths: list[int]
    accuracy: dict[int, list[float]]
    attention: dict[int, list[float]] = field(default_factory=dict)


def _recall_accuracy(model: nn.Module, data, test, lengths: list[int],
                     num_epochs: int, seed: int) -> list[float]:
    """Train ``model`` on ``data`` ``(X, y)`` with :func:`fit` (Adam, lr 0.02,
    batches of 128); its accuracy on ``test`` ``(X, y, k)`` per length."""
    fit(model, data, loss_fn=sequence_cross_entropy,
        optimizer=torch.optim.Adam(model.parameters(), lr=2e-2),
        num_epochs=num_epochs, batch_size=128,
        generator=torch.Generator().manual_seed(seed))
    X_test, y_test, k_test = test
    with torch.no_grad():
        logits = model(X_test)  # (n, T, num_symbols)
    return [sequence_accuracy(logits[k_test == k], y_test[k_test == k])
            for k in lengths]


def recall_vs_length(hidden_sizes: Sequence[int] = (16, 64),
                     lengths: Sequence[int] = (1, 2, 3, 4, 6, 8, 12, 16),
                     num_symbols: int = 10, n_train: int = 2000,
                     num_epochs: int = 8, seed: int = 0,
                     attention_sizes: Sequence[int] = ()) -> Recall:
    """Train one :class:`RecallGRU` per hidden size of ``hidden_sizes``, and
    one :class:`RecallAttention` per size of ``attention_sizes``, all on the
    same :func:`introdl.tasks.recall_task` data (mixed lengths) with the same
    budget (:func:`introdl.training.fit`, ``num_epochs`` epochs); then measure
    on fresh sequences the share of symbols recalled correctly, for each
    length separately. Torch's global generator is left alone."""
    lengths = list(lengths)  # used several times: a generator would run dry
    data = recall_task(n_train, lengths, num_symbols, seed=seed)[:2]
    test = recall_task(2000, lengths, num_symbols, seed=seed + 1)
    results = Recall(lengths, {})
    for sizes, Model, out in ((hidden_sizes, RecallGRU, results.accuracy),
                              (attention_sizes, RecallAttention, results.attention)):
        for H in sizes:
            with torch.random.fork_rng(devices=[]):  # PyTorch's own initialisation
                torch.manual_seed(seed)
                model = Model(num_symbols, max(lengths), H)
            out[H] = _recall_accuracy(model, data, test, lengths, num_epochs, seed)
    return results


def bag_of_vectors(embeddings: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Squash a sequence into one vector: the mean of its embeddings.

    ``embeddings``: ``(V, d)``, one row per token; ``ids``: ``(..., T)``
    token ids. Returns ``(..., d)``; any reordering of the ``T`` ids gives the
    same vector.
    """
    check_tensor("embeddings", embeddings, floating=True)
    vectors = embeddings[check_tensor("ids", ids)]  # (..., T, d): one per token
    return vectors.mean(dim=-2)  # (..., d): the order is gone
