"""Backpropagation from scratch (chapter "Backpropagation").

Three pieces:

* :class:`Value`, a scalar automatic-differentiation engine. Every operation
  computes its result and, right beside it, the local derivative of the result
  with respect to each input; :meth:`Value.backward` multiplies these local
  derivatives along the computational graph (the chain rule).
* Helpers that build small networks out of ``Value`` objects, initialised
  from ``torch.nn.Linear`` layers so the two can be compared.
* :func:`two_layer_backprop`, backpropagation derived by hand for a two-layer
  network in matrix form, and :func:`numerical_gradient`, the finite-difference
  check for any of them.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Sequence

import torch

from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.figures.style import PALETTE

__all__ = ["Value", "zero_grad", "values_from_linear", "layer_tensors", "mlp",
           "mlp_torch", "parameters", "bce_with_logits", "train_values", "neuron_graph",
           "draw_graph", "two_layer_backprop", "numerical_gradient",
           "finite_difference_errors", "plot_finite_difference_errors"]


def _as_value(x) -> "Value":
    return x if isinstance(x, Value) else Value(x)


def _power_grad(x: float, k: float) -> float:
    """d(x**k)/dx; infinite at x == 0 for 0 < k < 1, as in PyTorch."""
    if k == 0:
        return 0.0
    if x == 0 and k < 1:
        return math.copysign(math.inf, k)
    return k * x ** (k - 1)


class Value:
    """A scalar that remembers how it was computed.

    Attributes:
        data: the number (a Python float).
        grad: after ``backward()`` on some output ``L``, ``dL/d(self)``.
        parents: the Values this one was computed from (empty for inputs).
        local_grads: ``d(self)/d(parent)`` for each parent, in the same order,
            computed during the forward pass.
        op, label: the operation that made it and an optional name (for
            diagrams).

    Operators ``+ - * /`` and unary ``-`` accept a Value or a Python number on
    either side; ``**`` takes a number exponent.

    Raises:
        TypeError: if ``data`` is not a real number.
    """

    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")

    def __init__(self, data, parents: tuple = (), local_grads: tuple = (),
                 op: str = "", label: str = ""):
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"data must be a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local_grads = tuple(local_grads)
        self.op, self.label = op, label

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # -- binary operations: the result, and d(result)/d(each input) beside it --
    def __add__(self, other):
        other = _as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other):
        other = _as_value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other):
        other = _as_value(other)
        return Value(self.data * other.data, (self, other),
                     (other.data, self.data), "*")

    def __truediv__(self, other):
        other = _as_value(other)
        q = self.data / other.data
        return Value(q, (self, other), (1.0 / other.data, -q / other.data), "/")

    def __pow__(self, k):
        if isinstance(k, Value):
            raise TypeError("the exponent of ** must be a number, got a Value")
        k = check_number("exponent", k)
        out = self.data ** k
        if isinstance(out, complex):
            raise ValueError(f"{self.data} ** {k} is not a real number")
        return Value(out, (self,), (_power_grad(self.data, k),), f"**{k:g}")

    # -- the same with a number on the left: 2 + v, 2 - v, 2 * v, 2 / v --
    def __radd__(self, other):
        return _as_value(other) + self

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rmul__(self, other):
        return _as_value(other) * self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    # -- functions of one input: the result, and its derivative beside it --
    def __neg__(self):
        return Value(-self.data, (self,), (-1.0,), "neg")

    def exp(self):
        try:
            e = math.exp(self.data)
        except OverflowError:  # beyond the largest float, as torch.exp gives inf
            e = math.inf
        return Value(e, (self,), (e,), "exp")  # (e^x)' = e^x

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, got {self.data}")
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")  # tanh' = 1 - tanh^2

    def relu(self):
        on = self.data > 0
        return Value(self.data if on else 0.0, (self,), (1.0 if on else 0.0,), "relu")

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

        Walks the graph from ``self`` back to the inputs; at each node the
        chain rule adds ``local_grad * node.grad`` to each parent's ``grad``, so
        a Value used several times collects the sum over all its uses. Inputs
        (Values without parents) accumulate across calls, as in PyTorch: reset
        them with :func:`zero_grad` between training steps.
        """
        order = self.topological_order()
        for node in order:
            if node.parents:
                node.grad = 0.0  # intermediate results start afresh
        self.grad += 1.0  # dL/dL = 1
        for node in reversed(order):  # outputs first, inputs last
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad  # the chain rule


