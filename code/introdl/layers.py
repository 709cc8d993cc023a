"""Dense layers and the networks built from them, written from scratch.

:class:`Dense` uses PyTorch's parameter names and shapes (``weight`` of shape
``(out_features, in_features)``, ``bias`` of shape ``(out_features,)``), so a
``torch.nn.Linear``'s ``state_dict`` loads into it. Also the figure functions
and the small experiment of the chapter "From perceptrons to neural networks".
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.activations import relu

__all__ = ["Dense", "dense_network", "spiral_data", "depth_width_demo",
           "plot_depth_width", "draw_network"]


class Dense(torch.nn.Module):
    """A fully connected layer: ``activation(X @ weight.T + bias)``.

    Args:
        in_features: number of inputs ``m_in`` of each example.
        out_features: number of outputs (neurons) ``m_out``.
        activation: a function applied elementwise to the sums, e.g.
            :func:`introdl.activations.relu`; ``None`` (default) applies none.
        generator: draws the initial weights reproducibly.
    Attributes:
        weight: ``(out_features, in_features)``; row ``j`` holds the weights of
            neuron ``j``. bias: ``(out_features,)``. Both start uniform in
            ``[-1/sqrt(in_features), 1/sqrt(in_features)]``, as in ``torch.nn.Linear``.
    Raises:
        TypeError: if ``activation`` is neither ``None`` nor callable.
    """

    def __init__(self, in_features: int, out_features: int,
                 activation: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 *, generator: torch.Generator | None = None):
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        if activation is not None and not callable(activation):
            raise TypeError(f"activation must be callable or None, got "
                            f"{type(activation).__name__}")
        self.activation = activation
        bound = 1 / math.sqrt(in_features)
        weight = torch.rand(out_features, in_features, generator=generator)
        bias = torch.rand(out_features, generator=generator)
        self.weight = torch.nn.Parameter((2 * weight - 1) * bound)  # (m_out, m_in)
        self.bias = torch.nn.Parameter((2 * bias - 1) * bound)  # (m_out,)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``X``: ``(..., in_features)`` -> ``(..., out_features)``.

        Raises:
            ValueError: if the last dimension of ``X`` is not ``in_features``
                (the message names both numbers).
        """
        check_tensor("X", X, floating=True)
        if X.ndim == 0 or X.shape[-1] != self.in_features:
            got = X.shape[-1] if X.ndim else "a 0-d tensor"
            raise ValueError(f"Dense expected {self.in_features} input features "
                             f"(last dimension of X), got {got} "
                             f"(X has shape {tuple(X.shape)})")
        Z = X @ self.weight.T + self.bias  # (..., m_out)
        return Z if self.activation is None else self.activation(Z)

    def extra_repr(self) -> str:
        name = getattr(self.activation, "__name__", repr(self.activation))
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"activation={name}")


def dense_network(sizes: Sequence[int], activation: Callable = relu, *,
                  generator: torch.Generator | None = None) -> torch.nn.Sequential:
    """A feed-forward network of :class:`Dense` layers.

    ``sizes = [m_0, m_1, ..., m_L]`` gives ``L`` layers, the ``k``-th mapping
    ``m_{k-1}`` features to ``m_k``. Every layer but the last applies
    ``activation``; the last outputs raw scores (logits). ``[2, 1]`` is a
    perceptron without its non-linearity, ``[2, 16, 2]`` has one hidden layer.

    Raises:
        ValueError: if ``sizes`` has fewer than two entries.
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the input and output sizes, "
                         f"got {list(sizes)}")
    last = len(sizes) - 2
    return torch.nn.Sequential(*[
        Dense(m_in, m_out, activation if k < last else None, generator=generator)
        for k, (m_in, m_out) in enumerate(zip(sizes[:-1], sizes[1:]))])


def spiral_data(n: int = 300, turns: float = 1.0, noise: float = 0.08,
                seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaved spirals in the plane, one per class.

    Each point lies at angle ``t`` and radius proportional to ``t``, with
    ``t`` up to ``turns`` full turns; class 1 is class 0 rotated by 180 degrees.
    No straight line separates them.

    Returns:
        ``(X, y)``: ``X`` of shape ``(n, 2)`` (float32), ``y`` of shape ``(n,)``
        with class indices 0 or 1 (int64).
    """
    check_positive_int("n", n)
    check_number("turns", turns, low=0, low_open=True)
    check_number("noise", noise, low=0)
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2  # (n,) alternating classes
    t = torch.rand(n, generator=g) * turns * 2 * math.pi + 0.5  # (n,) angles
    r = t / (turns * 2 * math.pi + 0.5)  # (n,) radius in (0, 1]
    angle = t + math.pi * y  # class 1 is rotated by pi
    X = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], 1)  # (n, 2)
    return X + noise * torch.randn(n, 2, generator=g), y


