"""Experiments of the chapter "Backpropagation through time": the gradient with
respect to an RNN's hidden state, by autograd and by hand, how its size changes
as it travels back through time (and through the layers of a deep network),
and a run that explodes without gradient clipping and learns with it."""

import math
from collections.abc import Sequence

import torch
from torch import nn

from introdl.checks import check_positive_int, check_tensor
from introdl.init import calculate_gain, kaiming_normal_
from introdl.rnn import RNN, LastStateModel, rnn_step, scaled_orthogonal
from introdl.tasks import first_value_recall
from introdl.training import History, fit, one_thread

__all__ = ["hidden_state_grads", "bptt_by_hand", "grad_norms_through_time",
           "deep_net_grad_norms", "clipping_demo"]


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
    Raises:
        ValueError: if the shapes do not fit together.
    """
    for name, t in (("W_hh", W_hh), ("W_xh", W_xh), ("x", x), ("u", u)):
        check_tensor(name, t, floating=True)
    H = W_hh.shape[0] if W_hh.ndim == 2 else -1
    if (x.ndim != 3 or x.shape[0] == 0 or W_hh.shape != (H, H)
            or W_xh.shape != (H, x.shape[-1]) or u.shape != (H,)):
        raise ValueError(f"x must be (T, B, I) with T >= 1, W_hh (H, H), W_xh (H, I) "
                         f"and u (H,), got {tuple(x.shape)}, {tuple(W_hh.shape)}, "
                         f"{tuple(W_xh.shape)} and {tuple(u.shape)}")
    h = x.new_zeros(x.shape[1], H).requires_grad_()  # (B, H)
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
                            seed: int = 0) -> dict[float, list[float]]:
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
    initialisation (:func:`introdl.init.kaiming_normal_`, normal with
    ``std = sqrt(2 / width)``) and zero biases; the
    loss is the mean squared error on random inputs and targets.

    Returns:
        ``[||dL/dW_1||, ..., ||dL/dW_depth||]`` (Frobenius norms, layer 1
        nearest the input).
    """
    acts = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
    if activation not in acts:
        raise ValueError(f"activation must be 'sigmoid' or 'relu', got {activation!r}")
    check_positive_int("depth", depth)
    g = torch.Generator().manual_seed(seed)
    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        kaiming_normal_(linear.weight, calculate_gain("relu"), generator=g)
        nn.init.zeros_(linear.bias)
        layers += [linear, acts[activation]()]
    net = nn.Sequential(*layers[:-1])
    X = torch.randn(batch_size, width, generator=g)  # (B, width)
    y = torch.randn(batch_size, width, generator=g)
    nn.functional.mse_loss(net(X), y).backward()
    return [m.weight.grad.norm().item() for m in net if isinstance(m, nn.Linear)]


def clipping_demo(max_norm: float = 1.0, *, delay: int = 20, hidden_size: int = 16,
                  sigma: float = 1.5, lr: float = 0.2, num_epochs: int = 8,
                  num_train: int = 256, seed: int = 0) -> dict[str, History]:
    """Train the same RNN twice with plain SGD on ``first_value_recall`` (mean
    squared error), without and with gradient clipping. The RNN starts with
    recurrent weights ``sigma`` times an orthogonal matrix, so that its
    gradients can explode. Both runs clip, so that ``fit`` records the gradient
    norms: the first at ``math.inf``, which never changes a gradient, the second
    at ``max_norm``. Returns ``{"no clipping": ..., "clipped at <max_norm>": ...}``.
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
            runs[name] = fit(model, train, val, loss_fn=nn.functional.mse_loss,
                             optimizer=torch.optim.SGD(model.parameters(), lr=lr),
                             num_epochs=num_epochs, batch_size=32, clip_norm=clip,
                             generator=g)
    return runs
