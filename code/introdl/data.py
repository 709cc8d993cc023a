"""Small data sets that ship offline, split and seeded.

The handwritten digits are scikit-learn's copy of the UCI "Optical Recognition
of Handwritten Digits" test set (1,797 images of 8x8 pixels, 10 classes). The
file is installed with scikit-learn (``sklearn/datasets/data/digits.csv.gz``);
:func:`load_digits` reads it directly, with the standard library, so nothing
is downloaded and neither scikit-learn nor NumPy is imported.
"""

import csv
import gzip
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache

import torch

from introdl.checks import check_number, check_positive_int

__all__ = ["Split", "digits_path", "load_digits"]


@dataclass
class Split:
    """Train, validation and test tensors. ``X_*`` are ``(n, 64)`` float32 in
    ``[0, 1]``; ``y_*`` are ``(n,)`` int64 class indices 0-9."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_train, y_train)``."""
        return self.X_train, self.y_train

    @property
    def val(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_val, y_val)``."""
        return self.X_val, self.y_val

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_test, y_test)``."""
        return self.X_test, self.y_test


def digits_path() -> str:
    """Where scikit-learn installed the digits: ``.../sklearn/datasets/data/
    digits.csv.gz``. Raises ``ModuleNotFoundError`` if scikit-learn is missing."""
    spec = importlib.util.find_spec("sklearn")  # finds the package, imports nothing
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("load_digits reads the digits that scikit-learn "
                                  "installs: pip install scikit-learn")
    folder = list(spec.submodule_search_locations)[0]
    return os.path.join(folder, "datasets", "data", "digits.csv.gz")


@lru_cache(maxsize=1)
def _read_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits in file order: pixels ``(1797, 64)`` as 0-16, labels."""
    with gzip.open(digits_path(), "rt", newline="") as file:
        rows = [[int(v) for v in row] for row in csv.reader(file) if row]
    table = torch.tensor(rows, dtype=torch.int64)  # (1797, 65): pixels, label
    return table[:, :-1], table[:, -1]


def load_digits(n_train: int | None = None, val_fraction: float = 0.2,
                test_fraction: float = 0.2, seed: int = 0) -> Split:
    """The 8x8 digits, shuffled with ``seed`` and split three ways.

    Args:
        n_train: keep only the first ``n_train`` training examples (to provoke
            overfitting); ``None`` keeps all.
        val_fraction, test_fraction: shares of the 1,797 images held out.
    Returns:
        A :class:`Split`; pixels are scaled from 0-16 to ``[0, 1]``.
    """
    check_number("val_fraction", val_fraction, low=0, high=1, high_open=True)
    check_number("test_fraction", test_fraction, low=0, high=1, high_open=True)
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got "
                         f"{val_fraction + test_fraction}")
    if n_train is not None:
        check_positive_int("n_train", n_train)
    check_positive_int("seed", seed, allow_zero=True)
    pixels, labels = _read_digits()
    X = pixels.to(torch.float32) / 16.0  # (1797, 64)
    y = labels.clone()  # (1797,)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    X, y = X[perm], y[perm]
    n_test, n_val = int(len(X) * test_fraction), int(len(X) * val_fraction)
    X_test, y_test = X[:n_test], y[:n_test]
    X_val, y_val = X[n_test:n_test + n_val], y[n_test:n_test + n_val]
    X_train, y_train = X[n_test + n_val:], y[n_test + n_val:]
    if n_train is not None:
        if n_train > len(X_train):
            raise ValueError(f"n_train must be at most {len(X_train)}, got {n_train}")
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    return Split(X_train, y_train, X_val, y_val, X_test, y_test)
