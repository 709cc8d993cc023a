"""Gradient-descent optimizers written from scratch (chapter "Learning rates and
adaptive methods").

:class:`SGD` (with optional momentum), :class:`RMSprop` and :class:`Adam` take
the same arguments as the ``torch.optim`` classes of the same name (without
weight decay and the rarer options) and apply the same update rule, so a
model trained with either follows the same trajectory. Each works on whole
tensors at once: no Python loop runs over the entries of a parameter.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch

from introdl.checks import check_number, check_positive_int, check_tensor

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "optimize", "parameter_trajectory",
           "sweep_learning_rates"]


class Optimizer:
    """What every optimizer shares: the parameters, their state, ``zero_grad``.

    Subclasses implement ``_update(p, grad, state)`` for one parameter tensor;
    ``state`` is a dict kept per parameter between steps (moving averages).

    Args:
        params: the tensors to optimise (e.g. ``model.parameters()``).
        lr: the learning rate, ``>= 0``.
    Raises:
        ValueError: if ``params`` is empty or ``lr`` is negative.
        TypeError: if a parameter is not a floating-point tensor.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("params must contain at least one tensor, got none")
        for i, p in enumerate(self.params):
            check_tensor(f"params[{i}]", p, floating=True)
        self.lr = check_number("lr", lr, low=0)
        self.state = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget the gradients (set them to ``None``, as ``torch.optim`` does)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p, p.grad, state)

    def _update(self, p, grad, state):  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """(Stochastic) gradient descent with optional heavy-ball momentum.

    ``v <- momentum * v + grad`` (``v = grad`` on the first step), then
    ``p <- p - lr * v``; with ``momentum=0`` simply ``p <- p - lr * grad``.
    The same rule as ``torch.optim.SGD(params, lr, momentum)``.

    Raises:
        ValueError: for a negative ``lr`` or ``momentum``.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = check_number("momentum", momentum, low=0)

    def _update(self, p, grad, state):
        if self.momentum:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = grad.clone()  # v_1 = g_1
            else:
                v.mul_(self.momentum).add_(grad)  # v_t = mu v_{t-1} + g_t
            grad = v
        p.add_(grad, alpha=-self.lr)  # p_t = p_{t-1} - lr v_t


class RMSprop(Optimizer):
    """RMSprop: divide each step by a running root-mean-square of the gradient.

    ``s <- alpha * s + (1 - alpha) * grad**2`` (``s`` starts at 0), then
    ``p <- p - lr * grad / (sqrt(s) + eps)``, as ``torch.optim.RMSprop``.

    Raises:
        ValueError: for a negative ``lr`` or ``eps``, or ``alpha`` outside
            ``[0, 1)``.
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8):
        super().__init__(params, lr)
        self.alpha = check_number("alpha", alpha, low=0, high=1, high_open=True)
        self.eps = check_number("eps", eps, low=0)

    def _update(self, p, grad, state):
        if "square_avg" not in state:
            state["square_avg"] = torch.zeros_like(p)
        s = state["square_avg"]
        s.mul_(self.alpha).addcmul_(grad, grad, value=1 - self.alpha)  # s
        p.addcdiv_(grad, s.sqrt().add_(self.eps), value=-self.lr)  # p


