"""Weight initialisation: the scale rules of Glorot and Bengio (2010) and He et al.
(2015), written from scratch.

Each function fills a weight tensor in place, drawing from ``generator``, and
returns it. Given a generator in the same state, each gives exactly the numbers
of its ``torch.nn.init`` namesake; the gain is a number here (see
:func:`calculate_gain`), where PyTorch's ``kaiming_*`` take the name of the
non-linearity.
"""

import math

import torch

from introdl.checks import check_number, check_tensor

__all__ = ["fan_in_and_fan_out", "calculate_gain", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]


def fan_in_and_fan_out(weight: torch.Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight ``(out_features, in_features, *kernel)``.

    Raises ``ValueError`` for fewer than two dimensions or a dimension of size 0.
    """
    check_tensor("weight", weight, floating=True)
    if weight.ndim < 2 or weight.numel() == 0:  # a bias, or nothing to fill
        raise ValueError(f"weight must be (out, in, ...), got {tuple(weight.shape)}")
    receptive_field = math.prod(weight.shape[2:])  # 1 for a dense layer
    fan_in = weight.shape[1] * receptive_field  # the inputs each output reads
    fan_out = weight.shape[0] * receptive_field  # the outputs each input feeds
    return fan_in, fan_out


def calculate_gain(nonlinearity: str) -> float:
    """The gain PyTorch recommends for ``nonlinearity``: 1 for ``"linear"`` and
    ``"sigmoid"``, 5/3 for ``"tanh"``, sqrt(2) for ``"relu"``. Raises
    ``ValueError`` for other names."""
    gains = {"linear": 1.0, "sigmoid": 1.0,
             "tanh": 5 / 3,  # makes up for tanh shrinking its inputs
             "relu": math.sqrt(2.0)}  # ReLU zeroes half its inputs: gain^2 = 2
    if nonlinearity not in gains:
        raise ValueError(f"nonlinearity must be one of {sorted(gains)}, "
                         f"got {nonlinearity!r}")
    return gains[nonlinearity]


def xavier_uniform_(weight: torch.Tensor, gain: float = 1.0, *,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill ``weight`` from U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``
    (Glorot and Bengio, 2010). Returns ``weight``."""
    check_number("gain", gain, low=0, low_open=True)
    fan_in, fan_out = fan_in_and_fan_out(weight)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))  # a compromise of both fans
    bound = math.sqrt(3.0) * std  # U(-a, a) has variance a^2 / 3
    with torch.no_grad():
        return weight.uniform_(-bound, bound, generator=generator)


def xavier_normal_(weight: torch.Tensor, gain: float = 1.0, *,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill ``weight`` from N(0, std^2), ``std = gain * sqrt(2 / (fan_in +
    fan_out))`` (Glorot and Bengio, 2010). Returns ``weight``."""
    check_number("gain", gain, low=0, low_open=True)
    fan_in, fan_out = fan_in_and_fan_out(weight)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    with torch.no_grad():
        return weight.normal_(0.0, std, generator=generator)


def kaiming_uniform_(weight: torch.Tensor, gain: float = math.sqrt(2.0),
                     mode: str = "fan_in", *,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill ``weight`` from U(-a, a), ``a = sqrt(3) * gain / sqrt(fan)`` (He et
    al., 2015), ``fan`` the fan-in or, with ``mode="fan_out"``, the fan-out.
    The default gain suits ReLU. Returns ``weight``."""
    check_number("gain", gain, low=0, low_open=True)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(weight)
    std = gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    bound = math.sqrt(3.0) * std  # U(-a, a) has variance a^2 / 3
    with torch.no_grad():
        return weight.uniform_(-bound, bound, generator=generator)


def kaiming_normal_(weight: torch.Tensor, gain: float = math.sqrt(2.0),
                    mode: str = "fan_in", *,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill ``weight`` from N(0, std^2), ``std = gain / sqrt(fan)`` (He et al.,
    2015), ``fan`` the fan-in (keeps the scale of the forward signal) or, with
    ``mode="fan_out"``, the fan-out (keeps the scale of the gradient). The
    default gain suits ReLU. Returns ``weight``."""
    check_number("gain", gain, low=0, low_open=True)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(weight)
    std = gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    with torch.no_grad():
        return weight.normal_(0.0, std, generator=generator)
