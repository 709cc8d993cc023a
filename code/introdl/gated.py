"""Gated recurrent cells written from scratch, compatible with ``torch.nn``: the
LSTM and the GRU, as single-step cells and as one-layer networks over sequences.

Every class uses PyTorch's parameter names, shapes, gate order (``i, f, g, o``
for the LSTM, ``r, z, n`` for the GRU) and initialisation, so a built-in
module's ``state_dict`` loads into ours and the outputs can be compared. The
gate arithmetic is written as small functions (:func:`lstm_gates`,
:func:`lstm_update`, :func:`gru_gates`, :func:`gru_update`) that the cells and
the layers share. Each class checks its own arguments, so that it can be
copied on its own.
"""

from typing import NamedTuple

import torch
from torch import nn

from introdl.checks import check_positive_int, check_tensor

__all__ = ["LSTMGates", "GRUGates", "lstm_gates", "lstm_update", "gru_gates",
           "gru_update", "LSTMCell", "GRUCell", "LSTM", "GRU"]


class LSTMGates(NamedTuple):
    """The gate activations of an LSTM in PyTorch's order: input ``i``, forget
    ``f``, candidate ``g``, output ``o``; each ``(B, H)``, or ``(B, T, H)``."""

    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor


class GRUGates(NamedTuple):
    """The gate activations of a GRU in PyTorch's order: reset ``r``, update
    ``z``, candidate ``n``; each ``(B, H)``, or ``(B, T, H)``."""

    r: torch.Tensor
    z: torch.Tensor
    n: torch.Tensor


def lstm_gates(z: torch.Tensor) -> LSTMGates:
    """Squash the pre-activations ``z`` ``(B, 4H)`` of the blocks ``i, f, g, o``.

    Raises ValueError unless the last dimension of ``z`` is 4 H with H >= 1.
    """
    H = z.shape[-1] // 4 if check_tensor("z", z, floating=True).ndim else 0
    if H == 0 or z.shape[-1] != 4 * H:
        raise ValueError(f"z must end in 4 * H > 0 entries, got shape {tuple(z.shape)}")
    i, f, g, o = z.split(H, dim=-1)  # each (B, H)
    return LSTMGates(torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g),
                     torch.sigmoid(o))


