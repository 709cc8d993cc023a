"""Shared test configuration.

Tests under ``tests/book/`` check the built book and carry the ``book`` marker;
the rest test the package and run in seconds (``make unit``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config, items):
    book_dir = ROOT / "tests" / "book"
    for item in items:
        if book_dir in Path(item.fspath).parents:
            item.add_marker(pytest.mark.book)


def require_tool(name: str, why: str) -> str:
    """Return the path of executable ``name``; skip loudly if it is missing,
    or fail when running in CI, where every tool must be installed."""
    path = shutil.which(name) or (name if Path(name).is_file() else None)
    if path is None:
        msg = f"MISSING TOOL: {name} is not installed, so {why} cannot be checked"
        if IN_CI:
            pytest.fail(msg + " (CI=true: every tool must be present)")
        pytest.skip(msg)
    return path


@pytest.fixture(autouse=True)
def _seed_and_close_figures():
    torch.set_num_threads(1)  # tiny models: one thread is fastest, and deterministic
    torch.manual_seed(0)
    yield
    plt.close("all")


def classification_data(n: int = 40, d: int = 5, C: int = 3, seed: int = 0,
                        dtype: torch.dtype = torch.float64):
    """A small random classification set from ``seed``: inputs ``(n, d)`` of
    ``dtype`` and labels ``(n,)`` in ``0..C-1``."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=dtype),
            torch.randint(0, C, (n,), generator=g))


@pytest.fixture
def make_data():
    """The factory :func:`classification_data`, e.g. ``X, y = make_data(n=48)``."""
    return classification_data
