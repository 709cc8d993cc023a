"""Tests of the experiments of the chapter "Learning rates and adaptive methods"."""

import math

import pytest
import torch

from introdl import optim
from introdl.experiments.learning_rates import (
    LRSweep,
    parameter_trajectory,
    sweep_learning_rates,
)
from introdl.landscape import tiny_mlp
from introdl.training import History

F = torch.nn.functional


def test_sweep_learning_rates_is_seeded_and_complete(make_data):
    X, y = make_data(n=60)
    make = lambda: tiny_mlp(5, 8, 3, seed=0).double()  # noqa: E731
    runs = [sweep_learning_rates(make, (X, y), (X[:20], y[:20]), optim.Adam,
                                 [1e-3, 1e-2], num_epochs=3, batch_size=20)
            for _ in range(2)]
    assert isinstance(runs[0], LRSweep) and runs[0].lrs == [1e-3, 1e-2]
    assert all(h.num_epochs == 3 and len(h.val_loss) == 3
               for h in runs[0].histories)
    assert runs[0].history(1e-2).val_loss == runs[1].history(1e-2).val_loss
    assert runs[0].history(1e-2).val_loss[-1] < runs[0].history(1e-3).val_loss[-1]
    assert runs[0].best_lr == 1e-2


def test_sweep_passes_hyperparameters_and_takes_a_generator_of_lrs(make_data):
    X, y = make_data(n=30)
    make = lambda: tiny_mlp(5, 4, 3, seed=0).double()  # noqa: E731
    sweep = sweep_learning_rates(make, (X, y), (X, y), optim.SGD,
                                 (lr for lr in (0.1, 0.2)), num_epochs=1,
                                 batch_size=10, momentum=0.9)
    assert sweep.lrs == [0.1, 0.2] and len(sweep.histories) == 2
    with pytest.raises(TypeError, match="unexpected keyword"):
        sweep_learning_rates(make, (X, y), (X, y), optim.SGD, [0.1], num_epochs=1,
                             batch_size=10, beta=0.9)


def test_best_lr_ignores_runs_that_diverged():
    ok, bad = History(val_loss=[1.0, 0.5]), History(val_loss=[1.0, math.nan])
    assert LRSweep([0.1, 1.0], [bad, ok]).best_lr == 1.0
    assert LRSweep([0.1, 1.0], [ok, History(val_loss=[0.1, math.inf])]).best_lr == 0.1
    with pytest.raises(ValueError, match="every run diverged"):
        _ = LRSweep([0.1], [bad]).best_lr
    with pytest.raises(ValueError):
        LRSweep([0.1], [ok]).history(0.3)


def test_parameter_trajectory_records_every_step(make_data):
    X, y = make_data()
    model = tiny_mlp(5, 4, 3, seed=0).double()
    path = parameter_trajectory(model, optim.SGD(model.parameters(), lr=0.1),
                                F.cross_entropy, X, y, 3)
    assert path.shape == (4, 4 * 6 + 3 * 5)
    flat = torch.nn.utils.parameters_to_vector(model.parameters())
    torch.testing.assert_close(path[-1], flat.detach())
    with pytest.raises(ValueError, match="num_steps"):
        parameter_trajectory(model, optim.SGD(model.parameters(), lr=0.1),
                             F.cross_entropy, X, y, 0)
