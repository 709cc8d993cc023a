"""Small data sets that ship offline, split and seeded.

The handwritten digits are scikit-learn's copy of the UCI "Optical Recognition
of Handwritten Digits" test set (1,797 images of 8x8 pixels, 10 classes), which
is installed with scikit-learn: nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from introdl.checks import check_number, check_positive_int

__all__ = ["Split", "load_digits"]


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
    def train(self):
        return self.X_train, self.y_train

    @property
    def val(self):
        return self.X_val, self.y_val

    @property
    def test(self):
        return self.X_test, self.y_test


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
    from sklearn.datasets import load_digits as _sk_digits

    check_number("val_fraction", val_fraction, low=0, high=1, high_open=True)
    check_number("test_fraction", test_fraction, low=0, high=1, high_open=True)
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got "
                         f"{val_fraction + test_fraction}")
    digits = _sk_digits()
    X = torch.tensor(digits.data, dtype=torch.float32) / 16.0  # (1797, 64)
    y = torch.tensor(digits.target, dtype=torch.int64)  # (1797,)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    X, y = X[perm], y[perm]
    n_test, n_val = int(len(X) * test_fraction), int(len(X) * val_fraction)
    X_test, y_test = X[:n_test], y[:n_test]
    X_val, y_val = X[n_test:n_test + n_val], y[n_test:n_test + n_val]
    X_train, y_train = X[n_test + n_val:], y[n_test + n_val:]
    if n_train is not None:
        check_positive_int("n_train", n_train)
        if n_train > len(X_train):
            raise ValueError(f"n_train must be at most {len(X_train)}, got {n_train}")
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    return Split(X_train, y_train, X_val, y_val, X_test, y_test)
