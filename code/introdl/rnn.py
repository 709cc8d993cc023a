"""The simple recurrent network written from scratch, compatible with ``torch.nn``,
and the small sequence models built from it.

- :func:`rnn_step`, :class:`RNNCell`, :func:`unroll` and :class:`RNN`: the
  recurrence ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)``, one step, a cell, the
  loop over time and a one-layer network. They use PyTorch's parameter names,
  shapes and initialisation, so a built-in module's ``state_dict`` loads into
  ours and the outputs can be compared.
- :class:`PerStepMLP` (the naive model: one network applied to each step),
  :class:`RNNTagger` (an output at every step), :class:`RNNLanguageModel`
  (embedding, RNN, scores over the vocabulary) and :class:`LastStateModel` (one
  output from the last state of any recurrent layer).
- :func:`scaled_orthogonal`: recurrent weights whose singular values all equal
  a chosen number.
"""

import math
from collections.abc import Callable

import torch
from torch import nn

from introdl.checks import check_ndim, check_number, check_positive_int, check_tensor

__all__ = ["rnn_step", "RNNCell", "unroll", "RNN", "PerStepMLP", "RNNTagger",
           "RNNLanguageModel", "LastStateModel", "scaled_orthogonal"]


def rnn_step(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor,
             weight_hh: torch.Tensor, bias_ih: torch.Tensor | None = None,
             bias_hh: torch.Tensor | None = None,
             nonlinearity: str = "tanh") -> torch.Tensor:
    """One step ``h_t = g(x W_ih^T + b_ih + h W_hh^T + b_hh)`` for a batch of rows.

    ``x (B, I)``, ``h (B, H)``, ``weight_ih (H, I)``, ``weight_hh (H, H)``; each
    bias ``(H,)`` or ``None`` (left out); ``g`` is ``"tanh"`` or ``"relu"``.
    Returns ``(B, H)``. Raises ValueError for an unknown ``nonlinearity``, or an
    ``x`` or ``h`` whose last size or dtype does not match the weights.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    for name, t, w, size in (("x", x, weight_ih, "input_size"),
                             ("h", h, weight_hh, "hidden_size")):
        if check_tensor(name, t).shape[-1:] != w.shape[1:] or t.dtype != w.dtype:
            raise ValueError(f"{name} must have size {size}={w.shape[1]} in its last "
                             f"dimension and dtype {w.dtype}, got shape "
                             f"{tuple(t.shape)} and {t.dtype}")
    z = x @ weight_ih.T + h @ weight_hh.T  # (B, H)
    if bias_ih is not None:
        z = z + bias_ih
    if bias_hh is not None:
        z = z + bias_hh
    return torch.tanh(z) if nonlinearity == "tanh" else torch.relu(z)


class RNNCell(nn.Module):
    """A simple recurrent cell, like ``nn.RNNCell``, with its parameter names,
    shapes and initialisation: ``weight_ih (H, I)``, ``weight_hh (H, H)``,
    ``bias_ih`` and ``bias_hh (H,)``, uniform in ``[-1/sqrt(H), 1/sqrt(H)]``
    (drawn from ``generator``).

    ``forward(x, h)``: ``x (B, I)`` or ``(I,)``, ``h`` of the same batch shape
    (``None``: zeros) -> the new state, ``(B, H)`` or ``(H,)``. Raises
    ValueError for a size below 1, an unknown ``nonlinearity`` or a wrong shape.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 *, generator: torch.Generator | None = None):
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = H = check_positive_int("hidden_size", hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.weight_ih = nn.Parameter(torch.empty(H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(H, H))
        self.bias_ih = nn.Parameter(torch.empty(H))
        self.bias_hh = nn.Parameter(torch.empty(H))
        bound = 1.0 / H ** 0.5  # PyTorch's U(-1/sqrt(H), 1/sqrt(H))
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound, generator=generator)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        check_tensor("x", x, floating=True, ndim=(1, 2))
        if h is None:
            h = x.new_zeros(*x.shape[:-1], self.hidden_size)  # (B, H)
        check_tensor("h", h, shape=(*x.shape[:-1], self.hidden_size))
        return rnn_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih,
                        self.bias_hh, self.nonlinearity)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, "
                f"nonlinearity={self.nonlinearity!r}")


