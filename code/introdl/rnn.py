"""Recurrent cells written from scratch, compatible with ``torch.nn``.

Each cell uses PyTorch's parameter names, shapes and gate order, so a
built-in cell's ``state_dict`` loads into ours and the outputs can be compared.
"""

from __future__ import annotations

import torch

__all__ = ["rnn_step", "RNNCell", "unroll", "RNN", "LSTMGates", "GRUGates", "lstm_gates",
           "lstm_update", "gru_gates", "gru_update", "LSTMCell", "GRUCell", "LSTM",
           "GRU"]

# --- simple recurrent cell and its unrolling (chapter: Recurrent neural networks) ---

from introdl.checks import check_ndim, check_positive_int, check_tensor  # noqa: E402

_NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


def _check_last_dim(name: str, value, size: int, size_name: str) -> None:
    """Raise unless ``value`` is a float tensor whose last dimension is ``size``."""
    check_tensor(name, value, floating=True)
    if value.ndim == 0 or value.shape[-1] != size:
        raise ValueError(f"{name} must have size {size_name}={size} in its last "
                         f"dimension, got shape {tuple(value.shape)}")


def rnn_step(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor,
             weight_hh: torch.Tensor, bias_ih: torch.Tensor | None = None,
             bias_hh: torch.Tensor | None = None,
             nonlinearity: str = "tanh") -> torch.Tensor:
    """One step of the simple (Elman) recurrence, without argument checks.

    ``h_t = g(W_hh h_{t-1} + W_xh x_t + b_hh + b_ih)`` for a batch of rows.

    Args:
        x: inputs ``(B, input_size)``; h: previous state ``(B, hidden_size)``.
        weight_ih: ``W_xh``, shape ``(hidden_size, input_size)``.
        weight_hh: ``W_hh``, shape ``(hidden_size, hidden_size)``.
        bias_ih, bias_hh: ``(hidden_size,)`` each, or ``None``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
    Returns:
        The new state ``h_t``, shape ``(B, hidden_size)``.
    """
    z = x @ weight_ih.T + h @ weight_hh.T  # (B, H)
    if bias_ih is not None:
        z = z + bias_ih + bias_hh  # (B, H)
    return _NONLINEARITIES[nonlinearity](z)


class RNNCell(torch.nn.Module):
    """A simple recurrent cell, from scratch, interchangeable with
    :class:`torch.nn.RNNCell`.

    ``forward(x, h)`` computes ``h_new = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``
    (or ReLU). The parameters ``weight_ih`` ``(hidden_size, input_size)``,
    ``weight_hh`` ``(hidden_size, hidden_size)``, ``bias_ih`` and ``bias_hh``
    ``(hidden_size,)`` carry PyTorch's names, shapes and initialisation
    (uniform in ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size)]``), so a
    ``torch.nn.RNNCell``'s ``state_dict`` loads into this cell.

    Args:
        input_size: features per time step; hidden_size: size of the state.
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.
        generator: optional ``torch.Generator`` for a reproducible initialisation.
    Raises:
        ValueError: for a size below 1 or an unknown ``nonlinearity``.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 *, generator: torch.Generator | None = None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        H, I = hidden_size, input_size
        self.weight_ih = torch.nn.Parameter(torch.empty(H, I))
        self.weight_hh = torch.nn.Parameter(torch.empty(H, H))
        self.bias_ih = torch.nn.Parameter(torch.empty(H))
        self.bias_hh = torch.nn.Parameter(torch.empty(H))
        bound = 1.0 / hidden_size ** 0.5
        for p in self.parameters():
            torch.nn.init.uniform_(p, -bound, bound, generator=generator)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One time step.

        Args:
            x: input ``(batch, input_size)`` (or ``(input_size,)`` unbatched).
            h: previous state ``(batch, hidden_size)``; zeros when ``None``.
        Returns:
            The new hidden state, ``(batch, hidden_size)`` (``(hidden_size,)``
            for an unbatched input).
        Raises:
            TypeError: if ``x`` or ``h`` is not a floating-point tensor.
            ValueError: if ``x`` or ``h`` has the wrong size or number of
                dimensions (the message names the argument and the size).
        """
        _check_last_dim("x", x, self.input_size, "input_size")
        check_ndim("x", x, (1, 2))
        if h is None:
            h = x.new_zeros(*x.shape[:-1], self.hidden_size)
        _check_last_dim("h", h, self.hidden_size, "hidden_size")
        if h.shape[:-1] != x.shape[:-1]:
            raise ValueError(f"h must have shape {(*x.shape[:-1], self.hidden_size)}"
                             f" to match x {tuple(x.shape)}, got {tuple(h.shape)}")
        return rnn_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih,
                        self.bias_hh, self.nonlinearity)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, "
                f"nonlinearity={self.nonlinearity!r}")


