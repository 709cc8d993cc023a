"""Decoding a language model, and measuring it with perplexity.

A language model gives, at each step, a score (logit) for every token of the
vocabulary. *Decoding* is the rule that turns these scores into the next
token:

- :func:`next_token` with ``temperature=0``: greedy decoding, the arg-max;
- with ``temperature > 0``: sampling from ``softmax(logits / temperature)``,
  optionally restricted to the ``top_k`` best tokens (:func:`top_k_filter`)
  or to the nucleus of most probable tokens whose probabilities sum to
  ``top_p`` (:func:`top_p_filter`, Holtzman et al., 2020);
- :func:`sample_sequence`: the loop that extends a prompt token by token.

:func:`perplexity` is the standard measure of a language model: the
exponential of the mean cross-entropy per token. Every random choice takes a
``torch.Generator``, so the same seed gives the same text.
"""

import math

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.training import eval_mode

__all__ = ["top_k_filter", "top_p_filter", "next_token", "sample_sequence",
           "perplexity"]


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest logits of each row, set the others to ``-inf``.

    ``logits``: ``(..., V)`` -> ``(..., V)``. Logits tied with the ``k``-th
    largest are kept too; ``k >= V`` keeps everything.
    """
    check_tensor("logits", logits, floating=True)
    k = min(check_positive_int("k", k), logits.shape[-1])
    kth = logits.topk(k, dim=-1).values[..., -1:]  # (..., 1): the k-th largest
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering: keep the fewest most probable tokens whose
    probabilities sum to at least ``p``; set the other logits to ``-inf``.

    ``logits``: ``(..., V)`` -> ``(..., V)``; ``p`` in ``(0, 1]``. The most
    probable token is always kept; ``p = 1`` keeps everything.
    """
    check_tensor("logits", logits, floating=True)
    check_number("p", p, low=0, low_open=True, high=1)
    sorted_logits, order = logits.sort(dim=-1, descending=True, stable=True)
    probs = sorted_logits.softmax(dim=-1)  # (..., V), most probable first
    before = probs.cumsum(dim=-1) - probs  # (..., V): mass of the better tokens
    drop_sorted = (before >= p) & (p < 1)  # p already reached without this token
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)  # (..., V)
    return logits.masked_fill(drop, float("-inf"))


def next_token(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Choose the next token from the ``logits`` ``(..., V)`` of each row.

    ``temperature=0`` is greedy decoding (the arg-max). Otherwise the logits
    are divided by ``temperature``, filtered by ``top_k`` and then ``top_p``
    (if given), and one token is drawn from their softmax with ``generator``.

    Returns:
        int64 token ids ``(...)``.
    """
    if check_tensor("logits", logits, floating=True).isnan().any():
        raise ValueError("logits must not hold NaN")
    if check_number("temperature", temperature, low=0) == 0:
        return logits.argmax(dim=-1)  # greedy
    logits = logits / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    probs = logits.softmax(dim=-1).reshape(-1, logits.shape[-1])  # (N, V)
    ids = torch.multinomial(probs, 1, generator=generator)  # (N, 1)
    return ids.reshape(logits.shape[:-1])


@torch.no_grad()
def sample_sequence(model: nn.Module, ids: torch.Tensor, num_tokens: int, *,
                    temperature: float = 1.0, top_k: int | None = None,
                    top_p: float | None = None,
                    generator: torch.Generator | None = None,
                    stop_id: int | None = None) -> torch.Tensor:
    """Extend the prompts ``ids`` ``(B, T0)`` by ``num_tokens`` tokens.

    ``model`` maps ``(B, T)`` ids to logits ``(B, T, V)`` (a language model
    such as ``TinyGPT``); each new token comes from :func:`next_token` on the
    logits at the last position. A row that has written ``stop_id`` keeps
    writing it; the loop ends early once every row has.

    Returns:
        ``(B, T0 + n)`` ids with ``n <= num_tokens``.
    """
    check_tensor("ids", ids)
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"ids must be (B, T0) with T0 >= 1, got {tuple(ids.shape)}")
    check_positive_int("num_tokens", num_tokens)
    done = torch.zeros(len(ids), dtype=torch.bool, device=ids.device)  # (B,)
    with eval_mode(model):
        for _ in range(num_tokens):
            logits = model(ids)[:, -1]  # (B, V): scores of the next token
            new = next_token(logits, temperature, top_k, top_p, generator)  # (B,)
            if stop_id is not None:
                new = new.masked_fill(done, stop_id)
                done |= new == stop_id
            ids = torch.cat([ids, new[:, None]], dim=1)
            if done.all():
                break
    return ids


def perplexity(logits: torch.Tensor, targets: torch.Tensor,
               ignore_index: int = -100) -> float:
    """``exp`` of the mean cross-entropy per token (in nats).

    Args:
        logits: ``(..., V)``; targets: ``(...)`` int64 token ids; positions
            whose target is ``ignore_index`` (e.g. padding) are skipped, as in
            ``torch.nn.functional.cross_entropy``.
    Raises:
        ValueError: if the shapes disagree or no target is left.
    """
    check_tensor("logits", logits, floating=True)
    if check_tensor("targets", targets).shape != logits.shape[:-1]:
        raise ValueError(f"targets must be logits.shape[:-1], got {targets.shape}")
    keep = targets != ignore_index  # (...): the tokens to score
    if not keep.any():
        raise ValueError("targets hold no token to score (all are ignore_index)")
    log_probs = logits[keep].log_softmax(dim=-1)  # (N, V)
    true = targets[keep][:, None]  # (N, 1): the tokens that came next
    nll = -log_probs.gather(-1, true)  # (N, 1): -log p(x_t | x_<t)
    cross_entropy = nll.mean()  # nats per token: the training loss
    return math.exp(cross_entropy.item())
