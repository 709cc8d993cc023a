"""Backpropagation from scratch: a scalar automatic-differentiation engine.

* :class:`Value` is a scalar that remembers how it was computed. Every
  operation computes its result and, right beside it, the local derivative of
  the result with respect to each input; :meth:`Value.backward` multiplies these
  local derivatives along the computational graph (the chain rule).
* Small networks of Values, initialised from ``torch.nn.Linear`` layers so the
  two can be compared, and plain gradient descent with them
  (:func:`train_values`).
* :func:`two_layer_backprop`, backpropagation derived by hand for a two-layer
  network in matrix form, and :func:`numerical_gradient`, the finite-difference
  check for any of them.
"""

import math
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from introdl.checks import check_ndim, check_number, check_positive_int, check_tensor

__all__ = ["Value", "zero_grad", "values_from_linear", "layer_tensors", "mlp",
           "mlp_torch", "parameters", "bce_with_logits", "train_values",
           "two_layer_backprop", "numerical_gradient"]

_ACTIVATIONS = ("tanh", "relu", "sigmoid")


class Value:
    """A scalar that remembers how it was computed.

    ``data`` is the number, ``grad`` is ``dL/d(self)`` after ``L.backward()``,
    ``parents`` are the Values it was computed from and ``local_grads`` the
    derivatives ``d(self)/d(parent)``, in the same order; ``op`` and ``label``
    name it in diagrams. ``+ - * /`` take a Value or a number on either side,
    ``**`` a number exponent. Arithmetic is Python's: where PyTorch gives inf or
    NaN, dividing by zero raises ``ZeroDivisionError`` and ``log`` of anything
    but a positive number raises ``ValueError``.
    """

    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")

    def __init__(self, data: float, parents: tuple = (), local_grads: tuple = (),
                 op: str = "", label: str = ""):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise TypeError(f"data must be a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0  # dL/d(this value), filled in by backward()
        self.parents = tuple(parents)  # the Values this one was computed from
        self.local_grads = tuple(local_grads)  # d(this)/d(parent), one per parent
        if len(self.parents) != len(self.local_grads):
            raise ValueError("a Value needs one local gradient per parent")
        self.op, self.label = op, label  # for drawing the graph

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # -- two inputs: the result, and d(result)/d(each input) beside it --
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other),
                     (other.data, self.data), "*")  # d(ab)/da = b, d(ab)/db = a

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        q = self.data / other.data
        return Value(q, (self, other), (1.0 / other.data, -q / other.data), "/")

    def __pow__(self, k):
        k = check_number("exponent", k)  # a number, not a Value
        out = self.data ** k
        if isinstance(out, complex):
            raise ValueError(f"{self.data} ** {k} is not a real number")
        if self.data == 0 and 0 < k < 1:
            local = math.inf  # like sqrt at 0: an infinite slope, as in PyTorch
        else:
            local = k * self.data ** (k - 1) if k else 0.0  # (x^k)' = k x^(k-1)
        return Value(out, (self,), (local,), f"**{k:g}")

    # -- the same with a number on the left: 2 + v, 2 - v, 2 * v, 2 / v --
    def __radd__(self, other):
        return Value(other) + self

    def __rsub__(self, other):
        return Value(other) - self

    def __rmul__(self, other):
        return Value(other) * self

    def __rtruediv__(self, other):
        return Value(other) / self

    # -- one input: the result, and its derivative beside it --
    def __neg__(self):
        return Value(-self.data, (self,), (-1.0,), "neg")

    def exp(self):
        try:
            e = math.exp(self.data)
        except OverflowError:  # beyond the largest float, as torch.exp gives inf
            e = math.inf
        return Value(e, (self,), (e,), "exp")  # (e^x)' = e^x

    def log(self):
        x = check_number("log's input", self.data, low=0, low_open=True)
        return Value(math.log(x), (self,), (1.0 / x,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")  # tanh' = 1 - tanh^2

    def relu(self):
        off = self.data <= 0  # NaN is not off, as in torch.relu
        out, local = (0.0, 0.0) if off else (self.data, 1.0)
        return Value(out, (self,), (local,), "relu")

    def sigmoid(self):
        e = math.exp(-abs(self.data))  # never overflows
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")  # s' = s (1 - s)

    # -- the backward pass --
    def topological_order(self) -> list["Value"]:
        """Every Value this one depends on, each after all of its parents."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # depth-first, without recursion (graphs can be deep)
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents if id(p) not in seen)
        return order

    def backward(self) -> None:
        """Set ``v.grad = d(self)/dv`` for every Value ``v`` this one depends on.

        The chain rule, from ``self`` back to the inputs: each node adds
        ``local_grad * node.grad`` to each parent's ``grad``, so a Value used
        twice collects both contributions. Inputs (Values without parents)
        accumulate across calls, as in PyTorch: reset them between steps.
        """
        order = self.topological_order()
        for node in order:
            if node.parents:
                node.grad = 0.0  # intermediate results start afresh
        self.grad += 1.0  # dL/dL = 1
        for node in reversed(order):  # outputs first, inputs last
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad  # the chain rule


def _values(name: str, items: Iterable[Value]) -> list[Value]:
    """``items`` as a list, checked to hold Values only."""
    if isinstance(items, Value):
        raise TypeError(f"{name} must be an iterable of Values, got one Value")
    items = list(items)
    bad = [type(v).__name__ for v in items if not isinstance(v, Value)]
    if bad:
        raise TypeError(f"{name} must hold Values only, got a {bad[0]}")
    return items


def zero_grad(params: Iterable[Value]) -> None:
    """Reset the gradients of ``params`` (any iterable of Values) to 0."""
    for p in _values("params", params):
        p.grad = 0.0


def train_values(params: Iterable[Value], loss_fn: Callable[[], Value], lr: float,
                 num_steps: int) -> list[float]:
    """Gradient descent with the Value engine.

    Each step builds the loss with ``loss_fn()``, resets the gradients, runs
    ``backward()`` and moves each parameter against its gradient. Returns the
    loss before each step; stops early if the loss is not finite.
    """
    check_number("lr", lr, low=0)
    check_positive_int("num_steps", num_steps)
    params = list(params)  # a generator would be used up after the first step
    if not params or not all(isinstance(p, Value) for p in params):
        raise TypeError(f"params must be a non-empty iterable of Values, got "
                        f"{len(params)} items, such as {params[:1]}")
    losses = []
    for _ in range(num_steps):
        loss = loss_fn()
        if not isinstance(loss, Value):
            raise TypeError(f"loss_fn must return a Value, got {type(loss).__name__}")
        losses.append(loss.data)
        if not math.isfinite(loss.data):
            break  # diverged: more steps cannot help
        for p in params:
            p.grad = 0.0  # backward() adds to the gradients: start from 0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad  # the step: against the gradient
    return losses


# --- small networks made of Values ---------------------------------------------

def values_from_linear(linear: nn.Linear):
    """Copy a ``torch.nn.Linear`` layer (with a bias) into Values.

    Returns:
        ``(W, b)``: ``W`` a list of ``out_features`` rows of ``in_features``
        Values (PyTorch's ``(out, in)`` layout) and ``b`` a list of
        ``out_features`` Values.
    """
    if not isinstance(linear, nn.Linear) or linear.bias is None:
        raise TypeError(f"linear must be a torch.nn.Linear with a bias, got {linear!r}")
    W = [[Value(w) for w in row] for row in linear.weight.detach().tolist()]
    b = [Value(v) for v in linear.bias.detach().tolist()]
    return W, b


def _check_layers(layers) -> list:
    """``layers`` as a list of ``(W, b)`` whose shapes chain."""
    layers = list(layers)
    if not layers:
        raise ValueError("layers must hold at least one (W, b) layer, got none")
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) != 2:
            raise TypeError(f"layers[{i}] must be a pair (W, b), got {layer!r:.60}")
        W, b = layer
        _values(f"layers[{i}] biases", b)
        for row in W:
            _values(f"layers[{i}] weights", row)
        if len(W) != len(b) or not W or len({len(row) for row in W}) != 1:
            raise ValueError(f"layers[{i}] must hold (out, in) weights and (out,) "
                             f"biases, got {len(W)} rows and {len(b)} biases")
        if i and len(W[0]) != len(layers[i - 1][0]):
            raise ValueError(f"layers[{i}] expects {len(W[0])} inputs, but layer "
                             f"{i - 1} has {len(layers[i - 1][0])} outputs")
    return layers


def mlp(x: Iterable, layers, activation: str = "tanh") -> list[Value]:
    """Forward pass of a network of Values: ``activation`` after every layer
    but the last, which returns raw scores (logits).

    Args:
        x: one input, numbers or Values, ``in_features`` of them.
        layers: list of ``(W, b)`` as :func:`values_from_linear` returns.
        activation: ``"tanh"``, ``"relu"`` or ``"sigmoid"``.
    Returns:
        The outputs of the last layer, a list of Values.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {_ACTIVATIONS}, "
                         f"got {activation!r}")
    layers = _check_layers(layers)
    h = [v if isinstance(v, Value) else Value(v) for v in x]
    if len(layers[0][0][0]) != len(h):
        raise ValueError(f"layer 0 expects {len(layers[0][0][0])} inputs, got {len(h)}")
    for i, (W, b) in enumerate(layers):
        z = [sum((w * v for w, v in zip(row, h)), bias) for row, bias in zip(W, b)]
        h = z if i == len(layers) - 1 else [getattr(v, activation)() for v in z]
    return h


def layer_tensors(layer, attr: str = "data") -> tuple[torch.Tensor, torch.Tensor]:
    """A layer ``(W, b)`` of Values as float64 tensors ``(out, in)`` and
    ``(out,)``, holding each Value's ``data`` (or ``grad`` with ``attr="grad"``)."""
    if attr not in ("data", "grad"):
        raise ValueError(f"attr must be 'data' or 'grad', got {attr!r}")
    W, b = _check_layers([layer])[0]
    weight = torch.tensor([[getattr(v, attr) for v in row] for row in W],
                          dtype=torch.float64)
    return weight, torch.tensor([getattr(v, attr) for v in b], dtype=torch.float64)


def mlp_torch(X: torch.Tensor, layers, activation: str = "tanh") -> torch.Tensor:
    """The network of :func:`mlp` evaluated with PyTorch on a batch.

    Args:
        X: inputs ``(n, in_features)``.
        layers: list of ``(W, b)`` of Values; their current ``data`` is used.
    Returns:
        Outputs ``(n, out_features)`` in float64, on ``X``'s device.
    """
    check_ndim("X", check_tensor("X", X, floating=True), (2,))
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {_ACTIVATIONS}, "
                         f"got {activation!r}")
    layers = _check_layers(layers)
    if X.shape[1] != len(layers[0][0][0]):
        raise ValueError(f"X must have {len(layers[0][0][0])} features, got shape "
                         f"{tuple(X.shape)}")
    h = X.to(torch.float64)  # (n, d)
    for i, layer in enumerate(layers):
        W, b = (t.to(X.device) for t in layer_tensors(layer))
        h = h @ W.T + b  # (n, out)
        if i < len(layers) - 1:
            h = getattr(torch, activation)(h)
    return h


def parameters(layers) -> list[Value]:
    """All weights and biases of ``layers``, row by row."""
    return [v for W, b in _check_layers(layers) for row in [*W, b] for v in row]


def bce_with_logits(z: Value, y: float) -> Value:
    """Binary cross-entropy of a logit ``z`` for a label ``y`` in ``[0, 1]``.

    ``-(y log s + (1 - y) log(1 - s))`` with ``s = sigmoid(z)`` equals
    ``log(1 + exp(z)) - y z``. The first term is computed as
    ``z + log(1 + exp(-z))`` for ``z >= 0``, so that ``exp`` never overflows.
    Only Value operations are used, so the loss differentiates itself.
    """
    if not isinstance(z, Value):
        raise TypeError(f"z must be a Value, got {type(z).__name__}")
    y = check_number("y", y, low=0, high=1)
    if z.data >= 0:
        softplus = z + (1 + (-z).exp()).log()
    else:
        softplus = (1 + z.exp()).log()
    return softplus - z * y


# --- backpropagation by hand, in matrix form -------------------------------------

def two_layer_backprop(X: torch.Tensor, y: torch.Tensor, W1: torch.Tensor,
                       b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor):
    """Loss and gradients of ``softmax(tanh(X W1^T + b1) W2^T + b2)`` with mean
    cross-entropy, derived by hand.

    Shapes as in ``nn.Linear``: ``W1`` ``(H, d)``, ``b1`` ``(H,)``, ``W2``
    ``(C, H)``, ``b2`` ``(C,)``; ``X`` ``(n, d)``; ``y`` ``(n,)`` int64 classes.
    Returns the loss (0-d) and a dict of the gradients ``"W1", "b1", "W2",
    "b2"``. Raises ``ValueError`` if shapes or dtypes do not fit.
    """
    for name, t in (("X", X), ("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        check_tensor(name, t, floating=True)
    check_ndim("X", X, (2,))
    (n, d), H, C = X.shape, b1.numel(), b2.numel()
    shapes = [tuple(t.shape) for t in (W1, b1, W2, b2, check_tensor("y", y))]
    dtypes = {t.dtype for t in (X, W1, b1, W2, b2)}
    if shapes != [(H, d), (H,), (C, H), (C,), (n,)] or len(dtypes) > 1 or (
            y.dtype != torch.int64 or ((y < 0) | (y >= C)).any()):
        raise ValueError(f"shapes do not fit: X {tuple(X.shape)}, then W1, b1, W2, "
                         f"b2, y {shapes}; need one float dtype (got {dtypes}) and "
                         f"int64 classes below {C} in y")
    # forward pass
    Z1 = X @ W1.T + b1  # (n, H)
    A1 = torch.tanh(Z1)  # (n, H)
    Z2 = A1 @ W2.T + b2  # (n, C)
    P = torch.softmax(Z2, dim=1)  # (n, C)
    Y = F.one_hot(y, C).to(X.dtype)  # (n, C)
    loss = -(Y * torch.log_softmax(Z2, dim=1)).sum() / n
    # backward pass: the same steps in reverse, each through its local derivative
    dZ2 = (P - Y) / n  # (n, C)  softmax and cross-entropy together
    dW2 = dZ2.T @ A1  # (C, H)  from Z2 = A1 W2^T + b2
    db2 = dZ2.sum(0)  # (C,)
    dA1 = dZ2 @ W2  # (n, H)
    dZ1 = dA1 * (1 - A1 ** 2)  # (n, H)  from A1 = tanh(Z1), tanh' = 1 - tanh^2
    dW1 = dZ1.T @ X  # (H, d)  from Z1 = X W1^T + b1
    db1 = dZ1.sum(0)  # (H,)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def numerical_gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                       h: float = 1e-6) -> torch.Tensor:
    """Central finite differences, ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for
    every entry ``i`` of ``x`` (any shape; not modified).

    ``f`` maps a tensor shaped like ``x`` to a number or a one-element tensor.
    Two evaluations of ``f`` per entry: a check, not a way to train. Use
    float64: the error is about ``h**2`` plus ``eps / h`` from rounding.
    """
    check_tensor("x", x, floating=True)
    check_number("h", h, low=0, low_open=True)
    y = f(x)
    if not (isinstance(y, (int, float)) or torch.is_tensor(y) and y.numel() == 1):
        raise ValueError(f"f must return a number or a one-element tensor, got {y}")
    x = x.detach().contiguous().clone()  # our own copy, to nudge entry by entry
    grad = torch.zeros_like(x)
    flat, flat_grad = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        up = float(f(x))
        flat[i] = old - h
        down = float(f(x))
        flat[i] = old
        flat_grad[i] = (up - down) / (2 * h)
    return grad
