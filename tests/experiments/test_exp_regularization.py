"""Tests of the experiments of the chapter "Regularization"."""

import dataclasses

import pytest
import torch

from introdl.data import load_digits
from introdl.experiments.regularization import digits_mlp, train_digits
from introdl.regularization import Dropout, EarlyStopping, corrupt_labels
from introdl.training import History


def _noisy_digits(n_train=150):
    split = load_digits(n_train=n_train)
    return dataclasses.replace(
        split, y_train=corrupt_labels(split.y_train, 0.3, seed=1))


def test_digits_mlp_is_seeded_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a, b = digits_mlp(32, p=0.0, seed=4), digits_mlp(32, p=0.5, seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    assert a.state_dict().keys() == b.state_dict().keys()
    for key in a.state_dict():
        assert torch.equal(a.state_dict()[key], b.state_dict()[key])
    assert a(torch.zeros(2, 64)).shape == (2, 10)


def test_seeded_training_repeats():
    split = _noisy_digits(60)
    runs = [train_digits(digits_mlp(32, p=0.5, seed=2), split, num_epochs=3)
            for _ in range(2)]
    assert runs[0].val_loss == runs[1].val_loss




def test_digits_mlp_shape_and_dropout_layers():
    model = digits_mlp(16, p=0.3, seed=0)
    drops = [m for m in model if isinstance(m, Dropout)]
    assert len(drops) == 2 and all(d.p == 0.3 for d in drops)
    expected = (64 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 10
    assert sum(p.numel() for p in model.parameters()) == expected
    with pytest.raises(ValueError, match="hidden_size"):
        digits_mlp(0)
    with pytest.raises(ValueError, match="p must lie in"):
        digits_mlp(8, p=1.5)


def test_train_digits_records_accuracy_and_stops_early():
    split = _noisy_digits(60)
    stopper = EarlyStopping(patience=1)
    model = digits_mlp(32, p=0.0, seed=1)
    h = train_digits(model, split, num_epochs=30, lr=0.05, early_stopping=stopper,
                     restore_best=True)
    assert isinstance(h, History) and len(h.val_metric) == h.num_epochs
    assert all(0 <= a <= 1 for a in h.val_metric)
    assert h.stopped_epoch is not None and h.best_epoch == stopper.best_epoch
    for name, value in model.state_dict().items():
        assert torch.equal(value, stopper.best_state[name])
