"""The perceptron: a single neuron, ``y_hat = g(w0 + X @ w)``.

Also the data and figure functions of the chapter "The perceptron".
"""

from __future__ import annotations

from typing import Callable

import torch

from introdl.checks import check_ndim, check_tensor
from introdl.activations import sigmoid

__all__ = ["perceptron", "linear_stack_is_linear", "linearly_separable_data", "xor_data",
           "Perceptron", "separability_demo", "draw_perceptron"]


def perceptron(
    X: torch.Tensor,
    w: torch.Tensor,
    w0: float | torch.Tensor,
    g: Callable[[torch.Tensor], torch.Tensor] = sigmoid,
) -> torch.Tensor:
    """Forward pass of one neuron: dot product, add bias, apply non-linearity.

    Args:
        X: inputs, shape ``(n, d)`` for a batch of ``n`` examples or ``(d,)``.
        w: weights, shape ``(d,)``.
        w0: bias, a number or a 0-d tensor.
        g: activation function applied elementwise (default :func:`~introdl.activations.sigmoid`).
    Returns:
        ``g(w0 + X @ w)``: shape ``(n,)`` for a batch, ``()`` for one input.
    Raises:
        ValueError: if ``w`` is not 1-d or its length differs from
            ``X.shape[-1]`` (the message names both shapes).
    """
    check_tensor("X", X, floating=True)
    check_tensor("w", w, floating=True)
    check_ndim("X", X, (1, 2))
    check_ndim("w", w, (1,))
    if X.shape[-1] != w.shape[0]:
        raise ValueError(
            f"w has shape {tuple(w.shape)} but X has shape {tuple(X.shape)}: "
            f"the length of w must equal X's last dimension ({X.shape[-1]})"
        )
    if isinstance(w0, torch.Tensor) and w0.ndim != 0:
        raise ValueError(f"w0 must be a number or a 0-d tensor, got shape "
                         f"{tuple(w0.shape)}")
    z = w0 + X @ w  # (n,) or ()
    return g(z)


