import pytest
import torch
import torch.nn.functional as F

from introdl.attention import MultiHeadAttention
from introdl.seq2seq import (
    DecoderBlock,
    EncoderDecoder,
    cross_attention,
    greedy_decode,
    padding_mask,
)
from introdl.transformer import TransformerBlock, causal_mask

DT = torch.float64


def randomize(module, std=0.3, seed=0):
    """Random, non-trivial weights (biases and norms too), so no bug can hide."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(std * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def test_cross_attention_matches_torch_sdpa_and_reads_only_memory():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(2, 5, 8, generator=g, dtype=DT)  # target: 5 positions
    memory = torch.randn(2, 7, 8, generator=g, dtype=DT)  # source: 7 positions
    W_q, W_k = (torch.randn(8, 4, generator=g, dtype=DT) for _ in range(2))
    W_v = torch.randn(8, 6, generator=g, dtype=DT)
    out, weights = cross_attention(y, memory, W_q, W_k, W_v)
    assert out.shape == (2, 5, 6) and weights.shape == (2, 5, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 5, dtype=DT))
    expected = F.scaled_dot_product_attention(y @ W_q, memory @ W_k, memory @ W_v)
    torch.testing.assert_close(out, expected)
    # the values come from the memory only: the same memory, another target
    y2 = torch.randn(2, 5, 8, generator=g, dtype=DT)
    out2, _ = cross_attention(y2, memory, W_q, W_k, W_v)
    span = memory @ W_v  # every output lies in the span of the memory's values
    assert (out2.amin(1) >= span.amin(1) - 1e-12).all()
    assert (out2.amax(1) <= span.amax(1) + 1e-12).all()


def test_cross_attention_mask_blocks_source_positions():
    g = torch.Generator().manual_seed(1)
    y, memory = torch.randn(1, 3, 4, generator=g), torch.randn(1, 5, 4, generator=g)
    eye = torch.eye(4)
    mask = torch.tensor([True, True, False, True, False])  # (S,)
    _, weights = cross_attention(y, memory, eye, eye, eye, mask=mask)
    assert torch.all(weights[..., ~mask] == 0)


def test_multi_head_attention_does_cross_attention_like_torch():
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(16, 4, batch_first=True, dtype=DT)
    randomize(ref)
    ours = MultiHeadAttention(16, 4).double()
    ours.load_state_dict(ref.state_dict())
    y = torch.randn(2, 5, 16, dtype=DT)
    memory = torch.randn(2, 9, 16, dtype=DT)
    out, w = ours(y, memory)
    ref_out, ref_w = ref(y, memory, memory, average_attn_weights=False)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(w, ref_w)


@pytest.mark.parametrize("norm_first", [True, False])
def test_decoder_block_matches_torch_decoder_layer(norm_first):
    ref = torch.nn.TransformerDecoderLayer(16, 4, 24, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=norm_first,
                                           dtype=DT)
    randomize(ref)
    ours = DecoderBlock(16, 4, 24, norm_first=norm_first).double()
    ours.load_state_dict(ref.state_dict())  # strict: every name and shape matches
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 7, 16, generator=g, dtype=DT, requires_grad=True)
    memory = torch.randn(3, 5, 16, generator=g, dtype=DT, requires_grad=True)
    keep = torch.ones(3, 5, dtype=torch.bool)
    keep[0, 3:] = False  # the first source is padded after 3 tokens
    mask = causal_mask(7)
    out, self_w, cross_w = ours(x, memory, mask=mask, memory_mask=keep[:, None, None])
    theirs = ref(x, memory, tgt_mask=~mask, memory_key_padding_mask=~keep)
    torch.testing.assert_close(out, theirs)
    up = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad(out, (x, memory), up),
                    torch.autograd.grad(theirs, (x, memory), up)):
        torch.testing.assert_close(a, b)
    assert self_w.shape == (3, 4, 7, 7) and torch.all(self_w.triu(1) == 0)
    assert cross_w.shape == (3, 4, 7, 5) and torch.all(cross_w[0, ..., 3:] == 0)


def test_decoder_block_is_an_encoder_block_plus_cross_attention():
    block = DecoderBlock(8, 2)
    assert isinstance(block, TransformerBlock)
    extra = set(block.state_dict()) - set(TransformerBlock(8, 2).state_dict())
    assert {k.split(".")[0] for k in extra} == {"multihead_attn", "norm3"}


def test_decoder_block_rejects_bad_memory():
    block = DecoderBlock(8, 2)
    x = torch.randn(2, 3, 8)
    with pytest.raises(ValueError, match="memory must be"):
        block(x, torch.randn(3, 4, 8))  # another batch size
    with pytest.raises(ValueError, match="memory must be"):
        block(x, torch.randn(4, 8))  # no batch dimension
    with pytest.raises(ValueError, match="key must have shape"):
        block(x, torch.randn(2, 4, 6))  # another width
    with pytest.raises(TypeError, match="memory must be a torch.Tensor"):
        block(x, None)


def test_padding_mask():
    ids = torch.tensor([[5, 6, 0], [7, 0, 0]])
    m = padding_mask(ids, pad_id=0)
    assert m.shape == (2, 1, 1, 3) and m.dtype == torch.bool
    assert m[:, 0, 0].tolist() == [[True, True, False], [True, False, False]]


def torch_key(key: str) -> str:
    """The name of one of our EncoderDecoder's parameters in nn.Transformer."""
    for ours, theirs in (("encoder_norm.", "encoder.norm."),
                         ("decoder_norm.", "decoder.norm."),
                         ("encoder.", "encoder.layers."),
                         ("decoder.", "decoder.layers.")):
        if key.startswith(ours):
            return theirs + key[len(ours):]
    return key  # embeddings and head: not part of nn.Transformer


