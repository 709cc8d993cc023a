"""Experiments of the chapter "Introduction": hand-designed feature detectors
against learned ones, on the 8x8 digits.

Two classifiers with the same shape: a first layer of 12 feature detectors, a
ReLU, and a linear classifier. In one the detectors are drawn by hand (strokes,
bars and loops) and frozen; in the other they are learned from the data.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int
from introdl.layers import dense_network
from introdl.losses import cross_entropy
from introdl.training import History, accuracy, evaluate, fit

__all__ = ["stroke_image", "ring_image", "hand_designed_detectors",
           "HandFeatureClassifier", "FeatureRun", "compare_features"]


def stroke_image(points, width: float = 0.7, size: int = 8) -> torch.Tensor:
    """A ``(size, size)`` image, 1 within ``width`` pixels of a polyline, else 0.

    Args:
        points: ``[(row, col), ...]`` corners of the polyline (at least two),
            in pixel coordinates (row 0 at the top).
    """
    points = list(points)  # a list, a tuple or a generator
    if len(points) < 2:
        raise ValueError(f"points must hold at least two (row, col) pairs, got "
                         f"{len(points)}")
    check_number("width", width, low=0, low_open=True)
    check_positive_int("size", size)
    rows, cols = torch.meshgrid(torch.arange(size, dtype=torch.float32),
                                torch.arange(size, dtype=torch.float32), indexing="ij")
    img = torch.zeros(size, size)
    P = torch.tensor(points, dtype=torch.float32)  # (k, 2)
    for a, b in zip(P[:-1], P[1:]):  # distance of each pixel to segment a-b
        ab = b - a
        t = ((rows - a[0]) * ab[0] + (cols - a[1]) * ab[1]) / (ab @ ab).clamp(min=1e-9)
        t = t.clamp(0, 1)  # (size, size) position of the nearest point
        dist = torch.hypot(rows - a[0] - t * ab[0], cols - a[1] - t * ab[1])
        img = torch.maximum(img, (dist < width).float())
    return img


def ring_image(centre, radius: float, width: float = 0.6,
               size: int = 8) -> torch.Tensor:
    """A ``(size, size)`` image of a ring (a loop such as the top of an 8)."""
    check_number("radius", radius, low=0, low_open=True)
    angles = [2 * math.pi * k / 24 for k in range(25)]
    points = [(centre[0] + radius * math.sin(a), centre[1] + radius * math.cos(a))
              for a in angles]
    return stroke_image(points, width, size)


def hand_designed_detectors() -> tuple[list[str], torch.Tensor]:
    """Twelve 8x8 stroke detectors, designed by hand.

    Each is an image of a stroke (bar, diagonal, loop or dot) made zero-mean
    and of unit length, so that its dot product with a digit measures how
    much more ink lies on the stroke than elsewhere.

    Returns:
        ``(names, D)`` with ``D`` of shape ``(12, 64)``: one flattened detector
        per row.
    """
    images = {
        "top bar": stroke_image([(1, 1.5), (1, 5.5)]),
        "middle bar": stroke_image([(3.5, 1.5), (3.5, 5.5)]),
        "bottom bar": stroke_image([(6.5, 1.5), (6.5, 5.5)]),
        "left stroke": stroke_image([(1, 1.5), (6, 1.5)]),
        "centre stroke": stroke_image([(0.5, 3.5), (6.5, 3.5)]),
        "right stroke": stroke_image([(1, 5.5), (6, 5.5)]),
        "slash": stroke_image([(0.5, 6), (6.5, 1.5)]),
        "backslash": stroke_image([(0.5, 1.5), (6.5, 6)]),
        "upper loop": ring_image((2, 3.5), 1.6),
        "lower loop": ring_image((5, 3.5), 1.6),
        "big loop": ring_image((3.5, 3.5), 2.6),
        "centre dot": stroke_image([(3.5, 3.5), (3.6, 3.5)], width=1.2),
    }
    D = torch.stack(list(images.values())).reshape(len(images), 64)  # (12, 64)
    D = D - D.mean(dim=1, keepdim=True)
    return list(images), D / D.norm(dim=1, keepdim=True)


class HandFeatureClassifier(nn.Module):
    """Fixed feature detectors, a ReLU, then a learned linear classifier.

    ``detectors`` ``(K, d)`` are a buffer, so training never changes them; only
    ``classifier``, an ``nn.Linear(K, num_classes)`` drawn from ``generator``,
    learns. ``X`` ``(n, d)`` -> logits ``(n, num_classes)``.
    """

    def __init__(self, detectors: torch.Tensor, num_classes: int = 10, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        if not isinstance(detectors, torch.Tensor) or detectors.ndim != 2:
            raise ValueError(f"detectors must be a (K, d) tensor, got "
                             f"{getattr(detectors, 'shape', detectors)}")
        self.register_buffer("detectors", detectors)  # (K, d), not learned
        K = len(detectors)
        self.classifier = nn.utils.skip_init(  # made without drawing random numbers
            nn.Linear, K, num_classes, device=detectors.device, dtype=detectors.dtype)
        bound = 1 / math.sqrt(K)  # uniform in [-bound, bound], as in nn.Linear
        with torch.no_grad():
            for p in self.classifier.parameters():  # weight (C, K), then bias (C,)
                r = torch.rand(p.shape, generator=generator, dtype=p.dtype,
                               device=p.device)
                p.copy_((2 * r - 1) * bound)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        # (a list, or images of another size, get Python's or torch's own error)
        responses = X @ self.detectors.T  # (n, K): how well each pattern matches
        features = torch.relu(responses)  # only matches count, not mismatches
        return self.classifier(features)  # (n, 10) logits  # (n, num_classes)


@dataclass
class FeatureRun:
    """One model of :func:`compare_features`: the trained ``model``, its
    ``history`` and its accuracy on the test images."""

    model: nn.Module
    history: History
    test_accuracy: float


def compare_features(data, num_features: int = 12, num_epochs: int = 25,
                     lr: float = 0.02, weight_decay: float = 2e-3,
                     seed: int = 0) -> dict[str, FeatureRun]:
    """Train the hand-designed and the learned classifier on the same data, and,
    as a baseline, a linear classifier on the raw pixels.

    The first two have ``num_features`` first-layer detectors followed by a
    ReLU and a linear classifier; all three are trained with
    :func:`introdl.training.fit` (Adam with a small L2 penalty ``weight_decay``,
    mini-batches of 64) on ``data.train``.

    Args:
        data: a :class:`introdl.data.Split` of the digits.
        num_features: the learned network's hidden size; the hand-designed
            model always has the 12 detectors of :func:`hand_designed_detectors`.
    Returns:
        ``{"hand-designed": run, "learned": run, "raw pixels": run}``, three
        :class:`FeatureRun`.
    """
    check_positive_int("num_features", num_features)
    check_positive_int("num_epochs", num_epochs)
    check_number("weight_decay", weight_decay, low=0)
    _, D = hand_designed_detectors()
    models = {
        "hand-designed": HandFeatureClassifier(
            D, generator=torch.Generator().manual_seed(seed)),
        "learned": dense_network([64, num_features, 10],
                                 generator=torch.Generator().manual_seed(seed)),
        "raw pixels": dense_network([64, 10],
                                    generator=torch.Generator().manual_seed(seed)),
    }
    results = {}
    for name, model in models.items():
        history = fit(model, data.train, data.val, loss_fn=cross_entropy,
                      optimizer=torch.optim.Adam(model.parameters(), lr=lr,
                                                 weight_decay=weight_decay),
                      num_epochs=num_epochs, batch_size=64, metric=accuracy,
                      generator=torch.Generator().manual_seed(seed), progress=False)
        _, test_acc = evaluate(model, data.test, cross_entropy, accuracy)
        results[name] = FeatureRun(model, history, test_acc)
    return results
