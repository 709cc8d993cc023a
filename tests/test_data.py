import pytest
import torch

from introdl.data import Split, load_digits


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