def depth_width_demo(hidden: dict[str, Sequence[int]], X: torch.Tensor,
                     y: torch.Tensor, num_epochs: int = 400, lr: float = 0.02,
                     seed: int = 0) -> dict[str, dict]:
    """Train one :func:`dense_network` per entry of ``hidden`` on ``(X, y)``.

    Args:
        hidden: name -> hidden sizes, e.g. ``{"no hidden layer": [],
            "1 hidden layer of 16": [16]}``; each network is
            ``[2, *hidden, 2]`` with ReLU and outputs two logits.
        X: ``(n, 2)`` points; y: ``(n,)`` class indices 0 or 1.
        num_epochs, lr: full-batch steps of Adam and its learning rate.
    Returns:
        name -> ``{"model", "history", "accuracy", "num_params"}``.
    """
    from introdl.losses import cross_entropy
    from introdl.training import accuracy, fit

    results = {}
    for name, sizes in hidden.items():
        gen = torch.Generator().manual_seed(seed)
        model = dense_network([X.shape[1], *sizes, 2], generator=gen)
        history = fit(model, (X, y), loss_fn=cross_entropy, metric=accuracy,
                      optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                      num_epochs=num_epochs, generator=gen, progress=False)
        results[name] = dict(model=model, history=history,
                             accuracy=history.train_metric[-1],
                             num_params=sum(p.numel() for p in model.parameters()))
    return results


def plot_depth_width(results: dict[str, dict], X: torch.Tensor, y: torch.Tensor,
                     ncols: int = 2):
    """Decision regions of each network of :func:`depth_width_demo`.

    Each panel is titled with its name, its number of parameters and its
    training accuracy. Returns the ``Figure``.
    """
    from introdl.figures.style import new_figure, plot_decision_regions

    nrows = math.ceil(len(results) / ncols)
    fig, axes = new_figure(ncols=ncols, nrows=nrows, width=5.2, height=2.75 * nrows,
                           squeeze=False)
    for ax, (name, r) in zip(axes.flat, results.items()):
        predict = lambda Z, m=r["model"]: torch.softmax(m(Z), dim=1)[:, 1]  # noqa: E731
        title = f"{name}\n{r['num_params']} parameters, {r['accuracy']:.1%} correct"
        plot_decision_regions(predict, X, y, ax=ax, title=title, resolution=150,
                              margin=0.25)
        ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
        ax.title.set_fontsize(9)
    for ax in list(axes.flat)[len(results):]:
        ax.axis("off")
    return fig


def _layer_ys(size: int, height: float) -> list[float]:
    gap = min(1.0, (height - 1.0) / max(size - 1, 1))
    top = height / 2 + gap * (size - 1) / 2
    return [top - i * gap for i in range(size)]


def draw_network(sizes: Sequence[int], *, ax=None, layer_names: Sequence[str] | None
                 = None, weight_names: Sequence[str] | None = None,
                 node_labels: bool = True, height: float = 4.6):
    """Diagram of a fully connected feed-forward network.

    Args:
        sizes: neurons per layer, inputs first, e.g. ``[3, 4, 2]``.
        ax: axes to draw on; a new diagram if ``None``.
        layer_names: a caption under each layer ("inputs", "hidden", ...).
        weight_names: a label over each set of connections, e.g. ``"$W^{(1)}$"``.
        node_labels: write ``x_i``, ``z^{(k)}_i`` and ``y_hat_i`` in the nodes.
    Returns:
        The ``Figure``.
    """
    from introdl.figures import diagrams

    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least two positive layer sizes, "
                         f"got {list(sizes)}")
    width = 2.2 * (len(sizes) - 1) + 1.2
    if ax is None:
        inches = min(6.4, 0.62 * width)
        _, ax = diagrams.new_diagram(inches, inches * (height + 0.3) / width)
    ax.set(xlim=(0, width), ylim=(-0.3, height), aspect="equal")
    ax.axis("off")
    xs = [0.6 + 2.2 * k for k in range(len(sizes))]
    ys = [_layer_ys(s, height) for s in sizes]
    r = min(0.3, 0.42 * min(1.0, (height - 1.0) / max(max(sizes) - 1, 1)))
    for k in range(len(sizes) - 1):  # connections first, nodes on top
        for y0 in ys[k]:
            for y1 in ys[k + 1]:
                diagrams.arrow(ax, (xs[k], y0), (xs[k + 1], y1), r_start=r,
                               r_end=r, color="#555555")
        if weight_names:
            ax.text((xs[k] + xs[k + 1]) / 2, height - 0.1, weight_names[k],
                    ha="center", va="center", fontsize=10)
    last = len(sizes) - 1
    for k, (x, layer_ys) in enumerate(zip(xs, ys)):
        kind = "input" if k == 0 else "output" if k == last else "hidden"
        for i, y in enumerate(layer_ys, start=1):
            label = ""
            if node_labels:
                label = (f"$x_{i}$" if k == 0 else rf"$\hat{{y}}_{i}$" if k == last
                         else f"$z^{{({k})}}_{i}$")
            diagrams.node(ax, (x, y), label, kind=kind, radius=r,
                          fontsize=9 if k in (0, last) else 8)
        if layer_names:
            diagrams.caption(ax, (x, -0.1), layer_names[k])
    return ax.figure