def linear_stack_is_linear(
    weights: list[torch.Tensor], biases: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Collapse a stack of affine maps ``x -> W x + b`` into one affine map.

    Applying ``(W1, b1)``, then ``(W2, b2)``, ... equals applying the single
    map ``(W, b)`` returned here: without a non-linearity, depth adds nothing.

    Args:
        weights: matrices, the ``k``-th of shape ``(d_{k+1}, d_k)``.
        biases: vectors, the ``k``-th of shape ``(d_{k+1},)``.
    Returns:
        ``(W, b)`` with ``W`` of shape ``(d_last, d_0)`` and ``b`` ``(d_last,)``.
    """
    if len(weights) != len(biases) or not weights:
        raise ValueError(f"weights and biases must be non-empty lists of equal "
                         f"length, got {len(weights)} and {len(biases)}")
    W, b = weights[0], biases[0]
    for k, (Wk, bk) in enumerate(zip(weights[1:], biases[1:]), start=1):
        if Wk.shape[1] != W.shape[0] or bk.shape != (Wk.shape[0],):
            raise ValueError(f"weights[{k}] has shape {tuple(Wk.shape)} and "
                             f"biases[{k}] {tuple(bk.shape)}, which do not follow "
                             f"a map with {W.shape[0]} outputs")
        W, b = Wk @ W, Wk @ b + bk  # x -> Wk (W x + b) + bk
    return W, b


def linearly_separable_data(n: int = 200, seed: int = 0):
    """Two Gaussian blobs that a straight line separates.

    Returns:
        ``(X, y)``: ``X`` of shape ``(n, 2)`` (float32), ``y`` of shape ``(n,)``
        with values 0. or 1.
    """
    g = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, generator=g) < 0.5).float()  # (n,)
    centres = torch.stack([2 * y - 1, 2 * y - 1], 1) * 0.9  # (n, 2)
    X = centres + 0.55 * torch.randn(n, 2, generator=g)
    return X, y


def xor_data(n: int = 200, noise: float = 0.15, seed: int = 0):
    """Noisy XOR: points around the four corners of a square, labelled 1
    where exactly one coordinate is positive. No line separates the classes.

    Returns:
        ``(X, y)``: ``X`` of shape ``(n, 2)`` (float32), ``y`` of shape ``(n,)``
        with values 0. or 1.
    """
    g = torch.Generator().manual_seed(seed)
    corners = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    idx = torch.randint(0, 4, (n,), generator=g)
    X = corners[idx] + noise * torch.randn(n, 2, generator=g)  # (n, 2)
    y = ((corners[idx, 0] > 0) != (corners[idx, 1] > 0)).float()  # (n,)
    return X, y


class Perceptron(torch.nn.Module):
    """A trainable perceptron with weights ``w`` ``(d,)`` and bias ``w0``.

    ``forward`` returns the sum ``z = w0 + X @ w`` (the logits), shape ``(n,)``;
    apply ``g`` (e.g. :func:`~introdl.activations.sigmoid`) for ``y_hat``. Training
    on logits lets the loss use a numerically stable form.
    """

    def __init__(self, d: int, generator: torch.Generator | None = None):
        super().__init__()
        self.w = torch.nn.Parameter(0.1 * torch.randn(d, generator=generator))
        self.w0 = torch.nn.Parameter(torch.zeros(()))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return perceptron(X, self.w, self.w0, g=lambda z: z)  # (n,)


def separability_demo(num_steps: int = 300, lr: float = 0.5, seed: int = 0):
    """Train three classifiers that show why a non-linearity is needed.

    1. a perceptron on linearly separable data (it succeeds);
    2. a perceptron on XOR data (no line separates XOR, so it fails);
    3. two stacked linear layers, 2 -> 8 -> 1, with no activation in between,
       on XOR (they collapse to one linear map, so they fail the same way).

    Returns:
        dict: name -> ``{"predict", "X", "y", "accuracy", "losses"}``, where
        ``predict`` maps ``(m, 2)`` inputs to ``(m,)`` probabilities.
    """
    from introdl.training import fit

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    models = {"perceptron\nseparable data": (Perceptron(2, gen),
                                              linearly_separable_data(seed=seed)),
              "perceptron\nXOR data": (Perceptron(2, gen), xor_data(seed=seed)),
              "two linear layers\nXOR data": (
                  torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Linear(8, 1),
                                      torch.nn.Flatten(0)), xor_data(seed=seed))}
    results = {}
    for name, (model, (X, y)) in models.items():
        history = fit(model, (X, y),
                      loss_fn=torch.nn.functional.binary_cross_entropy_with_logits,
                      optimizer=torch.optim.SGD(model.parameters(), lr=lr),
                      num_epochs=num_steps, batch_size=None, generator=gen)
        results[name] = dict(predict=lambda X, m=model: sigmoid(m(X)), X=X, y=y,
                             losses=history.train_loss)
    with torch.no_grad():
        for r in results.values():
            r["accuracy"] = ((r["predict"](r["X"]) > 0.5).float() == r["y"]).float()
            r["accuracy"] = r["accuracy"].mean().item()
    return results


def draw_perceptron(d: int = 3):
    """Diagram of a perceptron with ``d`` inputs (the notes' missing image).

    Inputs ``x_1..x_d`` and a constant 1 feed, through weights ``w_1..w_d`` and
    the bias ``w_0``, a sum node; the sum passes through the non-linearity
    ``g`` to give ``y_hat``. Returns the ``Figure``.
    """
    from introdl.figures import diagrams

    fig, ax = diagrams.new_diagram(6.4, 3.2, xlim=(0, 10), ylim=(0, 5))
    ys = [4.2 - i * (3.4 / max(d, 1)) for i in range(d + 1)]
    sum_xy, g_xy, out_xy = (5.2, 2.5), (7.2, 2.5), (9.2, 2.5)
    labels = ["$1$"] + [f"$x_{i}$" for i in range(1, d + 1)]
    weights = ["$w_0$"] + [f"$w_{i}$" for i in range(1, d + 1)]
    for i, (y, lab, wlab) in enumerate(zip(ys, labels, weights)):
        kind = "bias" if i == 0 else "input"
        diagrams.node(ax, (1.0, y), lab, kind=kind)
        diagrams.arrow(ax, (1.0, y), sum_xy, label=wlab, label_pos=0.45)
    diagrams.node(ax, sum_xy, r"$\Sigma$", kind="op", radius=0.5)
    diagrams.node(ax, g_xy, "$g$", kind="op", radius=0.5)
    diagrams.node(ax, out_xy, r"$\hat{y}$", kind="output")
    diagrams.arrow(ax, sum_xy, g_xy, label="$z$", r_start=0.5, r_end=0.5)
    diagrams.arrow(ax, g_xy, out_xy, r_start=0.5)
    diagrams.caption(ax, (1.0, 0.2), "inputs")
    diagrams.caption(ax, (5.2, 0.2), "sum")
    diagrams.caption(ax, (7.2, 0.2), "non-linearity")
    diagrams.caption(ax, (9.2, 0.2), "output")
    return fig
