"""Hand-designed feature detectors versus learned ones, on the 8x8 digits.

The chapter "Introduction" compares two classifiers with the same shape: a
first layer of 12 feature detectors, a ReLU, and a linear classifier. In one the
detectors are drawn by hand (strokes, bars and loops) and frozen; in the other
they are learned from the data. Also the chapter's figures.
"""

from __future__ import annotations

import math

import torch

from introdl.checks import check_number, check_positive_int
from introdl.layers import Dense

__all__ = ["stroke_image", "ring_image", "hand_designed_detectors",
           "HandFeatureClassifier", "compare_features", "draw_ai_nesting",
           "plot_digit_samples", "plot_detectors"]


def stroke_image(points, width: float = 0.7, size: int = 8) -> torch.Tensor:
    """A ``(size, size)`` image, 1 within ``width`` pixels of a polyline, else 0.

    Args:
        points: ``[(row, col), ...]`` corners of the polyline (at least two),
            in pixel coordinates (row 0 at the top).
    """
    if len(points) < 2:
        raise ValueError(f"points must hold at least two (row, col) pairs, got "
                         f"{len(points)}")
    check_number("width", width, low=0, low_open=True)
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


class HandFeatureClassifier(torch.nn.Module):
    """Fixed detectors, a ReLU, then a learned linear classifier.

    ``forward(X) = classifier(relu(X @ detectors.T))``: ``X`` ``(n, 64)`` ->
    logits ``(n, num_classes)``. Only ``classifier`` has parameters; the
    detectors are a buffer, so training never changes them.
    """

    def __init__(self, detectors: torch.Tensor, num_classes: int = 10, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        if detectors.ndim != 2:
            raise ValueError(f"detectors must be (K, d), got {tuple(detectors.shape)}")
        self.register_buffer("detectors", detectors)  # (K, d), not learned
        self.classifier = Dense(len(detectors), num_classes, generator=generator)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        features = torch.relu(X @ self.detectors.T)  # (n, K)
        return self.classifier(features)  # (n, num_classes)


def compare_features(data, num_features: int = 12, num_epochs: int = 25,
                     lr: float = 0.02, weight_decay: float = 2e-3,
                     seed: int = 0) -> dict[str, dict]:
    """Train the hand-designed and the learned classifier on the same data.

    Both have ``num_features`` first-layer detectors followed by a ReLU and a
    linear classifier; both are trained with :func:`introdl.training.fit`
    (Adam with a small L2 penalty ``weight_decay``, mini-batches of 64) on
    ``data.train``.

    Args:
        data: a :class:`introdl.data.Split` of the digits.
        num_features: the learned network's hidden size; the hand-designed
            model always has the 12 detectors of :func:`hand_designed_detectors`.
    Returns:
        ``{"hand-designed": r, "learned": r}`` with ``r`` holding ``model``,
        ``history`` and ``test_accuracy``.
    """
    from introdl.layers import dense_network
    from introdl.losses import cross_entropy
    from introdl.training import accuracy, evaluate, fit

    check_positive_int("num_features", num_features)
    check_positive_int("num_epochs", num_epochs)
    check_number("weight_decay", weight_decay, low=0)
    _, D = hand_designed_detectors()
    models = {
        "hand-designed": HandFeatureClassifier(
            D, generator=torch.Generator().manual_seed(seed)),
        "learned": dense_network([64, num_features, 10],
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
        results[name] = dict(model=model, history=history, test_accuracy=test_acc)
    return results


def draw_ai_nesting():
    """Diagram: deep learning inside machine learning inside artificial
    intelligence inside intelligence, as nested rounded boxes. Returns the
    ``Figure``."""
    import matplotlib.patches as mpatches

    from introdl.figures import diagrams

    fig, ax = diagrams.new_diagram(6.4, 3.4, xlim=(0, 12.8), ylim=(0, 6.8))
    layers = [("intelligence", "process information to decide or act", "plain"),
              ("artificial intelligence", "computers that do it", "input"),
              ("machine learning", "learn it from data", "hidden"),
              ("deep learning", "learn the features too,\nwith deep networks",
               "output")]
    for k, (name, gist, kind) in enumerate(layers):
        x0, y0, top = 0.2 + 1.3 * k, 0.2 + 0.3 * k, 6.6 - 1.05 * k
        w, h = 12.4 - 2.6 * k, top - y0
        ax.add_patch(mpatches.FancyBboxPatch(
            (x0, y0), w, h, boxstyle="round,pad=0,rounding_size=0.4",
            facecolor=diagrams.NODE_STYLES[kind], edgecolor="black", linewidth=1.2))
        y_name = top - 0.3 if k < 3 else (y0 + top) / 2 + 0.3
        ax.text(6.4, y_name, name, ha="center", va="center", fontsize=11,
                weight="bold")
        ax.text(6.4, y_name - 0.3, gist, ha="center", va="top", fontsize=8.5,
                style="italic", color="#333333")
    return fig


def _mosaic(images: torch.Tensor, ncols: int, pad: int = 1) -> torch.Tensor:
    """Tile ``(k, h, w)`` images into one array, ``ncols`` per row, separated
    by ``pad`` pixels of NaN (drawn as background)."""
    k, h, w = images.shape
    nrows = math.ceil(k / ncols)
    out = torch.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), float("nan"))
    for idx, img in enumerate(images):
        r, c = divmod(idx, ncols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return out


def _show_tiles(ax, images: torch.Tensor, titles: list[str], ncols: int,
                cmap: str = "gray_r") -> None:
    """Draw ``images`` ``(k, 8, 8)`` as one mosaic on ``ax``, each tile scaled
    to its own largest absolute value, with a title above each tile."""
    import matplotlib as mpl

    scale = images.flatten(1).abs().amax(1).clamp(min=1e-12)  # (k,)
    tiles = images / scale[:, None, None] * 0.5 + 0.5  # (k, 8, 8): 0 -> grey
    colormap = mpl.colormaps[cmap].with_extremes(bad="white")
    ax.imshow(_mosaic(tiles, ncols, pad=3).numpy(), cmap=colormap, vmin=0, vmax=1,
              interpolation="nearest")
    for idx, title in enumerate(titles):
        r, c = divmod(idx, ncols)
        ax.text(c * 11 + 3.5, r * 11 - 0.9, title, ha="center", va="bottom",
                fontsize=7.5)
    ax.set_axis_off()


def plot_digit_samples(X: torch.Tensor, y: torch.Tensor, per_class: int = 1):
    """Figure: ``per_class`` example images of each digit 0-9, labelled.

    Args:
        X: ``(n, 64)`` flattened 8x8 images in ``[0, 1]``; y: ``(n,)`` labels.
    """
    from introdl.figures.style import new_figure

    check_positive_int("per_class", per_class)
    idx = [(y == digit).nonzero().flatten()[row].item()
           for row in range(per_class) for digit in range(10)]
    images = X[idx].reshape(-1, 8, 8) * 2 - 1  # (10 * per_class, 8, 8) in [-1, 1]
    fig, ax = new_figure(width=6.4, height=0.75 * per_class + 0.3)
    titles = [str(digit) for digit in range(10)]
    _show_tiles(ax, images, titles, ncols=10)
    return fig


def plot_detectors(hand: torch.Tensor, names: list[str], learned: torch.Tensor,
                   ncols: int = 6):
    """Figure: hand-designed detectors (left) beside learned first-layer
    weights (right), each an 8x8 image drawn like the digits: dark is a
    positive weight (the detector wants ink there), light a negative one, and
    mid-grey zero. Each detector is scaled to its own largest weight.

    Args:
        hand: ``(K, 64)`` detectors; names: their ``K`` names.
        learned: ``(M, 64)`` weights, one row per hidden neuron.
    """
    from introdl.figures.style import new_figure

    fig, (ax_h, ax_l) = new_figure(ncols=2, width=6.4, height=2.6)
    _show_tiles(ax_h, hand.detach().reshape(-1, 8, 8), names, ncols=ncols // 2 + 1)
    _show_tiles(ax_l, learned.detach().reshape(-1, 8, 8),
                [f"neuron {j + 1}" for j in range(len(learned))], ncols=ncols // 2 + 1)
    ax_h.set_title("designed by hand", fontsize=10, pad=14)
    ax_l.set_title("learned from data", fontsize=10, pad=14)
    return fig