def unroll(cell, x: torch.Tensor, h0: torch.Tensor | None = None):
    """Apply ``cell`` at every time step of a batch of sequences.

    The same cell (the same parameters) is used at every step: this loop is
    the unrolled computational graph, ``h_t = cell(x_t, h_{t-1})``.

    Args:
        cell: a callable ``cell(x_t, h) -> h_new`` with a ``hidden_size``
            attribute, such as :class:`RNNCell` or ``torch.nn.RNNCell``.
        x: inputs ``(B, T, input_size)``, batch first, ``T >= 1``.
        h0: initial state ``(B, hidden_size)``; zeros when ``None``.
    Returns:
        ``(hs, h_T)``: every hidden state ``(B, T, hidden_size)`` and the last
        one ``(B, hidden_size)`` (equal to ``hs[:, -1]``).
    Raises:
        TypeError: if ``x`` is not a floating-point tensor.
        ValueError: if ``x`` is not 3-d or has no time steps.
    """
    check_tensor("x", x, floating=True)
    check_ndim("x", x, (3,))
    if x.shape[1] == 0:
        raise ValueError(f"x must have at least one time step, got shape "
                         f"{tuple(x.shape)}")
    h = x.new_zeros(x.shape[0], cell.hidden_size) if h0 is None else h0  # (B, H)
    hs = []
    for t in range(x.shape[1]):
        h = cell(x[:, t], h)  # (B, H)
        hs.append(h)
    return torch.stack(hs, dim=1), h  # (B, T, H), (B, H)


class RNN(torch.nn.Module):
    """A one-layer simple RNN over batch-first sequences, a from-scratch
    stand-in for ``torch.nn.RNN(input_size, hidden_size, batch_first=True)``.

    Its parameters carry ``torch.nn.RNN``'s names and shapes (``weight_ih_l0``
    ``(H, input_size)``, ``weight_hh_l0`` ``(H, H)``, ``bias_ih_l0`` and
    ``bias_hh_l0`` ``(H,)``), so state dicts load both ways, and ``forward``
    has the same signature. Each step is :func:`rnn_step`, unrolled by
    :func:`unroll`.

    Args:
        input_size, hidden_size, nonlinearity, generator: as for :class:`RNNCell`.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 *, generator: torch.Generator | None = None):
        super().__init__()
        cell = RNNCell(input_size, hidden_size, nonlinearity, generator=generator)
        self.input_size, self.hidden_size = cell.input_size, cell.hidden_size
        self.nonlinearity = nonlinearity
        for name, p in cell.named_parameters():  # weight_ih -> weight_ih_l0, ...
            self.register_parameter(name + "_l0", p)

    def step(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One time step: ``x`` ``(B, input_size)``, ``h`` ``(B, H)`` -> ``(B, H)``."""
        return rnn_step(x, h, self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0,
                        self.bias_hh_l0, self.nonlinearity)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        """Run over ``x`` ``(B, T, input_size)`` from ``h0`` ``(1, B, H)``.

        Returns:
            ``(output, h_n)``: every state ``(B, T, H)`` and the last ``(1, B, H)``.
        Raises:
            ValueError: if ``x`` or ``h0`` has the wrong shape.
        """
        _check_last_dim("x", x, self.input_size, "input_size")
        check_ndim("x", x, (3,))
        B = x.shape[0]
        if h0 is None:
            h0 = x.new_zeros(1, B, self.hidden_size)
        check_tensor("h0", h0, floating=True)
        if tuple(h0.shape) != (1, B, self.hidden_size):
            raise ValueError(f"h0 must have shape (1, {B}, {self.hidden_size}) "
                             f"(layers, batch, hidden_size), got {tuple(h0.shape)}")
        output, h_n = unroll(self.step, x, h0[0])  # (B, T, H), (B, H)
        return output, h_n[None]  # (B, T, H), (1, B, H)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, "
                f"nonlinearity={self.nonlinearity!r}, batch_first=True")


# --- gated cells (chapter: LSTM and GRU) ---

from typing import NamedTuple  # noqa: E402

from introdl.checks import check_positive_int, check_tensor  # noqa: E402


class LSTMGates(NamedTuple):
    """The gate activations of an LSTM, in PyTorch's order: input ``i``,
    forget ``f``, candidate ``g`` and output ``o``. Each is ``(B, H)`` for one
    step, or ``(B, T, H)`` from :meth:`LSTM.gate_trace`."""

    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor


