"""Argument checks shared by the public functions of the package ``introdl``.

Each helper raises ``TypeError`` or ``ValueError`` whose message names the
argument and what it received, before any computation happens. The book shows
this file once, where its helpers are first used.
"""

import numbers

import torch

__all__ = ["check_tensor", "check_ndim", "check_number", "check_scalar",
           "check_positive_int", "check_same_shape"]


def check_tensor(name: str, value, *, floating: bool = False,
                 ndim: tuple[int, ...] | None = None, shape=None,
                 last_dim: int | None = None,
                 dtype: torch.dtype | tuple[torch.dtype, ...] | None = None
                 ) -> torch.Tensor:
    """Return ``value`` if it is a tensor, else raise ``TypeError`` naming it.

    Optionally also require a floating-point dtype, a number of dimensions among
    ``ndim``, the exact ``shape``, the size ``last_dim`` of the last dimension or
    the ``dtype`` (or one of a tuple of dtypes); ``ValueError`` for a wrong shape,
    ``TypeError`` for a wrong dtype.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {value.dtype}")
    if ndim is not None:
        check_ndim(name, value, ndim)
    if shape is not None and value.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, "
                         f"got {tuple(value.shape)}")
    if last_dim is not None and value.shape[-1:] != (last_dim,):
        raise ValueError(f"{name} must have size {last_dim} in its last dimension, "
                         f"got shape {tuple(value.shape)}")
    dtypes = dtype if isinstance(dtype, tuple) else (dtype,)
    if dtype is not None and value.dtype not in dtypes:
        raise TypeError(f"{name} must have dtype {' or '.join(map(str, dtypes))}, "
                        f"got {value.dtype}")
    return value


def check_ndim(name: str, value: torch.Tensor, allowed: tuple[int, ...]) -> None:
    """Raise ``ValueError`` unless ``value.ndim`` is one of ``allowed``."""
    if value.ndim not in allowed:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, allowed))} dimension(s), "
            f"got shape {tuple(value.shape)}"
        )


def check_number(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a real number within the bounds.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open`` is set.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high or value != value:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        interval = f"{lo}{low if low is not None else '-inf'}, "
        interval += f"{high if high is not None else 'inf'}{hi}"
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return value


def check_scalar(name: str, value):
    """Return ``value`` if it is a real number (not NaN) or a 0-d tensor."""
    if isinstance(value, torch.Tensor):
        return check_tensor(name, value, ndim=(0,))
    return check_number(name, value)


def check_positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    """Return ``value`` if it is an int > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)


def check_same_shape(name_a: str, a, name_b: str, b) -> None:
    """Raise unless ``a`` and ``b`` are floating tensors of one non-empty shape."""
    check_tensor(name_a, a, floating=True)
    check_tensor(name_b, b, floating=True)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.numel() == 0:
        raise ValueError(f"{name_a} is empty: the mean of no values is undefined")