def torch_transformer_like(model: EncoderDecoder, nhead: int) -> torch.nn.Transformer:
    """PyTorch's nn.Transformer (pre-norm, GELU, no dropout) with ``model``'s
    encoder and decoder weights."""
    d, d_ff = model.src_emb.embedding_dim, model.encoder[0].linear1.out_features
    options = dict(dropout=0.0, activation="gelu", batch_first=True, norm_first=True,
                   dtype=DT)
    encoder = torch.nn.TransformerEncoder(  # nested tensors do not support pre-norm
        torch.nn.TransformerEncoderLayer(d, nhead, d_ff, **options),
        len(model.encoder), norm=torch.nn.LayerNorm(d, dtype=DT),
        enable_nested_tensor=False)
    ref = torch.nn.Transformer(d, nhead, num_decoder_layers=len(model.decoder),
                               dim_feedforward=d_ff, custom_encoder=encoder, **options)
    body = {torch_key(k): v for k, v in model.state_dict().items()
            if k.startswith(("encoder", "decoder"))}
    ref.load_state_dict(body)  # strict: every parameter of nn.Transformer is set
    return ref


def test_encoder_decoder_matches_torch_transformer():
    torch.manual_seed(0)
    model = randomize(EncoderDecoder(11, max_len=6, d_model=16, num_heads=4,
                                     num_layers=2, d_ff=20).double(), std=0.2)
    ref = torch_transformer_like(model, nhead=4)
    src = torch.tensor([[3, 4, 5, 6, 0], [7, 8, 0, 0, 0]])  # padded with 0
    tgt = torch.tensor([[1, 6, 5, 4], [1, 8, 7, 2]])
    src_x = model.src_emb(src) + model.pos_emb.weight[:5]
    tgt_x = model.tgt_emb(tgt) + model.pos_emb.weight[:4]
    pad = src == 0
    hidden = ref(src_x, tgt_x, tgt_mask=~causal_mask(4), src_key_padding_mask=pad,
                 memory_key_padding_mask=pad)
    torch.testing.assert_close(model(src, tgt), model.head(hidden))
    memory = ref.encoder(src_x, src_key_padding_mask=pad)
    torch.testing.assert_close(model.encode(src)[~pad], memory[~pad])