class GRUGates(NamedTuple):
    """The gate activations of a GRU, in PyTorch's order: reset ``r``, update
    ``z`` and candidate ``n``; each ``(B, H)`` or ``(B, T, H)``."""

    r: torch.Tensor
    z: torch.Tensor
    n: torch.Tensor


def lstm_gates(z: torch.Tensor) -> LSTMGates:
    """Squash the pre-activations ``z`` ``(B, 4H)`` of all four gates.

    ``z = x W_ih^T + b_ih + h W_hh^T + b_hh`` comes from one matrix product
    per weight matrix; its four blocks of ``H`` columns belong to ``i, f, g, o``.
    """
    i, f, g, o = z.chunk(4, dim=-1)  # each (B, H)
    return LSTMGates(torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g),
                     torch.sigmoid(o))


def lstm_update(gates: LSTMGates, c: torch.Tensor):
    """The new ``(h, c)``, each ``(B, H)``, from the gates and the old cell state."""
    c = gates.f * c + gates.i * gates.g  # forget some memory, write some new
    h = gates.o * torch.tanh(c)  # show part of the memory
    return h, c


def gru_gates(a: torch.Tensor, b: torch.Tensor) -> GRUGates:
    """The GRU's gates from ``a = x W_ih^T + b_ih`` and ``b = h W_hh^T + b_hh``,
    both ``(B, 3H)`` with blocks ``r, z, n``. As in PyTorch, the reset gate
    multiplies ``W_hn h + b_hn``, the recurrent part of the candidate."""
    a_r, a_z, a_n = a.chunk(3, dim=-1)  # each (B, H)
    b_r, b_z, b_n = b.chunk(3, dim=-1)
    r = torch.sigmoid(a_r + b_r)
    z = torch.sigmoid(a_z + b_z)
    return GRUGates(r, z, torch.tanh(a_n + r * b_n))


def gru_update(gates: GRUGates, h: torch.Tensor) -> torch.Tensor:
    """The new state ``(B, H)``: ``z`` keeps the old ``h``, ``1 - z`` takes ``n``."""
    return (1 - gates.z) * gates.n + gates.z * h


def _check_state(name: str, t, shape: tuple[int, ...], what: str) -> None:
    """Raise unless ``t`` is a floating tensor of exactly ``shape``."""
    check_tensor(name, t, floating=True)
    if tuple(t.shape) != shape:
        raise ValueError(f"{name} must have shape {shape} ({what}), got "
                         f"{tuple(t.shape)}")


def _check_input(x, input_size: int, ndim: int) -> None:
    """Raise unless ``x`` is a floating tensor of ``ndim`` dims ending in
    ``input_size``."""
    check_tensor("x", x, floating=True)
    if x.ndim != ndim or x.shape[-1] != input_size:
        dims = "(batch, input_size)" if ndim == 2 else "(batch, T, input_size)"
        raise ValueError(f"x must have shape {dims} with input_size={input_size}, "
                         f"got {tuple(x.shape)}")


class _GatedCell(torch.nn.Module):
    """Parameters shared by the gated cells: ``num_gates`` blocks of ``H`` rows."""

    def __init__(self, input_size: int, hidden_size: int, num_gates: int,
                 generator: torch.Generator | None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        G, H, I = num_gates, hidden_size, input_size
        self.weight_ih = torch.nn.Parameter(torch.empty(G * H, I))
        self.weight_hh = torch.nn.Parameter(torch.empty(G * H, H))
        self.bias_ih = torch.nn.Parameter(torch.empty(G * H))
        self.bias_hh = torch.nn.Parameter(torch.empty(G * H))
        bound = 1.0 / hidden_size ** 0.5  # PyTorch's U(-1/sqrt(H), 1/sqrt(H))
        for p in self.parameters():
            torch.nn.init.uniform_(p, -bound, bound, generator=generator)

    def _zeros_or_checked(self, name: str, t, x: torch.Tensor) -> torch.Tensor:
        if t is None:
            return x.new_zeros(x.shape[0], self.hidden_size)  # (B, H)
        _check_state(name, t, (x.shape[0], self.hidden_size), "batch, hidden_size")
        return t

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class LSTMCell(_GatedCell):
    """One step of a long short-term memory cell, like ``torch.nn.LSTMCell``.

    Parameters, with PyTorch's names, shapes and gate order ``i, f, g, o``:
    ``weight_ih (4H, I)``, ``weight_hh (4H, H)``, ``bias_ih`` and ``bias_hh``
    ``(4H,)``, so a ``torch.nn.LSTMCell``'s ``state_dict`` loads into it.

    Args:
        input_size: ``I``, features per step; hidden_size: ``H``.
        generator: draws the initial weights (uniform, as PyTorch does).
    """

    def __init__(self, input_size: int, hidden_size: int, *,
                 generator: torch.Generator | None = None):
        super().__init__(input_size, hidden_size, 4, generator)

    def _state(self, x, state):
        _check_input(x, self.input_size, 2)
        if state is None:
            state = (None, None)
        elif not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"state must be a pair (h, c) or None, got "
                            f"{type(state).__name__}")
        return (self._zeros_or_checked("h", state[0], x),
                self._zeros_or_checked("c", state[1], x))

    def _gates(self, x, h):
        z = torch.addmm(self.bias_ih, x, self.weight_ih.T)  # (B, 4H): all gates
        return lstm_gates(z + torch.addmm(self.bias_hh, h, self.weight_hh.T))

    def gates(self, x: torch.Tensor, state=None) -> LSTMGates:
        """The four gates, each ``(B, H)``, for ``x (B, I)`` and ``state``."""
        return self._gates(x, self._state(x, state)[0])

    def forward(self, x: torch.Tensor, state=None):
        """One step: ``x (B, I)``, ``state = (h, c)`` each ``(B, H)``, or
        ``None`` for zeros. Returns the new ``(h, c)``, each ``(B, H)``.

        Raises:
            ValueError: if ``x``, ``h`` or ``c`` has the wrong shape (the
                message names it and the expected size).
            TypeError: if ``state`` is not a pair or a tensor is not floating.
        """
        h, c = self._state(x, state)  # (B, H) each
        return lstm_update(self._gates(x, h), c)


