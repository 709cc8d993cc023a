"""Experiments of the chapter "Limitations of recurrent models"."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from introdl.experiments.rnn_limitations import (
    Parallelism,
    Recall,
    RecallAttention,
    RecallGRU,
    Timings,
    _layers,
    bag_of_vectors,
    count_parallelism,
    matmul_flops,
    median_times,
    recall_vs_length,
    sequential_depth,
    time_layers,
    without_recurrence,
)
from introdl.tasks import recall_task
from introdl.training import parameter_count


def test_without_recurrence_is_the_rnn_step_fed_with_x():
    rnn = torch.nn.RNN(4, 4, batch_first=True).double()
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    out = without_recurrence(rnn, x)
    cell = torch.nn.RNNCell(4, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in rnn.state_dict().items()})
    for t in range(5):  # feeding x_t as the "previous state" reproduces each column
        torch.testing.assert_close(out[:, t], cell(x[:, t], x[:, t]))


def test_time_layers_shape_and_restores_threads():
    threads = torch.get_num_threads()
    t = time_layers(lengths=(4, 8), d_model=8, batch_size=2, repeats=1)
    assert isinstance(t, Timings) and t.lengths == [4, 8]
    assert list(t.seconds) == ["recurrent", "no waiting", "attention"]
    assert all(len(s) == 2 and min(s) > 0 for s in t.seconds.values())
    assert torch.get_num_threads() == threads
    with pytest.raises(ValueError, match="repeats"):
        time_layers(repeats=0)


def test_time_layers_leaves_the_global_generator_alone():
    state = torch.random.get_rng_state()
    time_layers(lengths=(4,), d_model=8, batch_size=2, repeats=1, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_median_times_takes_turns_and_skips_the_warm_up():
    calls = []
    times = median_times({"a": lambda: calls.append("a"),
                          "b": lambda: calls.append("b")}, repeats=3)
    assert calls == ["a", "b"] * 4 and set(times) == {"a", "b"}
    assert all(t >= 0 for t in times.values())


def test_recall_task_layout():
    X, y, k = recall_task(50, lengths=(1, 3), num_symbols=4, seed=2)
    assert X.shape == y.shape == (50, 3) and set(k.tolist()) <= {1, 3}
    for row_x, row_y, n in zip(X, y, k):
        n = int(n)
        assert torch.all(row_x[:3 - n] == 4)  # padding first
        torch.testing.assert_close(row_y[:n], row_x[3 - n:])  # the symbols, in order
        assert torch.all(row_y[n:] == -100)
    X2, y2, _ = recall_task(50, lengths=(1, 3), num_symbols=4, seed=2)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    with pytest.raises(ValueError, match="lengths"):
        recall_task(5, lengths=())


def test_recall_gru_reads_only_its_final_state():
    model = RecallGRU(num_symbols=5, max_len=4, hidden_size=6)
    X = torch.randint(0, 6, (3, 4))
    assert model(X).shape == (3, 4, 5)
    _, h = model.gru(model.embedding(X))
    torch.testing.assert_close(model(X), model.readout(h[0]).view(3, 4, 5))
    assert model(X[:0]).shape == (0, 4, 5)  # an empty batch
    with pytest.raises(ValueError, match="hidden_size"):
        RecallGRU(5, 4, hidden_size=0)


@pytest.mark.slow
def test_recall_falls_with_length():
    state = torch.random.get_rng_state()
    r = recall_vs_length(hidden_sizes=(8,), lengths=(1, 8), n_train=1000,
                         num_epochs=4, seed=0)
    assert isinstance(r, Recall) and r.lengths == [1, 8] and list(r.accuracy) == [8]
    assert r.accuracy[8][0] > 0.9 and r.accuracy[8][1] < 0.6
    assert r.attention == {}  # no control asked for
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.slow
def test_the_control_with_attention_recalls_what_the_final_state_cannot():
    # the chapter's claim, at its sizes: same data, epochs and state size
    r = recall_vs_length(hidden_sizes=(64,), attention_sizes=(64,),
                         lengths=(1, 2, 3, 4, 6, 8, 12, 16), seed=0)
    assert r.accuracy[64][-1] < 0.5 < 0.95 < min(r.attention[64])


def test_recall_attention_reads_every_position():
    torch.manual_seed(0)
    model = RecallAttention(num_symbols=5, max_len=4, hidden_size=6).double()
    X = torch.randint(0, 6, (3, 7))
    logits = model(X)
    assert logits.shape == (3, 4, 5)
    outputs, _ = model.gru(model.embedding(X))  # (3, 7, 6)
    # the same read-out with PyTorch's attention: queries over all outputs
    mixed = torch.nn.functional.scaled_dot_product_attention(
        model.queries.expand(3, 4, 6), outputs, outputs)
    torch.testing.assert_close(logits, model.readout(mixed))
    X2 = X.clone()
    X2[:, 0] = (X2[:, 0] + 1) % 6  # the first input reaches the output directly
    assert not torch.allclose(model(X2), logits)
    with pytest.raises(ValueError, match="max_len"):
        RecallAttention(5, 0, 6)


def test_recall_attention_on_the_meta_device():
    model = RecallAttention(9, max_len=4, hidden_size=6).to("meta")
    out = model(torch.empty(2, 5, dtype=torch.long, device="meta"))
    assert out.device.type == "meta" and out.shape == (2, 4, 9)


def test_the_control_has_fewer_parameters_than_the_final_state_encoder():
    assert parameter_count(RecallAttention(10, 16, 64)) < parameter_count(
        RecallGRU(10, 16, 64))


def test_sequential_depth_counts_the_longest_chain():
    x = torch.ones(3, requires_grad=True)
    assert sequential_depth(x * 2) == 2  # the leaf, then one multiplication
    y = x
    for _ in range(5):
        y = torch.tanh(y)
    assert sequential_depth(y + x) == 7  # the long branch decides, not the short
    z = x
    for _ in range(3000):  # deeper than Python's recursion limit
        z = z + 1
    assert sequential_depth(z) == 3001
    with pytest.raises(ValueError, match="requires_grad"):
        sequential_depth(torch.ones(3) * 2)


def test_depth_grows_with_the_length_for_the_rnn_only():
    par = count_parallelism(lengths=(4, 8, 16), d_model=8, batch_size=2, num_heads=2)
    assert isinstance(par, Parallelism) and par.lengths == [4, 8, 16]
    rec = par.depth["recurrent"]
    assert rec[1] - rec[0] == (rec[2] - rec[1]) / 2 > 0  # linear in the length
    assert len(set(par.depth["attention"])) == len(set(par.depth["no waiting"])) == 1
    assert par.depth["attention"][0] < rec[-1]
    for name, f in par.flops_per_step.items():
        assert f == [w / d for w, d in zip(par.flops[name], par.depth[name])]
    state = torch.random.get_rng_state()
    count_parallelism(lengths=(4,), d_model=8, batch_size=2, num_heads=2, seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize("name", ["recurrent", "no waiting", "attention"])
@pytest.mark.parametrize("length", [1, 5, 12])
def test_matmul_flops_equals_pytorchs_flop_counter(name, length):
    layer = _layers(d_model=8, num_heads=2, seed=0)[name]
    x = torch.randn(3, length, 8)
    with FlopCounterMode(display=False) as counter:
        layer(x)
    assert matmul_flops(name, length, 8, 3) == counter.get_total_flops()


def test_bag_of_vectors_forgets_order():
    E = torch.randn(6, 3, dtype=torch.float64)
    ids = torch.tensor([[1, 2, 3], [3, 1, 2]])
    bags = bag_of_vectors(E, ids)
    assert bags.shape == (2, 3)
    torch.testing.assert_close(bags[0], bags[1])
    torch.testing.assert_close(bags[0], E[1:4].mean(0))
    with pytest.raises(TypeError, match="embeddings"):
        bag_of_vectors(E.long(), ids)


def test_time_layers_accepts_a_generator_of_lengths():
    t = time_layers(lengths=(n for n in (4, 8)), d_model=8, batch_size=2, repeats=1)
    assert t.lengths == [4, 8] and all(len(s) == 2 for s in t.seconds.values())
    with pytest.raises(ValueError, match="length must be > 0"):
        time_layers(lengths=(4, 0), repeats=1)
