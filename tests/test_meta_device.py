"""The core is device-agnostic: every model runs a forward pass on the ``meta``
device (shapes only, no data). A tensor made on the CPU inside a forward pass
(``torch.zeros(...)`` without ``device=x.device``) fails here as it would on a
GPU."""

import pytest
import torch

from introdl.attention import (
    MultiHeadAttention,
    OneLayerAttention,
    SelfAttention,
    positional_encoding,
    scaled_dot_product_attention,
)
from introdl.experiments.rnn_limitations import RecallGRU
from introdl.gated import GRU, LSTM, GRUCell, LSTMCell
from introdl.layers import Dense
from introdl.regularization import Dropout
from introdl.rnn import (
    RNN,
    LastStateModel,
    PerStepMLP,
    RNNCell,
    RNNLanguageModel,
    RNNTagger,
)
from introdl.seq2seq import EncoderDecoder
from introdl.transformer import LayerNorm, TinyGPT, TransformerBlock, causal_mask

META = torch.device("meta")


def floats(*shape):
    return torch.empty(shape, device=META)


def ids(*shape):
    return torch.empty(shape, dtype=torch.long, device=META)


# name: (model, inputs, shape of the (first) output)
MODELS = {
    "Dense": (lambda: Dense(4, 3), lambda: (floats(2, 4),), (2, 3)),
    "Dropout": (lambda: Dropout(0.5), lambda: (floats(2, 4),), (2, 4)),
    "RNNCell": (lambda: RNNCell(4, 5), lambda: (floats(2, 4),), (2, 5)),
    "RNN": (lambda: RNN(4, 5), lambda: (floats(2, 3, 4),), (2, 3, 5)),
    "LSTMCell": (lambda: LSTMCell(4, 5), lambda: (floats(2, 4),), (2, 5)),
    "GRUCell": (lambda: GRUCell(4, 5), lambda: (floats(2, 4),), (2, 5)),
    "LSTM": (lambda: LSTM(4, 5), lambda: (floats(2, 3, 4),), (2, 3, 5)),
    "GRU": (lambda: GRU(4, 5), lambda: (floats(2, 3, 4),), (2, 3, 5)),
    "PerStepMLP": (lambda: PerStepMLP(4, 8, 3), lambda: (floats(2, 3, 4),), (2, 3, 3)),
    "RNNTagger": (lambda: RNNTagger(4, 8, 3), lambda: (floats(2, 3, 4),), (2, 3, 3)),
    "RNNLanguageModel": (lambda: RNNLanguageModel(9, 4, 8), lambda: (ids(2, 3),),
                         (2, 3, 9)),
    "LastStateModel": (lambda: LastStateModel(RNN(4, 5), 5, 3),
                       lambda: (floats(2, 3, 4),), (2, 3)),
    "SelfAttention": (lambda: SelfAttention(8, d_k=4, d_v=6),
                      lambda: (floats(2, 5, 8),), (2, 5, 6)),
    "MultiHeadAttention": (lambda: MultiHeadAttention(8, 2),
                           lambda: (floats(2, 5, 8), floats(2, 7, 8)), (2, 5, 8)),
    "OneLayerAttention": (lambda: OneLayerAttention(9, 5, d_model=8),
                          lambda: (ids(2, 5),), (2, 5, 9)),
    "LayerNorm": (lambda: LayerNorm(8), lambda: (floats(2, 5, 8),), (2, 5, 8)),
    "TransformerBlock": (lambda: TransformerBlock(8, 2),
                         lambda: (floats(2, 5, 8), causal_mask(5, device=META)),
                         (2, 5, 8)),
    "TinyGPT": (lambda: TinyGPT(9, context_len=6, d_model=8), lambda: (ids(2, 5),),
                (2, 5, 9)),
    "EncoderDecoder": (lambda: EncoderDecoder(9, max_len=6, d_model=8),
                       lambda: (ids(2, 5), ids(2, 4)), (2, 4, 9)),
    "RecallGRU": (lambda: RecallGRU(9, max_len=4, hidden_size=6),
                  lambda: (ids(2, 5),), (2, 4, 9)),
}


@pytest.mark.parametrize("name", MODELS)
def test_forward_pass_on_the_meta_device(name):
    build, inputs, shape = MODELS[name]
    model = build().to(META)
    out = model(*inputs())
    first = out[0] if isinstance(out, tuple) else out
    assert first.device == META and tuple(first.shape) == shape


def test_functions_follow_the_device_of_their_inputs():
    q, k, v = floats(2, 5, 4), floats(2, 6, 4), floats(2, 6, 3)
    out, w = scaled_dot_product_attention(q, k, v, causal_mask(6, device=META)[:5])
    assert out.device == w.device == META and out.shape == (2, 5, 3)
    assert causal_mask(4, device=META).device == META
    with torch.device(META):  # factory functions follow the default device
        assert positional_encoding(5, 8).device == META