def zero_grad(params: Sequence[Value]) -> None:
    """Reset the gradients of ``params`` to 0."""
    for p in params:
        p.grad = 0.0


# --- small networks made of Values ---------------------------------------------

def values_from_linear(linear: torch.nn.Linear):
    """Copy a ``torch.nn.Linear`` layer into Values.

    Returns:
        ``(W, b)``: ``W`` a list of ``out_features`` rows of ``in_features``
        Values (PyTorch's ``(out, in)`` layout) and ``b`` a list of
        ``out_features`` Values.
    """
    W = [[Value(w) for w in row] for row in linear.weight.detach().tolist()]
    b = [Value(v) for v in linear.bias.detach().tolist()]
    return W, b


def mlp(x: Sequence, layers, activation: str = "tanh") -> list[Value]:
    """Forward pass of a network of Values: ``activation`` after every layer
    but the last, which returns raw scores (logits).

    Args:
        x: one input, a sequence of numbers or Values of length ``in_features``.
        layers: list of ``(W, b)`` as :func:`values_from_linear` returns.
        activation: ``"tanh"``, ``"relu"`` or ``"sigmoid"``.
    Returns:
        The outputs of the last layer, a list of Values.
    """
    if activation not in ("tanh", "relu", "sigmoid"):
        raise ValueError(f"activation must be 'tanh', 'relu' or 'sigmoid', got "
                         f"{activation!r}")
    h = list(x)
    for i, (W, b) in enumerate(layers):
        if len(W[0]) != len(h):
            raise ValueError(f"layer {i} expects {len(W[0])} inputs, got {len(h)}")
        z = [sum((w * v for w, v in zip(row, h)), bias) for row, bias in zip(W, b)]
        h = z if i == len(layers) - 1 else [getattr(v, activation)() for v in z]
    return h


def layer_tensors(layer, attr: str = "data"):
    """A layer ``(W, b)`` of Values as float64 tensors ``(out, in)`` and
    ``(out,)``, holding each Value's ``data`` (or ``grad`` with ``attr="grad"``)."""
    if attr not in ("data", "grad"):
        raise ValueError(f"attr must be 'data' or 'grad', got {attr!r}")
    W, b = layer
    weight = torch.tensor([[getattr(v, attr) for v in row] for row in W],
                          dtype=torch.float64)
    return weight, torch.tensor([getattr(v, attr) for v in b], dtype=torch.float64)


def mlp_torch(X: torch.Tensor, layers, activation: str = "tanh") -> torch.Tensor:
    """The network of :func:`mlp` evaluated with PyTorch on a batch.

    Args:
        X: inputs ``(n, in_features)``.
        layers: list of ``(W, b)`` of Values; their current ``data`` is used.
    Returns:
        Outputs ``(n, out_features)`` in float64.
    """
    h = X.to(torch.float64)  # (n, d)
    for i, layer in enumerate(layers):
        W, b = layer_tensors(layer)
        h = h @ W.T + b  # (n, out)
        if i < len(layers) - 1:
            h = getattr(torch, activation)(h)
    return h


def parameters(layers) -> list[Value]:
    """All weights and biases of ``layers``, row by row."""
    return [v for W, b in layers for row in W + [b] for v in row]


def bce_with_logits(z: Value, y: float) -> Value:
    """Binary cross-entropy of a logit ``z`` for a label ``y`` in ``{0, 1}``.

    ``-(y log s + (1 - y) log(1 - s))`` with ``s = sigmoid(z)`` equals
    ``log(1 + exp(z)) - y z``. The first term is computed as
    ``z + log(1 + exp(-z))`` for ``z >= 0``, so that ``exp`` never overflows.
    Only Value operations are used, so the loss differentiates itself.
    """
    if z.data >= 0:
        softplus = z + (1 + (-z).exp()).log()
    else:
        softplus = (1 + z.exp()).log()
    return softplus - z * y


def train_values(params: Sequence[Value], loss_fn: Callable[[], Value], lr: float,
                 num_steps: int) -> list[float]:
    """Gradient descent with the Value engine.

    Each step: build the loss with ``loss_fn()``, reset the gradients, run
    ``backward()`` and move each parameter against its gradient.

    Returns:
        The loss before each step, ``num_steps`` floats.
    """
    check_number("lr", lr, low=0)
    check_positive_int("num_steps", num_steps)
    losses = []
    for _ in range(num_steps):
        loss = loss_fn()
        zero_grad(params)
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses


