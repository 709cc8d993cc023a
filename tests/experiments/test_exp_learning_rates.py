"""Tests of the experiments of the chapter "Learning rates and adaptive methods"."""

import math

import pytest
import torch

from introdl import optim
from introdl.experiments.learning_rates import (
    LRSweep,
    ScheduleRuns,
    compare_schedules,
    parameter_trajectory,
    scheduled_lrs,
    sweep_learning_rates,
)
from introdl.landscape import tiny_mlp
from introdl.schedules import Scheduler, cosine_annealing, step_decay
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


def test_scheduled_lrs_reads_ours_and_torchs_schedulers():
    w = [torch.zeros(2, requires_grad=True)]
    o = torch.optim.SGD(w, lr=0.2)
    theirs = scheduled_lrs(o, torch.optim.lr_scheduler.StepLR(o, 2, 0.5), 5)
    o = optim.SGD(w, lr=0.2)
    ours = scheduled_lrs(o, Scheduler(o, lambda t: step_decay(t, 2, 0.5)), 5)
    assert ours == theirs == [0.2, 0.2, 0.1, 0.1, 0.05]
    assert torch.equal(w[0], torch.zeros(2))  # steps without gradients change nothing
    with pytest.raises(ValueError, match="num_steps"):
        scheduled_lrs(o, Scheduler(o, lambda t: 1.0), 0)


def _schedules():
    return {"constant": None, "cosine": lambda t: cosine_annealing(t, 6)}


def test_compare_schedules_records_rates_and_repeats_exactly(make_data):
    X, y = make_data(n=30)
    make = lambda seed: tiny_mlp(5, 4, 3, seed=seed).double()  # noqa: E731
    runs = [compare_schedules(make, (X, y), (X[:10], y[:10]), optim.Adam, 0.05,
                              _schedules(), num_epochs=2, batch_size=10,
                              seeds=[0, 1]) for _ in range(2)]
    r = runs[0]
    assert isinstance(r, ScheduleRuns) and r.lr == 0.05 and r.seeds == [0, 1]
    assert r.lrs["constant"] == [0.05] * 6  # 3 mini-batches x 2 epochs
    assert r.lrs["cosine"][0] == 0.05 and r.lrs["cosine"][-1] < 0.01
    assert all(len(r.histories[n]) == 2 for n in r.histories)
    h = r.histories["cosine"][1]
    assert h.num_epochs == 2 and len(h.val_metric) == 2  # accuracy is recorded
    assert runs[1].histories["cosine"][1].val_loss == h.val_loss  # seeded
    assert r.histories["constant"][0].val_loss != r.histories["cosine"][0].val_loss
    assert r.histories["cosine"][0].val_loss != h.val_loss  # seeds differ
    finals = [hh.val_loss[-1] for hh in r.histories["cosine"]]
    assert r.mean_final("cosine") == pytest.approx(sum(finals) / 2)
    curve = r.mean_curve("constant", "val_metric")
    assert len(curve) == 2 and 0 <= min(curve) <= max(curve) <= 1


def test_compare_schedules_refuses_bad_arguments(make_data):
    X, y = make_data(n=20)
    make = lambda seed: tiny_mlp(5, 4, 3, seed=seed).double()  # noqa: E731
    kw = dict(num_epochs=1, batch_size=10)
    with pytest.raises(ValueError, match="seeds"):
        compare_schedules(make, (X, y), (X, y), optim.SGD, 0.1, _schedules(),
                          seeds=[], **kw)
    with pytest.raises(ValueError, match="lr must lie in"):
        compare_schedules(make, (X, y), (X, y), optim.SGD, 0.0, _schedules(), **kw)
    with pytest.raises(ValueError, match="batch_size must be > 0"):
        compare_schedules(make, (X, y), (X, y), optim.SGD, 0.1, _schedules(),
                          num_epochs=1, batch_size=0)
