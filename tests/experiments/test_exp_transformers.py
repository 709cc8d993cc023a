"""Experiments of the chapter "Transformers"."""

import pytest
import torch

from introdl import text
from introdl.experiments.transformers import (
    GPT2_SMALL,
    StreamScale,
    gpt_parameter_count,
    pronoun_attention,
    residual_stream_scale,
    sentence_examples,
    stream_rms,
)
from introdl.training import eval_mode, parameter_count
from introdl.transformer import TinyGPT, causal_mask


def test_sentence_examples_shift_and_ignore_padding():
    vocab = text.Vocab.build(text.tokenize("bob eats the cake . alice is happy ."))
    X, Y = sentence_examples(["bob eats the cake .", "alice is happy ."], vocab)
    assert X.shape == Y.shape == (2, 4) and X.dtype == Y.dtype == torch.long
    assert vocab.decode(X[0]) == ["bob", "eats", "the", "cake"]
    assert vocab.decode(Y[0]) == ["eats", "the", "cake", "."]
    assert Y[1].tolist()[-1] == -100 and vocab.decode(Y[1][:3]) == ["is", "happy", "."]
    X2, Y2 = sentence_examples(iter(["bob eats the cake .", "alice is happy ."]), vocab)
    assert torch.equal(X, X2) and torch.equal(Y, Y2)  # any iterable of strings


def test_sentence_examples_misuse():
    vocab = text.Vocab.build(text.tokenize("bob eats ."))
    with pytest.raises(TypeError, match="sentences must be a list of strings"):
        sentence_examples("bob eats .", vocab)
    no_pad = text.Vocab(["<unk>", "bob"], pad_token=None)
    with pytest.raises(ValueError, match="padding token"):
        sentence_examples(["bob"], no_pad)


def test_attention_summaries_pick_out_the_right_heads():
    vocab = text.Vocab.build(text.tokenize("bob walks and he runs . the cat . she"))
    X, _ = sentence_examples(["bob walks and he runs .", "the cat ."], vocab)
    model = TinyGPT(len(vocab), context_len=X.shape[1], d_model=8, num_heads=2,
                    num_layers=1)
    with torch.no_grad():
        _, (w,) = model(X, return_weights=True)
    to_name = pronoun_attention(model, X, vocab)
    assert to_name.shape == (1, 2)
    torch.testing.assert_close(to_name[0], w[0, :, 2, 0])  # row 0: "and" at position 2
    with pytest.raises(ValueError, match="and she"):
        pronoun_attention(model, X[1:], vocab)


def test_residual_stream_grows_with_depth_in_pre_norm_only():
    state = torch.random.get_rng_state()
    scale = residual_stream_scale(num_layers=6, d_model=16, num_heads=2, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)  # global RNG untouched
    assert isinstance(scale, StreamScale)
    assert len(scale.pre_norm) == len(scale.post_norm) == 7  # input + 6 blocks
    assert scale.pre_norm[0] == scale.post_norm[0]  # the same input
    assert all(b > a for a, b in zip(scale.pre_norm, scale.pre_norm[1:]))
    # post-norm: each block ends with a layer norm (weight 1, bias 0 at first)
    assert all(abs(r - 1) < 1e-3 for r in scale.post_norm[1:])
    assert residual_stream_scale(num_layers=6, d_model=16, num_heads=2,
                                 seed=0) == scale  # seeded
    with pytest.raises(ValueError, match="num_layers"):
        residual_stream_scale(num_layers=0)


def test_stream_rms_follows_the_residual_stream_of_a_gpt():
    torch.manual_seed(0)
    model = TinyGPT(9, context_len=6, d_model=8, num_heads=2, num_layers=3,
                    dropout=0.5)
    ids = torch.randint(0, 9, (4, 6))
    rms = stream_rms(model, ids)
    assert len(rms) == 4 and model.training  # embeddings + 3 blocks; mode restored
    x = model.tok_emb(ids) + model.pos_emb.weight
    assert rms[0] == pytest.approx(x.pow(2).mean().sqrt().item())
    with eval_mode(model):  # no dropout: the stream is deterministic
        for block, r in zip(model.blocks, rms[1:]):
            x, _ = block(x, mask=causal_mask(6))
            assert r == pytest.approx(x.pow(2).mean().sqrt().item())


@pytest.mark.parametrize("config", [
    dict(vocab_size=11, context_len=7, d_model=8, num_heads=2, num_layers=3),
    dict(vocab_size=11, context_len=7, d_model=8, num_layers=1, d_ff=5,
         tie_weights=True, dropout=0.1),
])
def test_gpt_parameter_count_equals_the_built_model(config):
    assert gpt_parameter_count(**config) == parameter_count(TinyGPT(**config))


def test_gpt2_small_has_124_million_parameters():
    # the released model's count (openai/gpt-2: "124M"); the block formula of the
    # chapter's exercise, summed: embeddings + 12 blocks + final norm, head tied
    d, V, ctx, d_ff = 768, 50257, 1024, 3072
    block = 4 * d * d + 2 * d * d_ff + 9 * d + d_ff
    assert gpt_parameter_count(**GPT2_SMALL) == (V + ctx) * d + 12 * block + 2 * d
    assert gpt_parameter_count(**GPT2_SMALL) == 124_439_808
    untied = gpt_parameter_count(**{**GPT2_SMALL, "tie_weights": False})
    assert untied - gpt_parameter_count(**GPT2_SMALL) == V * d
    with pytest.raises(TypeError):
        gpt_parameter_count(**GPT2_SMALL, width=3)  # a typo is not ignored