# --- the diagram of a computational graph ------------------------------------------

def neuron_graph(x=(2.0, -1.0), w=(0.4, 0.3), b=0.2, y=1.0) -> Value:
    """The squared error of a tanh neuron with two inputs, as a labelled graph.

    ``L = (tanh(x1 w1 + x2 w2 + b) - y)**2``. Returns ``L``; call
    ``L.backward()`` and :func:`draw_graph` to see it.
    """
    x1, x2 = Value(x[0], label="x_1"), Value(x[1], label="x_2")
    w1, w2 = Value(w[0], label="w_1"), Value(w[1], label="w_2")
    bias, target = Value(b, label="b"), Value(y, label="y")
    p1, p2 = x1 * w1, x2 * w2
    s = p1 + p2
    z = s + bias
    a = z.tanh()
    d = a - target
    L = d ** 2
    for v, name in ((s, "s"), (z, "z"), (a, r"\hat{y}"), (d, "e"), (L, "L")):
        v.label = name
    p1.label, p2.label = "p_1", "p_2"
    return L


def _layout(root: Value):
    """Columns by depth (inputs just left of their first use), rows like a tree."""
    order = root.topological_order()
    col = {}
    for v in order:  # parents first
        col[id(v)] = 1 + max((col[id(p)] for p in v.parents), default=-1)
    for v in reversed(order):  # pull inputs next to the node that uses them
        children = [c for c in order if any(p is v for p in c.parents)]
        if not v.parents and children:
            col[id(v)] = min(col[id(c)] for c in children) - 1
    row, next_slot = {}, [0]

    def place(v):  # leaves take the next free row; others sit at their parents' mean
        if id(v) in row:
            return row[id(v)]
        if not v.parents:
            row[id(v)], next_slot[0] = next_slot[0], next_slot[0] + 1
        else:
            row[id(v)] = sum(place(p) for p in v.parents) / len(v.parents)
        return row[id(v)]

    place(root)
    return order, col, row


_OP_NAMES = {"+": "+", "-": "\u2212", "*": "\u00d7", "/": "/", "neg": "\u2212"}


def draw_graph(root: Value, *, width: float = 6.4, show_grad: bool = True):
    """Diagram of the computational graph that produced ``root``.

    Each box shows a Value's name and operation, its data and, if
    ``show_grad``, its ``grad`` (in blue italics); each edge is labelled with
    the local derivative of the child with respect to the parent. Returns the
    ``Figure``.
    """
    from introdl.figures import diagrams

    order, col, row = _layout(root)
    ncols, nrows = max(col.values()) + 1, max(row.values()) + 1
    dx, dy, bw, lh = 2.9, 1.5, 1.6, 0.36  # spacings, box width, line height
    fig, ax = diagrams.new_diagram(width, width * (nrows * dy + 0.1) / (ncols * dx),
                                   xlim=(0, ncols * dx - 1.0),
                                   ylim=(-0.7, nrows * dy - 0.6))
    pos = {id(v): (col[id(v)] * dx + bw / 2 + 0.05, (nrows - 1 - row[id(v)]) * dy)
           for v in order}
    for v in order:
        for p, local in zip(v.parents, v.local_grads):
            diagrams.arrow(ax, pos[id(p)], pos[id(v)], label=f"{local:.3g}",
                           label_pos=0.5, r_start=bw / 2, r_end=bw / 2, fontsize=8)
    for v in order:
        name = f"${v.label}$" if v.label else "const"
        if v.op:
            name += f" ({_OP_NAMES.get(v.op, v.op)})"
        kind = "input" if not v.parents else ("output" if v is root else "op")
        (x, y), lines = pos[id(v)], [(name, "black", "normal")]
        lines.append((f"{v.data:.3g}", "black", "normal"))
        if show_grad:
            lines.append((f"{v.grad:.3g}", PALETTE[0], "italic"))
        diagrams.box(ax, (x, y), "", width=bw, height=lh * len(lines) + 0.2,
                     kind=kind)
        for i, (text, color, style) in enumerate(lines):
            ax.text(x, y + lh * ((len(lines) - 1) / 2 - i), text, ha="center",
                    va="center", fontsize=8, color=color, style=style, zorder=4)
    return fig


