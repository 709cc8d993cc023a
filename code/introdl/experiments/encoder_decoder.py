"""Experiments of the chapter "Encoder-decoder and cross-attention".

A small :class:`~introdl.seq2seq.EncoderDecoder` learns to reverse strings of
letters (:func:`introdl.tasks.reversal_task`), a task whose correct
cross-attention is known: output letter ``t`` must read input letter
``L - 1 - t``, the anti-diagonal (:func:`introdl.tasks.reversal_alignment`).
"""

import string
import time
from dataclasses import dataclass, field

import torch

from introdl.checks import check_positive_int
from introdl.losses import sequence_accuracy, sequence_cross_entropy
from introdl.seq2seq import EncoderDecoder, greedy_decode
from introdl.tasks import reversal_task
from introdl.training import eval_mode, iterate_minibatches

__all__ = ["PAD_ID", "BOS_ID", "EOS_ID", "reversal_data", "to_letters",
           "exact_match", "ReversalResult", "train_reverser", "cross_attention_map"]

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2  #: ids of padding, begin and end of sequence
_FIRST = 3  # id of the first letter


def reversal_data(n: int, seq_len: int = 8, num_symbols: int = 10, seed: int = 0):
    """The reversal task in encoder-decoder form.

    The source is a random string of ``seq_len`` letters (ids ``3 ..``), the
    target the same letters reversed, then ``<eos>``. With teacher forcing
    the decoder reads ``<bos>`` and the target so far (``tgt_in``) and must
    predict the next token (``tgt_out``).

    Returns:
        ``(src, tgt_in, tgt_out)``: int64 ``(n, L)``, ``(n, L + 1)``,
        ``(n, L + 1)``.
    """
    X, Y = reversal_task(n, seq_len, num_symbols, seed=seed)  # (n, L) each
    bos = torch.full((n, 1), BOS_ID)
    eos = torch.full((n, 1), EOS_ID)
    return X + _FIRST, torch.cat([bos, Y + _FIRST], 1), torch.cat([Y + _FIRST, eos], 1)


def to_letters(ids) -> list[str]:
    """Readable tokens of ``ids``: letters, and ``<pad>``/``<bos>``/``<eos>``."""
    names = {PAD_ID: "<pad>", BOS_ID: "<bos>", EOS_ID: "<eos>"}
    ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
    return [names.get(i) or string.ascii_lowercase[i - _FIRST] for i in ids]


def exact_match(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """Share of rows of ``predicted`` ``(n, T1)`` equal to ``target`` ``(n, T2)``
    in their first ``T2`` tokens (a row shorter than ``T2`` does not match)."""
    if predicted.shape[1] < target.shape[1]:
        return 0.0
    return (predicted[:, :target.shape[1]] == target).all(dim=1).float().mean().item()


@dataclass
class ReversalResult:
    """What :func:`train_reverser` returns: the model, the mean training loss
    per epoch, the test sources and their greedy outputs, the test token
    accuracy with teacher forcing, the share of test strings that greedy
    decoding reverses exactly, and the training time in seconds."""

    model: EncoderDecoder
    train_loss: list[float] = field(default_factory=list)
    test_src: torch.Tensor | None = None
    test_output: torch.Tensor | None = None
    token_accuracy: float = 0.0
    exact_match: float = 0.0
    seconds: float = 0.0


def train_reverser(n_train: int = 2000, seq_len: int = 8, num_symbols: int = 10,
                   num_epochs: int = 4, d_model: int = 32, num_heads: int = 2,
                   num_layers: int = 1, batch_size: int = 32, lr: float = 3e-3,
                   seed: int = 0) -> ReversalResult:
    """Train an :class:`~introdl.seq2seq.EncoderDecoder` on
    :func:`reversal_data` with teacher forcing and Adam, then decode 500 test
    strings (seed ``seed + 1``) greedily."""
    check_positive_int("num_epochs", num_epochs)
    src, tgt_in, tgt_out = reversal_data(n_train, seq_len, num_symbols, seed)
    with torch.random.fork_rng():  # the initial weights come from seed
        torch.manual_seed(seed)
        model = EncoderDecoder(num_symbols + _FIRST, max_len=seq_len + 1,
                               d_model=d_model, num_heads=num_heads,
                               num_layers=num_layers, pad_id=PAD_ID)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    result = ReversalResult(model)
    start = time.perf_counter()
    for _ in range(num_epochs):  # teacher forcing: the decoder reads the truth
        total = 0.0
        for idx in iterate_minibatches(len(src), batch_size, gen):
            optimizer.zero_grad()
            loss = sequence_cross_entropy(model(src[idx], tgt_in[idx]), tgt_out[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        result.train_loss.append(total / len(src))
    result.seconds = time.perf_counter() - start
    test_src, test_in, test_out = reversal_data(500, seq_len, num_symbols, seed + 1)
    with eval_mode(model), torch.no_grad():
        result.token_accuracy = sequence_accuracy(model(test_src, test_in), test_out)
    result.test_src = test_src
    result.test_output = greedy_decode(model, test_src, BOS_ID, EOS_ID)
    result.exact_match = exact_match(result.test_output, test_out)
    return result


@torch.no_grad()
def cross_attention_map(model: EncoderDecoder, src: torch.Tensor):
    """The cross-attention of ``model`` while it decodes ``src`` ``(S,)``.

    Decodes greedily up to the first ``<eos>``, then runs the decoder once
    more on its own output to read the weights.

    Returns:
        ``(weights, output)``: weights ``(layers, heads, T, S)`` from the
        ``T`` output tokens (rows) to the ``S`` source tokens (columns), and
        the output ids ``(T,)``, ending with ``<eos>`` if it was written.
    """
    out = greedy_decode(model, src[None], BOS_ID, EOS_ID)[0]  # (T_max,)
    stop = (out == EOS_ID).nonzero()
    out = out[: int(stop[0]) + 1] if len(stop) else out  # up to the first <eos>
    tgt_in = torch.cat([torch.tensor([BOS_ID]), out[:-1]])[None]  # (1, T)
    with eval_mode(model):
        _, weights = model(src[None], tgt_in, return_weights=True)
    return torch.stack([w[0] for w in weights]), out
