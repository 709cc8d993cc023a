"""Backpropagation through time: measured gradients, clipping, figures.

The chapter "Backpropagation through time" measures how the gradient with
respect to an RNN's hidden state grows or shrinks as it travels back, checks
the measurement against the product of Jacobians written out by hand, shows
the same effect across the layers of a deep feed-forward network, and tames an
exploding run with gradient clipping (:func:`introdl.training.clip_grad_norm`).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.rnn import RNN, rnn_step
from introdl.tasks import first_value_recall
from introdl.training import History, fit, one_thread

__all__ = ["scaled_orthogonal", "hidden_state_grads", "bptt_by_hand",
           "grad_norms_through_time", "deep_net_grad_norms", "LastStateModel",
           "clipping_demo", "draw_bptt", "plot_grad_norms_through_time",
           "plot_layer_grad_norms", "plot_clipping"]


def scaled_orthogonal(n: int, sigma: float,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """A random ``(n, n)`` float64 matrix whose singular values all equal
    ``sigma``: ``sigma`` times a random orthogonal matrix."""
    check_positive_int("n", n)
    check_number("sigma", sigma, low=0)
    A = torch.randn(n, n, generator=generator, dtype=torch.float64)
    Q, R = torch.linalg.qr(A)
    return sigma * Q * torch.sign(torch.diagonal(R))  # (n, n), uniform over O(n)


def hidden_state_grads(W_hh: torch.Tensor, W_xh: torch.Tensor, x: torch.Tensor,
                       u: torch.Tensor):
    """Run ``h_t = tanh(W_hh h_{t-1} + W_xh x_t)`` from ``h_0 = 0`` and
    differentiate the loss ``L = u . h_T`` with respect to every state.

    Args:
        W_hh: ``(H, H)``; W_xh: ``(H, I)``; x: inputs ``(T, B, I)``;
        u: ``(H,)``, the direction in which the last state is read.
    Returns:
        ``(states, grads)``, both ``(T + 1, B, H)``: ``states[t] = h_t`` and
        ``grads[t] = dL/dh_t``, computed by autograd.
    """
    check_tensor("x", x, floating=True)
    if x.ndim != 3 or W_xh.shape != (W_hh.shape[0], x.shape[-1]):
        raise ValueError(f"x must be (T, B, I) and W_xh (H, I), got "
                         f"{tuple(x.shape)} and {tuple(W_xh.shape)}")
    h = x.new_zeros(x.shape[1], W_hh.shape[0]).requires_grad_()  # (B, H)
    states = [h]
    for x_t in x:  # (B, I)
        h = rnn_step(x_t, h, W_xh, W_hh)  # (B, H)
        h.retain_grad()
        states.append(h)
    (h @ u).sum().backward()
    return (torch.stack([s.detach() for s in states]),
            torch.stack([s.grad for s in states]))


def bptt_by_hand(states: torch.Tensor, W_hh: torch.Tensor,
                 grad_last: torch.Tensor) -> torch.Tensor:
    """Carry ``dL/dh_T`` back through time with the Jacobians of the steps.

    For ``h_t = tanh(a_t)`` with ``a_t = W_hh h_{t-1} + W_xh x_t``, the
    Jacobian is ``dh_t/dh_{t-1} = diag(1 - h_t**2) W_hh``, so
    ``dL/dh_{t-1} = W_hh^T (dL/dh_t * (1 - h_t**2))``. With states in rows,
    the transpose moves to the right: ``g @ W_hh``.

    Args:
        states: ``(T + 1, B, H)`` with ``states[0] = h_0``.
        W_hh: ``(H, H)``; grad_last: ``dL/dh_T``, ``(B, H)``.
    Returns:
        ``grads`` ``(T + 1, B, H)`` with ``grads[t] = dL/dh_t``.
    """
    grads = [grad_last]
    for h in states.flip(0)[:-1]:  # h_T, ..., h_1
        tanh_grad = 1 - h ** 2  # (B, H): tanh'(a_t), at most 1
        grads.append((grads[-1] * tanh_grad) @ W_hh)  # (B, H)
    return torch.stack(grads[::-1])


def grad_norms_through_time(sigmas: Sequence[float] = (0.5, 1.0, 1.5), *,
                            hidden_size: int = 32, num_steps: int = 50,
                            input_size: int = 4, input_scale: float = 0.1,
                            seed: int = 0) -> dict:
    """For recurrent weights whose singular values all equal ``sigma``, the
    norm of ``dL/dh_{T-k}`` for ``k = 0 .. num_steps`` steps back.

    Each ``sigma`` gets the same orthogonal direction, input weights, inputs
    (one sequence, entries ``input_scale`` times a standard normal) and ``u``.

    Returns:
        ``{sigma: [||dL/dh_T||, ||dL/dh_{T-1}||, ..., ||dL/dh_0||]}``.
    """
    out = {}
    for sigma in sigmas:
        g = torch.Generator().manual_seed(seed)
        W_hh = scaled_orthogonal(hidden_size, sigma, g)
        W_xh = torch.randn(hidden_size, input_size, generator=g, dtype=torch.float64)
        x = input_scale * torch.randn(num_steps, 1, input_size, generator=g,
                                      dtype=torch.float64)  # (T, B=1, I)
        u = torch.randn(hidden_size, generator=g, dtype=torch.float64)
        _, grads = hidden_state_grads(W_hh, W_xh / input_size ** 0.5, x, u)
        out[sigma] = grads.flip(0).norm(dim=(1, 2)).tolist()  # k = 0 .. T
    return out


def deep_net_grad_norms(activation: str, *, depth: int = 20, width: int = 64,
                        batch_size: int = 64, seed: int = 0) -> list[float]:
    """Gradient norm of each layer's weight matrix in a deep network.

    ``depth`` linear layers of ``width`` units, each followed by
    ``activation`` (``"sigmoid"`` or ``"relu"``) except the last, with He
    initialisation (normal, ``std = sqrt(2 / width)``) and zero biases; the
    loss is the mean squared error on random inputs and targets.

    Returns:
        ``[||dL/dW_1||, ..., ||dL/dW_depth||]`` (Frobenius norms, layer 1
        nearest the input).
    """
    acts = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}
    if activation not in acts:
        raise ValueError(f"activation must be 'sigmoid' or 'relu', got {activation!r}")
    check_positive_int("depth", depth)
    g = torch.Generator().manual_seed(seed)
    layers = []
    for _ in range(depth):
        linear = torch.nn.Linear(width, width)
        torch.nn.init.kaiming_normal_(linear.weight, nonlinearity="relu", generator=g)
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, acts[activation]()]
    net = torch.nn.Sequential(*layers[:-1])
    X = torch.randn(batch_size, width, generator=g)  # (B, width)
    y = torch.randn(batch_size, width, generator=g)
    torch.nn.functional.mse_loss(net(X), y).backward()
    return [m.weight.grad.norm().item() for m in net if isinstance(m, torch.nn.Linear)]


class LastStateModel(torch.nn.Module):
    """A recurrent network followed by a linear layer on its last hidden state.

    Args:
        rnn: maps ``X (B, T, I)`` to ``(output (B, T, H), state)``, such as
            :class:`introdl.rnn.RNN` or ``torch.nn.LSTM(..., batch_first=True)``.
        hidden_size: ``H``; out_features: size of the output (classes, or 1
            for a number).
        generator: draws the linear layer's initial weights, with PyTorch's
            distribution ``U(-1/sqrt(H), 1/sqrt(H))``.
    """

    def __init__(self, rnn: torch.nn.Module, hidden_size: int, out_features: int,
                 *, generator: torch.Generator | None = None):
        super().__init__()
        self.rnn = rnn
        self.head = torch.nn.Linear(hidden_size, out_features)
        bound = 1.0 / hidden_size ** 0.5
        with torch.no_grad():
            for p in self.head.parameters():
                p.uniform_(-bound, bound, generator=generator)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``X (B, T, I)`` -> ``(B, out_features)``."""
        output, _ = self.rnn(X)  # (B, T, H)
        return self.head(output[:, -1])  # (B, out_features)