class GRUCell(_GatedCell):
    """One step of a gated recurrent unit, like ``torch.nn.GRUCell``.

    Parameters, with PyTorch's names, shapes and gate order ``r, z, n``:
    ``weight_ih (3H, I)``, ``weight_hh (3H, H)``, ``bias_ih`` and ``bias_hh``
    ``(3H,)``, so a ``torch.nn.GRUCell``'s ``state_dict`` loads into it.

    Args:
        input_size: ``I``, features per step; hidden_size: ``H``.
        generator: draws the initial weights (uniform, as PyTorch does).
    """

    def __init__(self, input_size: int, hidden_size: int, *,
                 generator: torch.Generator | None = None):
        super().__init__(input_size, hidden_size, 3, generator)

    def _state(self, x, h):
        _check_input(x, self.input_size, 2)
        return self._zeros_or_checked("h", h, x)  # (B, H)

    def _gates(self, x, h):
        a = torch.addmm(self.bias_ih, x, self.weight_ih.T)  # (B, 3H): all gates
        return gru_gates(a, torch.addmm(self.bias_hh, h, self.weight_hh.T))

    def gates(self, x: torch.Tensor, h: torch.Tensor | None = None) -> GRUGates:
        """The gates ``r, z, n``, each ``(B, H)``, for ``x (B, I)`` and ``h``."""
        return self._gates(x, self._state(x, h))

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        """One step: ``x (B, I)``, ``h (B, H)`` or ``None`` for zeros.
        Returns the new ``h`` ``(B, H)``.

        Raises:
            ValueError: if ``x`` or ``h`` has the wrong shape (the message
                names it and the expected size).
            TypeError: if a tensor is not floating-point.
        """
        h = self._state(x, h)
        return gru_update(self._gates(x, h), h)


class _GatedLayer(torch.nn.Module):
    """A one-layer gated recurrent network over batch-first sequences.

    Holds the parameters of ``cell_class`` under ``torch.nn.LSTM``'s and
    ``torch.nn.GRU``'s names (``weight_ih_l0``, ...), so state dicts load.
    """

    def __init__(self, cell_class, input_size: int, hidden_size: int,
                 generator: torch.Generator | None):
        super().__init__()
        cell = cell_class(input_size, hidden_size, generator=generator)
        self.input_size, self.hidden_size = cell.input_size, cell.hidden_size
        for name, p in cell.named_parameters():  # weight_ih -> weight_ih_l0, ...
            self.register_parameter(name + "_l0", p)

    def _initial(self, x, name: str, t) -> torch.Tensor:
        """Check ``x`` and an initial state ``(1, B, H)``; return it as ``(B, H)``."""
        _check_input(x, self.input_size, 3)
        if x.shape[1] == 0:
            raise ValueError(f"x must have at least one time step, got shape "
                             f"{tuple(x.shape)}")
        shape = (1, x.shape[0], self.hidden_size)
        if t is None:
            return x.new_zeros(shape[1:])
        _check_state(name, t, shape, "layers, batch, hidden_size")
        return t[0]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, batch_first=True"


