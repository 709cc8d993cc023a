"""Gradient-descent optimizers written from scratch (chapter "Learning rates and
adaptive methods").

:class:`SGD` (with optional momentum), :class:`RMSprop` and :class:`Adam` take
the same arguments as the ``torch.optim`` classes of the same name (without
weight decay and the rarer options) and apply the same update rule, so a
model trained with either follows the same trajectory. Each works on whole
tensors at once: no Python loop runs over the entries of a parameter.

Misuse is refused as ``torch.optim`` refuses it (:func:`check_params`), with one
difference: a tensor listed twice is an error here, where ``torch.optim`` only
warns (and then steps it twice).
"""

from collections.abc import Callable, Iterable

import torch

from introdl.checks import check_number, check_positive_int, check_tensor

__all__ = ["check_params", "Optimizer", "SGD", "RMSprop", "Adam", "optimize"]


def check_params(name: str, params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    """Return ``params`` as a list of distinct floating-point leaf tensors.

    Raises ``TypeError`` for a single tensor (iterating it would give its rows)
    or an entry that is not a floating-point tensor, and ``ValueError`` for no
    tensors at all (e.g. a generator already used up), a computed (non-leaf)
    tensor or a tensor listed twice.
    """
    if isinstance(params, torch.Tensor) or not isinstance(params, Iterable):
        raise TypeError(f"{name} must be an iterable of tensors, got "
                        f"{type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError(f"{name} must hold at least one tensor, got none "
                         "(a generator such as model.parameters() used up?)")
    for i, p in enumerate(params):
        check_tensor(f"{name}[{i}]", p, floating=True)
        if not (p.is_leaf or p.retains_grad):
            raise ValueError(f"{name}[{i}] must be a leaf tensor, got a computed one")
    if len(set(params)) < len(params):
        raise ValueError(f"{name} must not list a tensor twice")
    return params


class Optimizer:
    """What every optimizer shares: the parameters, their state, ``zero_grad``
    and ``step``. A subclass implements ``_update(p, grad, state)`` for one
    tensor; ``state`` is a dict kept per tensor between steps.

    Raises ``TypeError``/``ValueError`` for bad ``params`` (:func:`check_params`)
    or a negative ``lr``.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float):
        self.params = check_params("params", params)
        self.lr = check_number("lr", lr, low=0)
        self.state = [{} for _ in self.params]  # one dict per tensor

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

    def _update(self, p: torch.Tensor, grad: torch.Tensor, state: dict) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent with optional momentum, as ``torch.optim.SGD``:
    ``v <- momentum * v + grad`` (``v = grad`` at the first step), then
    ``p <- p - lr * v``."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float,
                 momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = check_number("momentum", momentum, low=0)

    def _update(self, p: torch.Tensor, grad: torch.Tensor, state: dict) -> None:
        if self.momentum:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = grad.clone()  # v_1 = g_1
            else:
                v.mul_(self.momentum).add_(grad)  # v_t = mu v_{t-1} + g_t
            grad = v
        p.add_(grad, alpha=-self.lr)  # p_t = p_{t-1} - lr v_t


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``: ``s <- alpha s + (1 - alpha) grad^2``
    (``s`` starts at 0), then ``p <- p - lr grad / (sqrt(s) + eps)``."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 0.01,
                 alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(params, lr)
        self.alpha = check_number("alpha", alpha, low=0, high=1, high_open=True)
        self.eps = check_number("eps", eps, low=0)

    def _update(self, p: torch.Tensor, grad: torch.Tensor, state: dict) -> None:
        if "square_avg" not in state:
            state["square_avg"] = torch.zeros_like(p)
        s = state["square_avg"]
        s.mul_(self.alpha).addcmul_(grad, grad, value=1 - self.alpha)  # s
        p.addcdiv_(grad, s.sqrt().add_(self.eps), value=-self.lr)  # p


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``: moving averages ``m`` of the gradient and
    ``v`` of its square, bias-corrected by ``1 - beta**t`` at step ``t``, and
    ``p <- p - lr m_hat / (sqrt(v_hat) + eps)``."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (check_number("betas[0]", betas[0], low=0, high=1, high_open=True),
                      check_number("betas[1]", betas[1], low=0, high=1, high_open=True))
        self.eps = check_number("eps", eps, low=0)

    def _update(self, p: torch.Tensor, grad: torch.Tensor, state: dict) -> None:
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
             optimizer: Callable[..., Optimizer], num_steps: int, **hyper):
    """Minimise ``f`` from ``w0`` with an optimizer class; record the path.

    Args:
        f: maps a tensor of ``w0``'s shape to a one-element loss tensor.
        w0: starting point (not modified).
        optimizer: a class such as :class:`Adam` or ``torch.optim.Adam``,
            called as ``optimizer([w], **hyper)``.
        num_steps: number of updates.
    Returns:
        ``(path, losses)``: ``(T + 1, *w0.shape)`` iterates and ``(T + 1,)``
        losses; the run stops early (``T < num_steps``) once the loss is no
        longer finite. With :class:`SGD` this is the same loop as
        :func:`introdl.landscape.gradient_descent`.
    Raises:
        ValueError: if ``f`` does not return a single number.
    """
    check_tensor("w0", w0, floating=True)
    check_positive_int("num_steps", num_steps)
    w = w0.detach().clone().requires_grad_(True)
    opt = optimizer([w], **hyper)
    path, losses = [], []
    for step in range(num_steps + 1):
        opt.zero_grad()
        loss = f(w)
        if not (isinstance(loss, torch.Tensor) and loss.numel() == 1):
            raise ValueError(f"f must return a one-element tensor, got "
                             f"{getattr(loss, 'shape', type(loss).__name__)}")
        path.append(w.detach().clone())
        losses.append(loss.item())
        if step == num_steps or not torch.isfinite(loss):
            break
        loss.backward()
        opt.step()
    return torch.stack(path), torch.tensor(losses, dtype=w0.dtype, device=w0.device)
