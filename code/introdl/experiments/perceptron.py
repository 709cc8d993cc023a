"""Experiments of the chapter "The perceptron"."""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from introdl.activations import sigmoid
from introdl.checks import check_number, check_positive_int
from introdl.perceptron import Perceptron, linearly_separable_data, xor_data
from introdl.training import fit

__all__ = ["SeparabilityRun", "separability_demo"]


@dataclass
class SeparabilityRun:
    """One classifier of :func:`separability_demo` and its data.

    ``predict`` maps ``(m, 2)`` inputs to ``(m,)`` probabilities of class 1;
    ``X`` ``(n, 2)`` and ``y`` ``(n,)`` are the training data, ``accuracy`` the
    share of them classified correctly and ``losses`` the loss per step.
    """

    predict: Callable[[torch.Tensor], torch.Tensor]
    X: torch.Tensor
    y: torch.Tensor
    accuracy: float
    losses: list[float]


def separability_demo(num_steps: int = 300, lr: float = 0.5,
                      seed: int = 0) -> dict[str, SeparabilityRun]:
    """Train three classifiers that show why a non-linearity is needed.

    1. a perceptron on linearly separable data (it succeeds);
    2. a perceptron on XOR data (no line separates XOR, so it fails);
    3. two stacked linear layers, 2 -> 8 -> 1, with no activation in between,
       on XOR (they collapse to one linear map, so they fail the same way).

    Each is trained by full-batch gradient descent on the binary cross-entropy
    of its logits. Returns name -> :class:`SeparabilityRun`, in that order.
    """
    check_positive_int("num_steps", num_steps)
    check_number("lr", lr, low=0)
    gen = torch.Generator().manual_seed(seed)
    separable, xor = linearly_separable_data(seed=seed), xor_data(seed=seed)
    first, second = Perceptron(2, gen), Perceptron(2, gen)
    with torch.random.fork_rng(devices=[]):  # PyTorch's own initialisation, seeded
        torch.manual_seed(seed)
        stack = nn.Sequential(nn.Linear(2, 8), nn.Linear(8, 1), nn.Flatten(0))
    models = {"perceptron\nseparable data": (first, separable),
              "perceptron\nXOR data": (second, xor),
              "two linear layers\nXOR data": (stack, xor)}
    results = {}
    for name, (model, (X, y)) in models.items():
        history = fit(model, (X, y),
                      loss_fn=nn.functional.binary_cross_entropy_with_logits,
                      optimizer=torch.optim.SGD(model.parameters(), lr=lr),
                      num_epochs=num_steps, batch_size=None, generator=gen)
        predict = lambda Z, m=model: sigmoid(m(Z))  # noqa: E731 (binds this model)
        with torch.no_grad():
            correct = (predict(X) > 0.5).float() == y
        results[name] = SeparabilityRun(predict, X, y, correct.float().mean().item(),
                                        history.train_loss)
    return results
