"""Experiments of the chapter "Encoder-decoder and cross-attention"."""

import pytest
import torch

from introdl.experiments.encoder_decoder import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    cross_attention_map,
    exact_match,
    reversal_data,
    to_letters,
    train_reverser,
)
from introdl.seq2seq import EncoderDecoder
from introdl.tasks import reversal_alignment


def test_reversal_data_shifts_the_target_for_teacher_forcing():
    src, tgt_in, tgt_out = reversal_data(5, seq_len=4, num_symbols=3, seed=0)
    assert src.shape == (5, 4) and tgt_in.shape == tgt_out.shape == (5, 5)
    assert torch.all(tgt_in[:, 0] == BOS_ID) and torch.all(tgt_out[:, -1] == EOS_ID)
    assert torch.equal(tgt_out[:, :-1], src.flip(1))  # the reversed source ...
    assert torch.equal(tgt_in[:, 1:], tgt_out[:, :-1])  # ... read one step late
    assert src.min() >= 3 and src.max() <= 5  # letters never collide with specials
    again = reversal_data(5, seq_len=4, num_symbols=3, seed=0)
    assert all(torch.equal(a, b) for a, b in zip((src, tgt_in, tgt_out), again))


def test_to_letters():
    assert to_letters(torch.tensor([BOS_ID, 3, 4, 28, EOS_ID, PAD_ID])) == [
        "<bos>", "a", "b", "z", "<eos>", "<pad>"]
    assert to_letters([5]) == ["c"]


def test_exact_match_counts_whole_rows():
    target = torch.tensor([[5, 6, 2], [7, 8, 2]])
    assert exact_match(target, target) == 1.0
    assert exact_match(torch.tensor([[5, 6, 2, 2], [7, 9, 2, 2]]), target) == 0.5
    assert exact_match(target[:, :2], target) == 0.0  # stopped too early


def test_cross_attention_map_shapes_and_rows():
    torch.manual_seed(0)
    model = EncoderDecoder(13, max_len=7, d_model=8, num_heads=2, num_layers=2)
    src = torch.tensor([3, 4, 5, 6, 7, 8])
    weights, out = cross_attention_map(model, src)
    T = len(out)
    assert weights.shape == (2, 2, T, 6) and 1 <= T <= 7
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, T))
    if (out == EOS_ID).any():
        assert out[-1] == EOS_ID and (out == EOS_ID).sum() == 1


@pytest.mark.slow
def test_train_reverser_learns_the_anti_diagonal():
    run = train_reverser(n_train=1000, num_epochs=4, seed=0)
    assert run.train_loss[-1] < 0.1 < run.train_loss[0]
    assert run.token_accuracy > 0.95 and run.exact_match > 0.9
    assert run.test_output.shape[0] == 500
    weights, out = cross_attention_map(run.model, run.test_src[0])
    on_target = (weights[0, :, :8] * reversal_alignment(8)).sum(-1).mean()
    assert on_target > 0.6  # chance would be 1/8


@pytest.mark.slow
def test_train_reverser_is_reproducible():
    a, b = (train_reverser(n_train=200, num_epochs=1, seed=3) for _ in range(2))
    assert a.train_loss == b.train_loss and torch.equal(a.test_output, b.test_output)
    c = train_reverser(n_train=200, num_epochs=1, seed=4)
    assert c.train_loss != a.train_loss


def test_train_reverser_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        train_reverser(num_epochs=0)
    with pytest.raises(ValueError, match="seq_len must be >= 2"):
        train_reverser(seq_len=1)
