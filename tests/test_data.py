import inspect
import math
import os
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import introdl.data as data_module
from introdl.data import Split, digits_path, load_digits


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0)


def test_split_sizes_add_up(digits):
    n_val, n_test = int(1797 * 0.2), int(1797 * 0.2)
    assert len(digits.X_test) == n_test and len(digits.X_val) == n_val
    assert len(digits.X_train) == 1797 - n_val - n_test
    for X, y in (digits.train, digits.val, digits.test):
        assert X.shape == (len(y), 64) and y.shape == (len(X),)


def test_types_and_ranges(digits):
    assert isinstance(digits, Split)
    assert digits.X_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    X = torch.cat([digits.X_train, digits.X_val, digits.X_test])
    y = torch.cat([digits.y_train, digits.y_val, digits.y_test])
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(y.tolist()) == set(range(10))


def test_splits_partition_the_data(digits):
    # the three splits together hold every image exactly once (as a multiset)
    from sklearn.datasets import load_digits as sk_digits

    rows = torch.cat([digits.X_train, digits.X_val, digits.X_test]).double()
    original = torch.tensor(sk_digits().data, dtype=torch.float64) / 16
    fingerprint = torch.randn(64, dtype=torch.float64)
    torch.testing.assert_close(torch.sort(rows @ fingerprint).values,
                               torch.sort(original @ fingerprint).values)


def test_seed_controls_the_shuffle():
    a, b, c = load_digits(seed=1), load_digits(seed=1), load_digits(seed=2)
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.X_train, c.X_train)


def test_n_train_keeps_the_first_examples(digits):
    small = load_digits(n_train=100, seed=0)
    assert len(small.X_train) == 100
    assert torch.equal(small.X_train, digits.X_train[:100])
    assert torch.equal(small.X_test, digits.X_test)


def test_custom_fractions():
    split = load_digits(val_fraction=0.1, test_fraction=0.0)
    assert len(split.X_test) == 0 and len(split.X_val) == 179
    assert len(split.X_train) == 1797 - 179


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(val_fraction=1.0), ValueError, "val_fraction"),
    (dict(test_fraction=-0.1), ValueError, "test_fraction"),
    (dict(val_fraction=0.5, test_fraction=0.5), ValueError, "must be < 1"),
    (dict(val_fraction="0.2"), TypeError, "val_fraction"),
    (dict(n_train=0), ValueError, "n_train"),
    (dict(n_train=5000), ValueError, "n_train must be at most"),
    (dict(n_train=10.5), TypeError, "n_train"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_digits(**kwargs)


def test_the_digits_are_bit_identical_to_scikit_learns():
    """Read from scikit-learn's installed file without scikit-learn, the digits
    are exactly what sklearn.datasets.load_digits gives (shuffled the same way)."""
    from sklearn.datasets import load_digits as sk_digits

    sk = sk_digits()
    X = torch.tensor(sk.data, dtype=torch.float32) / 16.0
    y = torch.tensor(sk.target, dtype=torch.int64)
    for seed in (0, 3):
        perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
        ours = load_digits(seed=seed)
        assert torch.equal(torch.cat([ours.X_test, ours.X_val, ours.X_train]), X[perm])
        assert torch.equal(torch.cat([ours.y_test, ours.y_val, ours.y_train]), y[perm])


def test_loading_imports_neither_scikit_learn_nor_numpy():
    code = ("import sys, introdl.data as d; d.load_digits(); "
            "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    source = inspect.getsource(data_module)
    assert "import numpy" not in source and "sklearn." not in source.replace(
        "sklearn/", "")


def test_digits_path_points_at_the_installed_file():
    path = digits_path()
    assert path.endswith(os.path.join("sklearn", "datasets", "data", "digits.csv.gz"))
    assert os.path.isfile(path)


def test_a_missing_scikit_learn_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(data_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="pip install scikit-learn"):
        digits_path()


def test_returned_tensors_are_fresh_copies():
    """Changing one split in place changes neither the next call nor the cache."""
    a = load_digits(seed=0)
    a.X_train.zero_()
    a.y_test.fill_(7)
    b = load_digits(seed=0)
    assert b.X_train.max() == 1.0 and set(b.y_test.tolist()) == set(range(10))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_train=None), None, None),
    (dict(val_fraction=None), TypeError, "val_fraction"),
    (dict(test_fraction=math.nan), ValueError, "test_fraction"),
    (dict(seed=None), TypeError, "seed"),
    (dict(n_train=True), TypeError, "n_train"),
    (dict(val_fraction=0.0, test_fraction=0.0, n_train=1797), None, None),
])
def test_more_arguments(kwargs, error, match):
    if error is None:
        split = load_digits(**kwargs)
        assert len(split.X_train) == kwargs.get("n_train") or split.X_train.ndim == 2
    else:
        with pytest.raises(error, match=match):
            load_digits(**kwargs)


@settings(max_examples=25, deadline=None)
@given(val=st.floats(0, 0.6), test=st.floats(0, 0.39), seed=st.integers(0, 10))
def test_any_valid_fractions_split_all_images_once(val, test, seed):
    split = load_digits(val_fraction=val, test_fraction=test, seed=seed)
    sizes = [len(split.X_train), len(split.X_val), len(split.X_test)]
    assert sum(sizes) == 1797 and sizes[1] == int(1797 * val)
    assert sizes[2] == int(1797 * test) and sizes[0] > 0
