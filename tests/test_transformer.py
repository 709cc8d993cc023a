import pytest
import torch
import torch.nn.functional as F

from introdl import corpus, text
from introdl.losses import sequence_cross_entropy
from introdl.training import fit
from introdl.transformer import (LayerNorm, TinyGPT, TransformerBlock, causal_mask,
                                 draw_gpt, draw_transformer_block, generate,
                                 layer_norm, plot_mask, pronoun_attention, sample,
                                 sentence_examples)

DT = torch.float64


def test_layer_norm_matches_torch_values_and_gradients():
    g = torch.Generator().manual_seed(0)
    x = (3 * torch.randn(4, 5, 6, generator=g, dtype=DT) + 2).requires_grad_()
    w = torch.randn(6, generator=g, dtype=DT, requires_grad=True)
    b = torch.randn(6, generator=g, dtype=DT, requires_grad=True)
    ours, theirs = layer_norm(x, w, b), F.layer_norm(x, (6,), w, b)
    torch.testing.assert_close(ours, theirs)
    up = torch.randn_like(ours)
    for a, c in zip(torch.autograd.grad(ours, (x, w, b), up),
                    torch.autograd.grad(theirs, (x, w, b), up)):
        torch.testing.assert_close(a, c)
    plain = layer_norm(x)
    torch.testing.assert_close(plain.mean(-1), torch.zeros(4, 5, dtype=DT))
    ln = torch.nn.LayerNorm(6, dtype=DT)
    ours_ln = LayerNorm(6).double()
    ours_ln.load_state_dict(ln.state_dict())
    torch.testing.assert_close(ours_ln(x), ln(x))


def test_causal_mask_matches_torch_convention():
    m = causal_mask(5)
    assert m.dtype == torch.bool and m.shape == (5, 5)
    torch.testing.assert_close(
        m, torch.nn.Transformer.generate_square_subsequent_mask(5) == 0)
    with pytest.raises(ValueError, match="seq_len must be > 0"):
        causal_mask(0)


@pytest.mark.parametrize("norm_first", [True, False])
def test_block_matches_torch_encoder_layer(norm_first):
    torch.manual_seed(0)
    ref = torch.nn.TransformerEncoderLayer(16, 4, 24, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=norm_first,
                                           dtype=DT)
    for p in ref.parameters():
        torch.nn.init.normal_(p, std=0.3)
    ours = TransformerBlock(16, 4, 24, norm_first=norm_first).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 7, 16, dtype=DT, requires_grad=True)
    mask = causal_mask(7)
    out, w = ours(x, mask=mask)
    expected = ref(x, src_mask=~mask)
    torch.testing.assert_close(out, expected)
    assert w.shape == (3, 4, 7, 7) and torch.all(w.triu(1) == 0)
    up = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad(out, [x, *ours.parameters()], up),
                    torch.autograd.grad(expected, [x, *ref.parameters()], up)):
        torch.testing.assert_close(a, b)


def test_gpt_shapes_and_weights():
    model = TinyGPT(11, context_len=8, d_model=16, num_heads=4, num_layers=3)
    ids = torch.randint(0, 11, (2, 6))
    logits, weights = model(ids, return_weights=True)
    assert logits.shape == (2, 6, 11)
    assert len(weights) == 3 and all(w.shape == (2, 4, 6, 6) for w in weights)
    torch.testing.assert_close(weights[0].sum(-1), torch.ones(2, 4, 6))
    torch.testing.assert_close(model(ids), logits)
    with pytest.raises(ValueError, match=r"T <= 8, got \(2, 9\)"):
        model(torch.zeros(2, 9, dtype=torch.long))


def test_gpt_is_causal():
    torch.manual_seed(0)
    model = TinyGPT(13, context_len=10, d_model=16, num_heads=2, num_layers=2).double()
    ids = torch.randint(0, 13, (1, 10))
    changed = ids.clone()
    changed[0, 6:] = (ids[0, 6:] + 1) % 13  # change tokens 6..9
    a, b = model(ids), model(changed)
    torch.testing.assert_close(a[:, :6], b[:, :6])  # outputs 0..5 unchanged
    assert not torch.allclose(a[:, 6:], b[:, 6:])
    # and the gradient of output t with respect to later inputs is zero
    x = model.tok_emb(ids).detach().requires_grad_()
    out = x + model.pos_emb.weight[:10]
    for block in model.blocks:
        out, _ = block(out, mask=causal_mask(10))
    (grad,) = torch.autograd.grad(out[0, 4].sum(), x)
    assert torch.all(grad[0, 5:] == 0) and torch.any(grad[0, :5] != 0)


def test_generate_is_seeded_and_respects_context():
    torch.manual_seed(0)
    model = TinyGPT(7, context_len=4, d_model=8, num_heads=2, num_layers=1)
    start = torch.zeros(2, 1, dtype=torch.long)
    a = generate(model, start, 9, generator=torch.Generator().manual_seed(1))
    b = generate(model, start, 9, generator=torch.Generator().manual_seed(1))
    assert a.shape == (2, 10) and torch.equal(a, b) and a.max() < 7
    assert model.training  # the mode is restored
    with pytest.raises(ValueError, match="temperature"):
        generate(model, start, 3, temperature=0.0)


def test_tiny_gpt_learns_the_corpus():
    sentences = corpus.generate_sentences(300, seed=0)
    tokens = text.tokenize(" ".join(sentences))
    vocab = text.Vocab.build(tokens)
    X, Y = text.lm_windows(vocab.encode(tokens), seq_len=12, stride=6)
    torch.manual_seed(0)
    model = TinyGPT(len(vocab), context_len=12, d_model=24, num_heads=2, num_layers=1)
    history = fit(model, (X, Y), loss_fn=sequence_cross_entropy,
                  optimizer=torch.optim.Adam(model.parameters(), lr=1e-2),
                  num_epochs=6, batch_size=32,
                  generator=torch.Generator().manual_seed(0))
    uniform = torch.log(torch.tensor(float(len(vocab)))).item()
    assert history.train_loss[0] > 0.6 * uniform
    assert history.train_loss[-1] < 0.5 * uniform
    out = sample(model, vocab, "bob", 12, seed=3)
    assert out.startswith("bob") and out == sample(model, vocab, "bob", 12, seed=3)
    with pytest.raises(ValueError, match="prompt"):
        sample(model, vocab, "", 3)


def test_figures_return_figures():
    import matplotlib.figure

    figs = [draw_transformer_block(), draw_gpt(3),
            plot_mask(causal_mask(4), list("abcd"))]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)


def test_sentence_examples_shift_and_ignore_padding():
    vocab = text.Vocab.build(text.tokenize("bob eats the cake . alice is happy ."))
    X, Y = sentence_examples(["bob eats the cake .", "alice is happy ."], vocab)
    assert X.shape == Y.shape == (2, 4)
    assert vocab.decode(X[0]) == ["bob", "eats", "the", "cake"]
    assert vocab.decode(Y[0]) == ["eats", "the", "cake", "."]
    assert Y[1].tolist()[-1] == -100 and vocab.decode(Y[1][:3]) == ["is", "happy", "."]


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