def unroll(cell: Callable, x: torch.Tensor, h0=None):
    """Apply ``cell`` at every step of ``x (B, T, I)``: ``h_t = cell(x_t, h_{t-1})``.

    ``cell(x_t, state)`` returns the next state and takes ``None`` for zeros, as
    :class:`RNNCell` and ``nn.RNNCell`` do (a state may be a pair ``(h, c)``, as
    in an LSTM cell). Returns every ``h_t`` ``(B, T, H)`` and the last state.
    Raises ValueError unless ``x`` is 3-d with at least one step.
    """
    check_ndim("x", check_tensor("x", x, floating=True), (3,))
    if x.shape[1] == 0:
        raise ValueError(f"x must have at least one time step, got {tuple(x.shape)}")
    state, hs = h0, []
    for t in range(x.shape[1]):
        state = cell(x[:, t], state)  # (B, H), or a pair (h, c)
        hs.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(hs, dim=1), state  # (B, T, H), the last state


class RNN(nn.Module):
    """A one-layer simple RNN, like ``nn.RNN(input_size, hidden_size,
    batch_first=True)``, with its parameter names (``weight_ih_l0``, ...).

    ``forward(x, h0)``: ``x (B, T, I)`` and ``h0 (1, B, H)`` (``None``: zeros)
    -> ``(output, h_n)``: every state ``(B, T, H)`` and the last ``(1, B, H)``.
    Raises ValueError for a wrong shape.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 *, generator: torch.Generator | None = None):
        super().__init__()
        cell = RNNCell(input_size, hidden_size, nonlinearity, generator=generator)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.nonlinearity = nonlinearity
        for name, p in cell.named_parameters():  # weight_ih -> weight_ih_l0, ...
            self.register_parameter(name + "_l0", p)

    def step(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One time step: ``x (B, I)`` and ``h (B, H)`` -> ``(B, H)``."""
        return rnn_step(x, h, self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0,
                        self.bias_hh_l0, self.nonlinearity)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        check_tensor("x", x, floating=True, ndim=(3,), last_dim=self.input_size)
        shape = (1, x.shape[0], self.hidden_size)  # (layers, batch, hidden_size)
        h0 = x.new_zeros(shape) if h0 is None else h0
        check_tensor("h0", h0, shape=shape)
        output, h_n = unroll(self.step, x, h0[0])  # (B, T, H), (B, H)
        return output, h_n[None]  # (B, T, H), (1, B, H)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, "
                f"nonlinearity={self.nonlinearity!r}, batch_first=True")


class PerStepMLP(nn.Module):
    """The naive sequence model: the same two-layer network applied to each
    time step on its own, ``y_hat_t = W_2 relu(W_1 x_t + b_1) + b_2``.

    ``forward(x)``: ``x (B, T, input_size)`` -> logits ``(B, T, output_size)``.
    Nothing flows from one step to the next. Raises ValueError for a size below 1
    or an ``x`` of another shape.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        for name, n in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("output_size", output_size)):
            check_positive_int(name, n)
        self.input_size = input_size
        self.net = nn.Sequential(nn.Linear(input_size, hidden_size), nn.ReLU(),
                                 nn.Linear(hidden_size, output_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, floating=True, ndim=(3,), last_dim=self.input_size)
        B, T, D = x.shape
        y = self.net(x.reshape(B * T, D))  # every step alone: a batch of B*T inputs
        return y.reshape(B, T, -1)  # (B, T, num_outputs)


class RNNTagger(nn.Module):
    """A simple RNN with a linear read-out at every step:
    ``h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)`` and ``y_hat_t = W_hy h_t + b_y``.

    ``forward(x)``: ``x (B, T, input_size)`` -> logits ``(B, T, output_size)``;
    ``self.rnn(x)[0]`` gives the hidden states ``(B, T, hidden_size)``.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        check_positive_int("output_size", output_size)
        self.rnn = RNN(input_size, hidden_size)  # checks the other sizes, and x
        self.readout = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hs, _ = self.rnn(x)  # (B, T, H)
        return self.readout(hs)  # (B, T, O)