def lstm_update(gates: LSTMGates, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The new ``(h, c)``, each ``(B, H)``, from the gates and the old cell state
    ``c`` ``(B, H)``. Raises ValueError if ``c`` does not match the gates."""
    if not isinstance(gates, LSTMGates) or check_tensor("c", c).shape != gates.f.shape:
        raise ValueError(f"gates (LSTMGates) and c must agree, got c {tuple(c.shape)}")
    c = gates.f * c + gates.i * gates.g  # forget some memory, write some new
    h = gates.o * torch.tanh(c)  # show part of the memory
    return h, c


def gru_gates(a: torch.Tensor, b: torch.Tensor) -> GRUGates:
    """The GRU's gates from ``a = x W_ih^T + b_ih`` and ``b = h W_hh^T + b_hh``,
    both ``(B, 3H)`` with blocks ``r, z, n``. As in PyTorch, the reset gate
    multiplies ``W_hn h + b_hn``, the recurrent part of the candidate.

    Raises ValueError unless ``a`` and ``b`` share one shape ending in 3 H, H >= 1.
    """
    H = a.shape[-1] // 3 if check_tensor("a", a, floating=True).ndim else 0
    if H == 0 or a.shape[-1] != 3 * H or check_tensor("b", b).shape != a.shape:
        raise ValueError(f"a and b must have one shape (B, 3H), got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    a_r, a_z, a_n = a.split(H, dim=-1)  # each (B, H)
    b_r, b_z, b_n = b.split(H, dim=-1)
    r = torch.sigmoid(a_r + b_r)
    z = torch.sigmoid(a_z + b_z)
    return GRUGates(r, z, torch.tanh(a_n + r * b_n))


def gru_update(gates: GRUGates, h: torch.Tensor) -> torch.Tensor:
    """The new state ``(B, H)``: ``z`` keeps the old ``h``, ``1 - z`` takes ``n``.
    Raises ValueError if ``h`` does not match the gates."""
    if not isinstance(gates, GRUGates) or check_tensor("h", h).shape != gates.z.shape:
        raise ValueError(f"gates (GRUGates) and h must agree, got h {tuple(h.shape)}")
    take = (1 - gates.z) * gates.n  # the candidate, where z is near 0
    keep = gates.z * h  # the old state, where z is near 1
    return take + keep


class LSTMCell(nn.Module):
    """One step of a long short-term memory cell, like ``nn.LSTMCell``.

    Parameters with PyTorch's names, shapes, gate order ``i, f, g, o`` and
    initialisation (drawn from ``generator``): ``weight_ih (4H, I)``,
    ``weight_hh (4H, H)``, ``bias_ih`` and ``bias_hh (4H,)``.
    ``forward(x, state)``: ``x (B, I)`` and ``state = (h, c)``, each ``(B, H)``
    (``None``: zeros) -> the new ``(h, c)``. Raises ValueError for a wrong size,
    shape or dtype, TypeError for a state that is not a pair.
    """

    def __init__(self, input_size: int, hidden_size: int, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H))
        self.bias_ih = nn.Parameter(torch.empty(4 * H))
        self.bias_hh = nn.Parameter(torch.empty(4 * H))
        bound = 1.0 / H ** 0.5  # PyTorch's U(-1/sqrt(H), 1/sqrt(H))
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound, generator=generator)

    def forward(self, x: torch.Tensor, state=None) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = self._checked(x, state)  # (B, H) each
        return lstm_update(self._gates(x, h), c)

    def gates(self, x: torch.Tensor, state=None) -> LSTMGates:
        """The four gates, each ``(B, H)``, that ``forward(x, state)`` uses."""
        return self._gates(x, self._checked(x, state)[0])

    def _gates(self, x: torch.Tensor, h: torch.Tensor) -> LSTMGates:
        z = torch.addmm(self.bias_ih, x, self.weight_ih.T)  # (B, 4H): all gates
        return lstm_gates(z + torch.addmm(self.bias_hh, h, self.weight_hh.T))

    def _checked(self, x: torch.Tensor, state) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` and ``state``, checked; ``state`` as ``(h, c)``, zeros if None."""
        if (check_tensor("x", x, floating=True).ndim != 2
                or x.shape[1] != self.input_size or x.dtype != self.weight_ih.dtype):
            raise ValueError(f"x must have shape (batch, input_size) with input_size="
                             f"{self.input_size} and dtype {self.weight_ih.dtype}, "
                             f"got {tuple(x.shape)} {x.dtype}")
        shape = (x.shape[0], self.hidden_size)
        if state is None:
            return x.new_zeros(shape), x.new_zeros(shape)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"state must be a pair (h, c) or None, got "
                            f"{type(state).__name__}")
        for name, t in zip("hc", state):
            if check_tensor(name, t, floating=True).shape != shape:
                raise ValueError(f"{name} must have shape {shape} (batch, hidden_size)"
                                 f", got {tuple(t.shape)}")
        return state[0], state[1]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class GRUCell(nn.Module):
    """One step of a gated recurrent unit, like ``nn.GRUCell``.

    Parameters with PyTorch's names, shapes, gate order ``r, z, n`` and
    initialisation (drawn from ``generator``): ``weight_ih (3H, I)``,
    ``weight_hh (3H, H)``, ``bias_ih`` and ``bias_hh (3H,)``.
    ``forward(x, h)``: ``x (B, I)`` and ``h (B, H)`` (``None``: zeros) -> the
    new ``h``. Raises ValueError for a wrong size, shape or dtype.
    """

    def __init__(self, input_size: int, hidden_size: int, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(3 * H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * H, H))
        self.bias_ih = nn.Parameter(torch.empty(3 * H))
        self.bias_hh = nn.Parameter(torch.empty(3 * H))
        bound = 1.0 / H ** 0.5  # PyTorch's U(-1/sqrt(H), 1/sqrt(H))
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound, generator=generator)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        h = self._checked(x, h)  # (B, H)
        return gru_update(self._gates(x, h), h)

    def gates(self, x: torch.Tensor, h: torch.Tensor | None = None) -> GRUGates:
        """The gates ``r, z, n``, each ``(B, H)``, that ``forward(x, h)`` uses."""
        return self._gates(x, self._checked(x, h))

    def _gates(self, x: torch.Tensor, h: torch.Tensor) -> GRUGates:
        a = torch.addmm(self.bias_ih, x, self.weight_ih.T)  # (B, 3H): all gates
        return gru_gates(a, torch.addmm(self.bias_hh, h, self.weight_hh.T))

    def _checked(self, x: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        """``x`` and ``h``, checked; ``h`` itself, or zeros if None."""
        if (check_tensor("x", x, floating=True).ndim != 2
                or x.shape[1] != self.input_size or x.dtype != self.weight_ih.dtype):
            raise ValueError(f"x must have shape (batch, input_size) with input_size="
                             f"{self.input_size} and dtype {self.weight_ih.dtype}, "
                             f"got {tuple(x.shape)} {x.dtype}")
        shape = (x.shape[0], self.hidden_size)
        if h is None:
            return x.new_zeros(shape)
        if check_tensor("h", h, floating=True).shape != shape:
            raise ValueError(f"h must have shape {shape} (batch, hidden_size), got "
                             f"{tuple(h.shape)}")
        return h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class LSTM(nn.Module):
    """A one-layer LSTM, like ``nn.LSTM(input_size, hidden_size, batch_first=True)``.

    The parameters of an :class:`LSTMCell`, under ``nn.LSTM``'s names
    (``weight_ih_l0``, ...). ``forward(x, state)``: ``x (B, T, I)`` and
    ``state = (h0, c0)``, each ``(1, B, H)`` (``None``: zeros) ->
    ``(output, (h_n, c_n))``: every ``h_t`` ``(B, T, H)`` and the last states,
    each ``(1, B, H)``. Raises ValueError for a wrong shape or dtype, TypeError
    for a state that is not a pair.
    """

    def __init__(self, input_size: int, hidden_size: int, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        cell = LSTMCell(input_size, hidden_size, generator=generator)
        self.input_size, self.hidden_size = input_size, hidden_size
        for name, p in cell.named_parameters():  # weight_ih -> weight_ih_l0, ...
            self.register_parameter(name + "_l0", p)

    def forward(self, x: torch.Tensor, state=None):
        output, (h, c) = self._run(x, state)
        return output, (h[None], c[None])  # (B, T, H), ((1, B, H), (1, B, H))

    def gate_trace(self, x: torch.Tensor, state=None) -> LSTMGates:
        """The gates at every step, fields ``(B, T, H)``; arguments as for forward."""
        trace = []
        self._run(x, state, trace)
        return LSTMGates(*(torch.stack(g, dim=1) for g in zip(*trace)))

    def _run(self, x: torch.Tensor, state, trace: list | None = None):
        h, c = self._check_inputs(x, state)  # (B, H) each
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

    def _check_inputs(self, x: torch.Tensor, state
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """Check ``x`` and ``state``; the initial ``(h, c)``, each ``(B, H)``."""
        check_tensor("x", x, ndim=(3,), last_dim=self.input_size,
                     dtype=self.weight_ih_l0.dtype)
        check_positive_int("the number of time steps", x.shape[1])
        shape = (1, x.shape[0], self.hidden_size)  # (layers, batch, hidden_size)
        if state is None:
            return x.new_zeros(shape[1:]), x.new_zeros(shape[1:])
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"state must be a pair (h0, c0) or None, got "
                            f"{type(state).__name__}")
        h0, c0 = check_tensor("h0", state[0], shape=shape), check_tensor(
            "c0", state[1], shape=shape, dtype=state[0].dtype)
        return h0[0], c0[0]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, batch_first=True"


class GRU(nn.Module):
    """A one-layer GRU, like ``nn.GRU(input_size, hidden_size, batch_first=True)``.

    The parameters of a :class:`GRUCell`, under ``nn.GRU``'s names
    (``weight_ih_l0``, ...). ``forward(x, h0)``: ``x (B, T, I)`` and ``h0
    (1, B, H)`` (``None``: zeros) -> ``(output, h_n)``: every ``h_t``
    ``(B, T, H)`` and the last ``(1, B, H)``. The input part of every step,
    ``x_t W_ih^T + b_ih``, is one matrix product for the whole sequence.
    Raises ValueError for a wrong shape or dtype.
    """

    def __init__(self, input_size: int, hidden_size: int, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        cell = GRUCell(input_size, hidden_size, generator=generator)
        self.input_size, self.hidden_size = input_size, hidden_size
        for name, p in cell.named_parameters():  # weight_ih -> weight_ih_l0, ...
            self.register_parameter(name + "_l0", p)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        output, h = self._run(x, h0)
        return output, h[None]  # (B, T, H), (1, B, H)

    def gate_trace(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> GRUGates:
        """The gates at every step, fields ``(B, T, H)``; arguments as for forward."""
        trace = []
        self._run(x, h0, trace)
        return GRUGates(*(torch.stack(g, dim=1) for g in zip(*trace)))

    def _run(self, x: torch.Tensor, h0: torch.Tensor | None,
             trace: list | None = None):
        h = self._check_inputs(x, h0)  # (B, H)
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

    def _check_inputs(self, x: torch.Tensor, h0: torch.Tensor | None
                      ) -> torch.Tensor:
        """Check ``x`` and ``h0``; the initial ``h`` ``(B, H)``."""
        check_tensor("x", x, ndim=(3,), last_dim=self.input_size,
                     dtype=self.weight_ih_l0.dtype)
        check_positive_int("the number of time steps", x.shape[1])
        shape = (1, x.shape[0], self.hidden_size)  # (layers, batch, hidden_size)
        if h0 is None:
            return x.new_zeros(shape[1:])
        return check_tensor("h0", h0, shape=shape, dtype=x.dtype)[0]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, batch_first=True"
