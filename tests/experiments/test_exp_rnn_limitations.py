import pytest
import torch

from introdl.limits import (RecallGRU, bag_of_vectors, draw_sequential_vs_parallel,
                            plot_recall, plot_timings, recall_vs_length, time_layers,
                            without_recurrence)
from introdl.tasks import recall_task


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
    assert t["length"] == [4, 8]
    assert all(len(t[k]) == 2 and min(t[k]) > 0
               for k in ("recurrent", "no waiting", "attention"))
    assert torch.get_num_threads() == threads
    with pytest.raises(ValueError, match="repeats"):
        time_layers(repeats=0)


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


def test_recall_falls_with_length():
    r = recall_vs_length(hidden_sizes=(8,), lengths=(1, 8), n_train=1000,
                         num_epochs=4, seed=0)
    assert r["length"] == [1, 8]
    assert r[8][0] > 0.9 and r[8][1] < 0.6


def test_bag_of_vectors_forgets_order():
    E = torch.randn(6, 3, dtype=torch.float64)
    ids = torch.tensor([[1, 2, 3], [3, 1, 2]])
    bags = bag_of_vectors(E, ids)
    assert bags.shape == (2, 3)
    torch.testing.assert_close(bags[0], bags[1])
    torch.testing.assert_close(bags[0], E[1:4].mean(0))


def test_figures_return_figures():
    import matplotlib.figure

    t = {"length": [4, 8], "recurrent": [1e-3, 2e-3], "no waiting": [1e-4, 1e-4],
         "attention": [1e-3, 3e-3]}
    figs = [draw_sequential_vs_parallel(4), plot_timings(t),
            plot_recall({"length": [1, 2], 8: [1.0, 0.5]}, chance=0.1, item="digits")]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)