def clipping_demo(max_norm: float = 1.0, *, delay: int = 20, hidden_size: int = 16,
                  sigma: float = 1.5, lr: float = 0.2, num_epochs: int = 8,
                  num_train: int = 256, seed: int = 0) -> dict[str, History]:
    """Train the same RNN twice with plain SGD, without and with clipping.

    Task: :func:`~introdl.tasks.first_value_recall` (mean squared error). The
    RNN starts with recurrent weights ``sigma`` times an orthogonal matrix, so
    that its gradients can explode. Both runs clip at some norm so that
    ``fit`` records the gradient norms: the first at ``math.inf``, which never
    changes a gradient, the second at ``max_norm``.

    Returns:
        ``{"no clipping": History, "clipped at <max_norm>": History}``.
    """
    train = first_value_recall(num_train, delay, seed=seed)
    val = first_value_recall(256, delay, seed=seed + 1)
    runs = {}
    settings = (("no clipping", math.inf), (f"clipped at {max_norm:g}", max_norm))
    for name, clip in settings:
        g = torch.Generator().manual_seed(seed)
        model = LastStateModel(RNN(2, hidden_size, generator=g), hidden_size, 1,
                               generator=g)
        with torch.no_grad():  # recurrent weights with all singular values sigma
            model.rnn.weight_hh_l0.copy_(scaled_orthogonal(hidden_size, sigma, g))
        with one_thread():
            runs[name] = fit(model, train, val, loss_fn=torch.nn.functional.mse_loss,
                             optimizer=torch.optim.SGD(model.parameters(), lr=lr),
                             num_epochs=num_epochs, batch_size=32, clip_norm=clip,
                             generator=g)
    return runs