def test_encoder_decoder_shapes_weights_and_causality():
    torch.manual_seed(0)
    model = EncoderDecoder(10, max_len=6, d_model=8, num_heads=2, num_layers=2)
    src = torch.randint(3, 10, (2, 5))
    tgt = torch.randint(3, 10, (2, 6))
    logits, cross = model(src, tgt, return_weights=True)
    assert logits.shape == (2, 6, 10)
    assert len(cross) == 2 and cross[0].shape == (2, 2, 6, 5)
    changed = tgt.clone()
    changed[:, 4:] = (changed[:, 4:] + 1) % 10  # new target tokens at 4 and 5 ...
    torch.testing.assert_close(model(src, changed)[:, :4], logits[:, :4])  # ... not 0-3


def test_encoder_decoder_ignores_source_padding():
    torch.manual_seed(0)
    model = EncoderDecoder(10, max_len=7, d_model=8, num_heads=2)
    short = torch.tensor([[4, 5, 6]])
    padded = torch.tensor([[4, 5, 6, 0, 0, 0]])
    tgt = torch.tensor([[1, 6, 5]])
    torch.testing.assert_close(model(short, tgt), model(padded, tgt))


def test_encoder_decoder_rejects_bad_inputs():
    model = EncoderDecoder(10, max_len=4, d_model=8, num_heads=2)
    with pytest.raises(ValueError, match=r"ids must lie in \[-inf, 4\], got 5"):
        model(torch.zeros(1, 5, dtype=torch.long), torch.zeros(1, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"ids must have 2 dimension\(s\)"):
        model(torch.zeros(5, dtype=torch.long), torch.zeros(1, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="ids must be a torch.Tensor"):
        model([[1, 2]], torch.zeros(1, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="max_len must be > 0"):
        EncoderDecoder(10, max_len=0)
    with pytest.raises(ValueError, match="num_layers must be > 0"):
        EncoderDecoder(10, max_len=4, num_layers=0)
    with pytest.raises(ValueError, match="vocab_size must be > 0"):
        EncoderDecoder(0, max_len=4)
    with pytest.raises(ValueError, match="divisible"):
        EncoderDecoder(10, max_len=4, d_model=10, num_heads=4)


def test_greedy_decode_takes_the_argmax_and_stops():
    torch.manual_seed(0)
    model = EncoderDecoder(8, max_len=5, d_model=8, num_heads=2)
    src = torch.tensor([[3, 4, 5], [6, 7, 3]])
    model.train()
    out = greedy_decode(model, src, bos_id=1, eos_id=2)
    assert model.training  # the mode is restored
    assert out.shape[0] == 2 and 1 <= out.shape[1] <= 5
    # each token is the arg-max given the tokens before it
    tgt_in = torch.cat([torch.ones(2, 1, dtype=torch.long), out[:, :-1]], dim=1)
    with torch.no_grad():
        model.eval()
        expected = model(src, tgt_in).argmax(-1)
    done = torch.zeros(2, dtype=torch.bool)
    for t in range(out.shape[1]):  # after <eos>, a row keeps writing <eos>
        assert torch.equal(out[:, t], torch.where(done, 2, expected[:, t]))
        done |= out[:, t] == 2


def test_greedy_decode_stops_early_when_every_row_ends():
    model = EncoderDecoder(5, max_len=6, d_model=8, num_heads=2)
    with torch.no_grad():  # make <eos> (id 2) the clear winner everywhere
        model.head.weight.zero_()
        model.head.weight[2] = 1.0
        model.decoder_norm.bias.fill_(1.0)
    out = greedy_decode(model, torch.tensor([[3, 4], [4, 3]]), bos_id=1, eos_id=2)
    assert out.tolist() == [[2], [2]]
    with pytest.raises(ValueError, match="max_len must be > 0"):
        greedy_decode(model, torch.tensor([[3, 4]]), 1, 2, max_len=0)
    with pytest.raises(ValueError, match="max_len must be <= model.max_len=6"):
        greedy_decode(model, torch.tensor([[3, 4]]), 1, 2, max_len=7)
    longest = greedy_decode(model, torch.tensor([[3, 4]]), bos_id=1, eos_id=4)
    assert longest.shape == (1, 6)  # eos never written: max_len tokens