class RNNLanguageModel(nn.Module):
    """Next-token model: embedding -> simple RNN -> a score for every token.

    ``forward(ids)``: ``ids (B, T)`` int64 -> logits ``(B, T, vocab_size)``;
    ``logits[b, t]`` scores the token that follows ``ids[b, :t + 1]``. The word
    vectors are the rows of ``self.embedding.weight`` ``(vocab_size, embed_dim)``;
    they start small (normal, standard deviation ``init_std``), so that what
    training writes into them outweighs the random start. Raises ValueError for
    a size below 1 or ``ids`` that are not a 2-d integer tensor (an id outside
    ``[0, vocab_size)`` gets ``nn.Embedding``'s IndexError).
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int,
                 init_std: float = 0.1):
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        check_positive_int("embed_dim", embed_dim)
        check_number("init_std", init_std, low=0, high=math.inf, high_open=True)
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        nn.init.normal_(self.embedding.weight, std=init_std)
        self.rnn = RNN(embed_dim, hidden_size)
        self.readout = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        check_tensor("ids", ids, ndim=(2,), dtype=(torch.int64, torch.int32))
        hs, _ = self.rnn(self.embedding(ids))  # (B, T, E) -> (B, T, H)
        return self.readout(hs)  # (B, T, V)


class LastStateModel(nn.Module):
    """A recurrent layer followed by a linear layer on its last hidden state.

    ``rnn`` maps ``X (B, T, I)`` to ``(output (B, T, H), state)``, as :class:`RNN`,
    ``nn.LSTM(..., batch_first=True)`` and the gated layers do. The linear layer
    ``(H -> out_features)`` starts with PyTorch's ``U(-1/sqrt(H), 1/sqrt(H))``,
    drawn from ``generator``. ``forward(X)``: ``(B, T, I)`` -> ``(B, out_features)``.
    """

    def __init__(self, rnn: nn.Module, hidden_size: int, out_features: int,
                 *, generator: torch.Generator | None = None):
        super().__init__()
        if not isinstance(rnn, nn.Module):
            raise TypeError(f"rnn must be an nn.Module, got {type(rnn).__name__}")
        self.rnn = rnn
        self.head = nn.Linear(check_positive_int("hidden_size", hidden_size),
                              check_positive_int("out_features", out_features))
        bound = 1.0 / hidden_size ** 0.5
        with torch.no_grad():
            for p in self.head.parameters():
                p.uniform_(-bound, bound, generator=generator)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(X)  # (B, T, H)
        last = output[:, -1]  # (B, H): the state after the last step
        check_tensor("the rnn's last state", last, last_dim=self.head.in_features)
        return self.head(last)  # (B, out_features)


def scaled_orthogonal(n: int, sigma: float, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A random ``(n, n)`` matrix whose singular values all equal ``sigma``:
    ``sigma`` times a random orthogonal matrix (uniform over the orthogonal group).
    Raises ValueError for ``n < 1`` or ``sigma < 0``."""
    check_positive_int("n", n)
    check_number("sigma", sigma, low=0)
    A = torch.randn(n, n, generator=generator, dtype=torch.float64)
    Q, R = torch.linalg.qr(A)
    return (sigma * Q * torch.sign(torch.diagonal(R))).to(dtype)  # (n, n)