def draw_bptt(num_steps: int = 4):
    """The unrolled RNN with the backward pass drawn in (the notes' missing
    "back_through_time" image): forward arrows black, the gradients dashed,
    flowing from each loss ``L_t`` into its state and back along the chain,
    each step multiplying by the Jacobian ``dh_t/dh_{t-1}``."""
    from introdl.figures import diagrams
    from introdl.figures.style import PALETTE

    check_positive_int("num_steps", num_steps)
    dx, back, T = 2.2, PALETTE[1], num_steps
    fig, ax = diagrams.new_diagram(6.4, 3.9, xlim=(-0.1, 1.5 + dx * T),
                                   ylim=(-1.4, 5.5))
    diagrams.node(ax, (0.6, 2.4), "$h_0$", kind="state")
    for t in range(1, T + 1):
        x = 0.6 + dx * t
        diagrams.node(ax, (x, 0.6), f"$x_{t}$", kind="input")
        diagrams.node(ax, (x, 2.4), f"$h_{t}$", kind="state")
        diagrams.node(ax, (x, 4.9), f"$L_{t}$", kind="op")
        diagrams.arrow(ax, (x, 0.6), (x, 2.4))
        diagrams.arrow(ax, (x - dx, 2.4), (x, 2.4))
        diagrams.arrow(ax, (x - 0.15, 2.4), (x - 0.15, 4.9), r_start=0.37, r_end=0.37)
        diagrams.arrow(ax, (x + 0.15, 4.9), (x + 0.15, 2.4), color=back,
                       linestyle="--", r_start=0.37, r_end=0.37)
        ax.text(x + 0.3, 3.65, rf"$\frac{{\partial L_{t}}}{{\partial h_{t}}}$",
                color=back, fontsize=12, ha="left", va="center")
        diagrams.arrow(ax, (x, 2.4), (x - dx, 2.4), color=back, linestyle="--",
                       rad=0.5)
        jacobian = rf"$\frac{{\partial h_{t}}}{{\partial h_{{{t - 1}}}}}$"
        ax.text(x - dx / 2, 3.25, jacobian, color=back, fontsize=12, ha="center",
                va="center")
    chain = r" \, ".join(rf"\frac{{\partial h_{t}}}{{\partial h_{{{t - 1}}}}}"
                          for t in range(T, 1, -1))
    ax.text(0.75 + dx * T / 2, -0.35,
            rf"$\frac{{\partial L_{T}}}{{\partial h_1}} = "
            rf"\frac{{\partial L_{T}}}{{\partial h_{T}}} \, {chain}$",
            ha="center", va="center", fontsize=13, color=back)
    diagrams.caption(ax, (0.75 + dx * T / 2, -1.15),
                     "solid: forward pass;  dashed: gradients flowing back in time")
    return fig


def plot_grad_norms_through_time(norms: dict, *, ax=None):
    """Log-scale curves of ``||dL/dh_{T-k}||`` against ``k``, one per sigma
    (the output of :func:`grad_norms_through_time`). Returns the Figure."""
    from introdl.figures.style import plot_curves

    curves = {rf"$\sigma = {s:g}$": v for s, v in norms.items()}
    return plot_curves(curves, ax=ax, logy=True, xlabel="steps back in time $k$",
                       ylabel=r"$\|\partial L / \partial h_{T-k}\|$")


def plot_layer_grad_norms(norms: dict, *, ax=None):
    """Log-scale gradient norm per layer, one curve per activation (the
    output of :func:`deep_net_grad_norms` by name). Returns the Figure."""
    from introdl.figures.style import plot_curves

    depth = len(next(iter(norms.values())))
    fig = plot_curves(norms, x=range(1, depth + 1), ax=ax, logy=True,
                      xlabel="layer (1 = nearest the input)",
                      ylabel=r"$\|\partial L / \partial W_\ell\|$")
    ax = ax or fig.axes[0]
    ax.xaxis.get_major_locator().set_params(integer=True)  # layers are whole numbers
    for line in ax.lines:
        line.set_marker("o")
        line.set_markersize(3)
    return fig


def plot_clipping(histories: dict, *, axes=None):
    """Two panels: training loss and the largest gradient norm (before
    clipping) per epoch, log scale, one curve per run. Non-finite values
    (a run that overflowed) are left out. Returns the Figure."""
    from introdl.figures.style import new_figure, plot_curves

    if axes is None:
        fig, axes = new_figure(ncols=2, height=2.9)
    finite = lambda v: [x if math.isfinite(x) else math.nan for x in v]  # noqa: E731
    plot_curves({k: finite(h.train_loss) for k, h in histories.items()}, ax=axes[0],
                logy=True, ylabel="training loss (MSE)")
    plot_curves({k: finite(h.grad_norm) for k, h in histories.items()}, ax=axes[1],
                logy=True, ylabel="largest gradient norm")
    return axes[0].figure