# --- backpropagation by hand, in matrix form -------------------------------------

def two_layer_backprop(X: torch.Tensor, y: torch.Tensor, W1: torch.Tensor,
                       b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor):
    """Loss and gradients of ``softmax(tanh(X W1^T + b1) W2^T + b2)`` with
    mean cross-entropy, derived by hand.

    Shapes follow ``torch.nn.Linear``: ``W1`` ``(H, d)``, ``b1`` ``(H,)``,
    ``W2`` ``(C, H)``, ``b2`` ``(C,)``; ``X`` is ``(n, d)``, ``y`` ``(n,)``
    class indices.

    Returns:
        ``(loss, grads)``: the loss (0-d tensor) and a dict with the gradients
        ``"W1", "b1", "W2", "b2"``, each the shape of its parameter.
    Raises:
        ValueError: if the shapes do not fit together.
    """
    for name, t in (("X", X), ("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        check_tensor(name, t, floating=True)
    n, H, C = X.shape[0], W1.shape[0], W2.shape[0]
    expected = {"W1": (H, X.shape[-1]), "b1": (H,), "W2": (C, H), "b2": (C,), "y": (n,)}
    got = {"W1": W1.shape, "b1": b1.shape, "W2": W2.shape, "b2": b2.shape, "y": y.shape}
    if X.ndim != 2 or any(tuple(got[k]) != expected[k] for k in expected):
        raise ValueError(f"shapes do not fit: X {tuple(X.shape)}, "
                         + ", ".join(f"{k} {tuple(v)}" for k, v in got.items()))
    # forward pass
    Z1 = X @ W1.T + b1  # (n, H)
    A1 = torch.tanh(Z1)  # (n, H)
    Z2 = A1 @ W2.T + b2  # (n, C)
    P = torch.softmax(Z2, dim=1)  # (n, C)
    Y = torch.nn.functional.one_hot(y, C).to(X.dtype)  # (n, C)
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
    """Central finite differences: ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for
    every entry ``i`` of ``x``.

    Costs two evaluations of ``f`` per entry, so it is for checking gradients
    of small problems, not for training. Use float64: the error is about
    ``h**2`` from the approximation plus ``eps / h`` from rounding.

    Args:
        f: maps a tensor shaped like ``x`` to a scalar (0-d tensor or float).
        x: the point, any shape; not modified.
    Returns:
        The estimated gradient, shaped like ``x``.
    """
    check_tensor("x", x, floating=True)
    check_number("h", h, low=0, low_open=True)
    x = x.detach().clone()
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


def finite_difference_errors(f: Callable[[torch.Tensor], torch.Tensor],
                             x: torch.Tensor, exact: torch.Tensor, hs) -> torch.Tensor:
    """Largest error of :func:`numerical_gradient` against ``exact`` for each
    step ``h`` in ``hs``. Returns a float64 tensor ``(len(hs),)``."""
    check_tensor("exact", exact, floating=True)
    errors = [(numerical_gradient(f, x, float(h)) - exact).abs().max().item()
              for h in hs]
    return torch.tensor(errors, dtype=torch.float64)


def plot_finite_difference_errors(hs, errors, *, ax=None):
    """Log-log plot of the finite-difference error against the step ``h``,
    with the two reference slopes: ``h**2`` (approximation) and ``eps / h``
    (rounding). Returns the ``Figure``."""
    from introdl.figures.style import new_figure

    fig, ax = new_figure(width=5.0, height=3.2) if ax is None else (ax.figure, ax)
    hs = torch.as_tensor(hs, dtype=torch.float64)
    errors = torch.as_tensor(errors, dtype=torch.float64)
    eps = torch.finfo(torch.float64).eps
    ax.loglog(hs, errors.clamp_min(1e-20), marker="o", label="central difference")
    ax.loglog(hs, errors[-1] * (hs / hs[-1]) ** 2, color="gray", linestyle="--",
              linewidth=1, label="slope 2: approximation error $\\propto h^2$")
    ax.loglog(hs, eps / hs, color="gray", linestyle=":", linewidth=1.2,
              label="slope $-1$: rounding error $\\propto \\epsilon / h$")
    ax.set(xlabel="step $h$", ylabel="largest error",
           ylim=(errors.min().item() / 10, errors.max().item() * 10))
    ax.legend(loc="upper center")
    return fig