class LSTM(_GatedLayer):
    """A one-layer LSTM, from scratch, like
    ``torch.nn.LSTM(input_size, hidden_size, batch_first=True)``.

    The input part of every step, ``x_t W_ih^T + b_ih + b_hh``, is one matrix
    product for the whole sequence; each step then needs one product,
    ``h W_hh^T``, for all four gates.

    Args:
        input_size, hidden_size, generator: as for :class:`LSTMCell`.
    """

    def __init__(self, input_size: int, hidden_size: int, *,
                 generator: torch.Generator | None = None):
        super().__init__(LSTMCell, input_size, hidden_size, generator)

    def _run(self, x, state, trace: list | None = None):
        if state is not None and (not isinstance(state, (tuple, list))
                                  or len(state) != 2):
            raise TypeError(f"state must be a pair (h0, c0) or None, got "
                            f"{type(state).__name__}")
        h0, c0 = (None, None) if state is None else state
        h, c = self._initial(x, "h0", h0), self._initial(x, "c0", c0)  # (B, H)
        bias = self.bias_ih_l0 + self.bias_hh_l0  # (4H,)
        xz = x @ self.weight_ih_l0.T + bias  # (B, T, 4H), every step at once
        hs = []
        for xz_t in xz.unbind(1):  # (B, 4H)
            gates = lstm_gates(torch.addmm(xz_t, h, self.weight_hh_l0.T))
            h, c = lstm_update(gates, c)  # (B, H) each
            hs.append(h)
            if trace is not None:
                trace.append(gates)
        return torch.stack(hs, dim=1), (h, c)  # (B, T, H)

    def forward(self, x: torch.Tensor, state=None):
        """Run over ``x (B, T, I)`` from ``state = (h0, c0)``, each ``(1, B, H)``
        (zeros if ``None``).

        Returns:
            ``(output, (h_n, c_n))``: every ``h_t`` ``(B, T, H)`` and the last
            states, each ``(1, B, H)``, as ``torch.nn.LSTM`` returns them.
        Raises:
            ValueError: if ``x``, ``h0`` or ``c0`` has the wrong shape.
        """
        output, (h, c) = self._run(x, state)
        return output, (h[None], c[None])

    def gate_trace(self, x: torch.Tensor, state=None) -> LSTMGates:
        """The gate activations at every step: an :class:`LSTMGates` whose
        fields are ``(B, T, H)``. Same arguments as :meth:`forward`."""
        trace = []
        self._run(x, state, trace)
        return LSTMGates(*(torch.stack(g, dim=1) for g in zip(*trace)))


class GRU(_GatedLayer):
    """A one-layer GRU, from scratch, like
    ``torch.nn.GRU(input_size, hidden_size, batch_first=True)``.

    The input part of every step, ``x_t W_ih^T + b_ih``, is one matrix product
    for the whole sequence; each step then needs one product, ``h W_hh^T``.

    Args:
        input_size, hidden_size, generator: as for :class:`GRUCell`.
    """

    def __init__(self, input_size: int, hidden_size: int, *,
                 generator: torch.Generator | None = None):
        super().__init__(GRUCell, input_size, hidden_size, generator)

    def _run(self, x, h0, trace: list | None = None):
        h = self._initial(x, "h0", h0)  # (B, H)
        xa = x @ self.weight_ih_l0.T + self.bias_ih_l0  # (B, T, 3H)
        hs = []
        for a_t in xa.unbind(1):  # (B, 3H)
            b_t = torch.addmm(self.bias_hh_l0, h, self.weight_hh_l0.T)  # (B, 3H)
            gates = gru_gates(a_t, b_t)
            h = gru_update(gates, h)  # (B, H)
            hs.append(h)
            if trace is not None:
                trace.append(gates)
        return torch.stack(hs, dim=1), h  # (B, T, H), (B, H)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        """Run over ``x (B, T, I)`` from ``h0 (1, B, H)`` (zeros if ``None``).

        Returns:
            ``(output, h_n)``: every ``h_t`` ``(B, T, H)`` and the last
            ``(1, B, H)``, as ``torch.nn.GRU`` returns them.
        Raises:
            ValueError: if ``x`` or ``h0`` has the wrong shape.
        """
        output, h = self._run(x, h0)
        return output, h[None]

    def gate_trace(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> GRUGates:
        """The gate activations at every step: a :class:`GRUGates` whose
        fields are ``(B, T, H)``. Same arguments as :meth:`forward`."""
        trace = []
        self._run(x, h0, trace)
        return GRUGates(*(torch.stack(g, dim=1) for g in zip(*trace)))