class Adam(Optimizer):
    """Adam: momentum and RMSprop combined, with bias correction.

    With step count ``t``: ``m <- b1 m + (1 - b1) grad``,
    ``v <- b2 v + (1 - b2) grad**2``, ``m_hat = m / (1 - b1**t)``,
    ``v_hat = v / (1 - b2**t)`` and ``p <- p - lr * m_hat / (sqrt(v_hat) + eps)``,
    computed in the order ``torch.optim.Adam`` uses.

    Raises:
        ValueError: for a negative ``lr`` or ``eps``, or a beta outside ``[0, 1)``.
    """

    def __init__(self, params, lr: float = 0.001, betas=(0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(params, lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (check_number("betas[0]", betas[0], low=0, high=1, high_open=True),
                      check_number("betas[1]", betas[1], low=0, high=1, high_open=True))
        self.eps = check_number("eps", eps, low=0)

    def _update(self, p, grad, state):
        b1, b2 = self.betas
        if not state:
            state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m.lerp_(grad, 1 - b1)  # m = b1 m + (1 - b1) g
        v.mul_(b2).addcmul_(grad, grad, value=1 - b2)  # v = b2 v + (1 - b2) g^2
        correction1, correction2 = 1 - b1 ** t, 1 - b2 ** t
        denom = (v.sqrt() / correction2 ** 0.5).add_(self.eps)  # sqrt(v_hat) + eps
        p.addcdiv_(m, denom, value=-self.lr / correction1)  # lr m_hat / denom


def optimize(f: Callable[[torch.Tensor], torch.Tensor], w0: torch.Tensor,
             optimizer: Callable[..., object], num_steps: int, **hyper):
    """Minimise ``f`` from ``w0`` with an optimizer class; record the path.

    Args:
        f: maps a tensor of ``w0``'s shape to a scalar loss.
        w0: starting point (not modified).
        optimizer: a class such as :class:`Adam` or ``torch.optim.Adam``,
            called as ``optimizer([w], **hyper)``.
        num_steps: number of updates.
    Returns:
        ``(path, losses)``: ``(T + 1, *w0.shape)`` iterates and ``(T + 1,)``
        losses; the run stops early (``T < num_steps``) once the loss is no
        longer finite.
    """
    check_tensor("w0", w0, floating=True)
    check_positive_int("num_steps", num_steps)
    w = w0.detach().clone().requires_grad_(True)
    opt = optimizer([w], **hyper)
    path, losses = [], []
    for step in range(num_steps + 1):
        opt.zero_grad()
        loss = f(w)
        path.append(w.detach().clone())
        losses.append(loss.item())
        if step == num_steps or not torch.isfinite(loss):
            break
        loss.backward()
        opt.step()
    return torch.stack(path), torch.tensor(losses, dtype=w0.dtype)


def parameter_trajectory(model: torch.nn.Module, optimizer, loss_fn: Callable,
                         X: torch.Tensor, y: torch.Tensor,
                         num_steps: int) -> torch.Tensor:
    """Full-batch training steps on ``(X, y)``, recording every parameter.

    Args:
        model: trained in place.
        optimizer: an optimizer over ``model.parameters()`` (ours or
            ``torch.optim``'s).
    Returns:
        ``(num_steps + 1, P)``: all ``P`` parameters, flattened, before the
        first step and after each step.
    """
    check_positive_int("num_steps", num_steps)
    flat = [torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()]
    for _ in range(num_steps):
        optimizer.zero_grad()
        loss_fn(model(X), y).backward()
        optimizer.step()
        flat.append(torch.nn.utils.parameters_to_vector(model.parameters()).detach())
    return torch.stack(flat)


def sweep_learning_rates(make_model: Callable[[], torch.nn.Module], train_data,
                         val_data, optimizer, lrs, *, num_epochs: int,
                         batch_size: int, seed: int = 0, **hyper) -> dict:
    """Train a fresh model with each learning rate in ``lrs``.

    Every run starts from ``make_model()`` and shuffles its mini-batches with
    the same ``seed``, so only the learning rate differs. Training uses the
    book's loop :func:`introdl.training.fit`.

    Args:
        optimizer: a class such as :class:`Adam`, called as
            ``optimizer(params, lr=lr, **hyper)``.
    Returns:
        ``{lr: History}`` in the order of ``lrs``.
    """
    from introdl.training import fit

    histories = {}
    for lr in lrs:
        model = make_model()
        histories[lr] = fit(model, train_data, val_data,
                            loss_fn=torch.nn.functional.cross_entropy,
                            optimizer=optimizer(model.parameters(), lr=lr, **hyper),
                            num_epochs=num_epochs, batch_size=batch_size,
                            generator=torch.Generator().manual_seed(seed))
    return histories
