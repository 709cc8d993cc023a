"""Linear recurrences, step by step and by a parallel scan (chapter "Recurrences
that parallelise").

A linear recurrence ``h_t = a_t * h_{t-1} + b_t`` (element-wise) is the core of
state-space models and their successors (S4, LRU, Mamba). Unlike the recurrent
networks of the earlier chapters it has no non-linearity between steps, and so
each step is an affine map ``h -> a_t * h + b_t``. Affine maps compose into
affine maps, and composing is associative, so the ``T`` maps can be combined
in a tree: ``ceil(log2 T)`` rounds of whole-tensor operations instead of ``T``
steps one after another (Blelloch 1990; Martin and Cundy 2018).

- :func:`linear_recurrence`: the loop, ``T`` sequential steps;
- :func:`parallel_linear_recurrence`: the same states by a Hillis-Steele scan;
- :class:`GatedLinearRecurrence`: a layer whose gate depends on the input only,
  so that it trains with the scan.

Tensors are batch first: ``a``, ``b`` and the states are ``(B, T, *)``.
"""

from typing import NamedTuple

import torch
from torch import nn

from introdl.checks import check_positive_int, check_tensor

__all__ = ["Scan", "check_recurrence", "linear_recurrence",
           "parallel_linear_recurrence", "GatedLinearRecurrence"]


class Scan(NamedTuple):
    """The states of a linear recurrence and the number of sequential rounds
    of tensor operations that computed them."""

    h: torch.Tensor  # (B, T, *): h_1, ..., h_T
    steps: int


def check_recurrence(a: torch.Tensor, b: torch.Tensor,
                     h0: torch.Tensor | None = None) -> None:
    """Raise unless ``a`` and ``b`` are tensors of one shape ``(B, T, *)`` with
    ``T >= 1`` and ``h0`` is ``None`` or ``(B, *)``."""
    check_tensor("a", a)
    check_tensor("b", b)
    if a.shape != b.shape or a.ndim < 2 or a.shape[1] == 0:
        raise ValueError(f"a and b must have one shape (B, T >= 1, ...), got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if h0 is not None and check_tensor("h0", h0).shape != a[:, 0].shape:
        raise ValueError(f"h0 must have shape {tuple(a[:, 0].shape)}, got "
                         f"{tuple(h0.shape)}")


def linear_recurrence(a: torch.Tensor, b: torch.Tensor,
                      h0: torch.Tensor | None = None) -> Scan:
    """``h_t = a_t * h_{t-1} + b_t`` for ``t = 1 .. T``, one step after another.

    Args:
        a, b: ``(B, T, *)``, the same shape, ``T >= 1``.
        h0: ``(B, *)``, the state before the first step; zeros if ``None``.
    Returns:
        ``Scan(h, steps)``: every state ``h`` ``(B, T, *)`` and ``steps = T``.
    Raises:
        ValueError: if the shapes do not fit.
    """
    check_recurrence(a, b, h0)
    h = torch.zeros_like(b[:, 0]) if h0 is None else h0  # (B, *)
    hs = []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]  # must wait for h_{t-1}
        hs.append(h)
    return Scan(torch.stack(hs, dim=1), steps=a.shape[1])  # (B, T, *)


def parallel_linear_recurrence(a: torch.Tensor, b: torch.Tensor,
                               h0: torch.Tensor | None = None) -> Scan:
    """The states of :func:`linear_recurrence` by a parallel (Hillis-Steele) scan.

    Position ``t`` holds an affine map ``h -> A_t * h + B_t``: at first the
    step ``t`` itself; after the round with offset ``d`` the composition of
    steps ``t - 2d + 1 .. t``. Each round composes every position with the
    one ``d`` to its left, all at once. After ``ceil(log2 T)`` rounds
    ``h_t = A_t * h0 + B_t``.

    Args and raises as :func:`linear_recurrence`.
    Returns:
        ``Scan(h, steps)`` with ``steps = ceil(log2 T)`` rounds.
    """
    check_recurrence(a, b, h0)
    A, B, d, steps = a, b, 1, 0
    while d < a.shape[1]:
        # first apply the map at t - d, then the map at t (positions t < d stay)
        A, B = (torch.cat([A[:, :d], A[:, d:] * A[:, :-d]], dim=1),
                torch.cat([B[:, :d], A[:, d:] * B[:, :-d] + B[:, d:]], dim=1))
        d, steps = 2 * d, steps + 1
    h = B if h0 is None else A * h0.unsqueeze(1) + B  # (B, T, *)
    return Scan(h, steps)


class GatedLinearRecurrence(nn.Module):
    """``h_t = a_t * h_{t-1} + (1 - a_t) * u_t``, where the gate
    ``a_t = sigmoid(W_a x_t + b_a)`` and the candidate ``u_t = W_u x_t + b_u``
    depend on the input ``x_t`` only, never on ``h_{t-1}``.

    Input ``x``: ``(B, T, input_size)``; output: every state ``(B, T, hidden_size)``.
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        check_positive_int("input_size", input_size)
        check_positive_int("hidden_size", hidden_size)
        self.gate = nn.Linear(input_size, hidden_size)
        self.candidate = nn.Linear(input_size, hidden_size)

    def forward(self, x: torch.Tensor, parallel: bool = True) -> torch.Tensor:
        a = torch.sigmoid(self.gate(x))  # (B, T, H): how much of h_{t-1} to keep
        b = (1 - a) * self.candidate(x)  # (B, T, H)
        recurrence = parallel_linear_recurrence if parallel else linear_recurrence
        return recurrence(a, b).h
