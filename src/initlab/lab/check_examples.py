"""Learner-style initializers for :func:`initlab.lab.check.check_initializer`: one correct
implementation per calling style and the classic mistakes, written the way the seeds' exercise
is usually solved (NumPy, no ``torch.nn.init``).

They are the explorer's "check" page examples and the tests' fixtures; try them with
``initlab check initlab.lab.check_examples:xavier_normal_std_as_variance --scheme xavier_normal``.

Examples:
    >>> xavier_normal((4, 3)).shape
    (4, 3)
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    rf = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * rf, shape[0] * rf


def xavier_normal(shape: tuple[int, ...]) -> np.ndarray:
    """Correct: N(0, 2/(fan_in + fan_out)), fans with the kernel (torch layout (out, in, *k))."""
    fan_in, fan_out = _fans(shape)
    return np.random.randn(*shape) * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform(shape: tuple[int, ...]) -> np.ndarray:
    """Correct: U(−b, b), b = √(6/(fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    b = math.sqrt(6.0 / (fan_in + fan_out))
    return np.random.uniform(-b, b, size=shape)


def kaiming_normal_(tensor: torch.Tensor) -> torch.Tensor:
    """Correct, torch style (in place): N(0, 2/fan_in)."""
    fan_in, _ = _fans(tuple(tensor.shape))
    with torch.no_grad():
        return tensor.normal_(0.0, math.sqrt(2.0 / fan_in))


def he_init(fan_in: int, fan_out: int) -> np.ndarray:
    """Correct, the seeds' sketch: a fan_in × fan_out matrix with std √(2/fan_in)."""
    return np.random.randn(fan_in, fan_out) * math.sqrt(2.0 / fan_in)


def kaiming_normal_fan_out(shape: tuple[int, ...]) -> np.ndarray:
    """Wrong: the weight read as (in, out), so fan_out is used where He needs fan_in."""
    _, fan_out = _fans(shape)
    return np.random.randn(*shape) * math.sqrt(2.0 / fan_out)


def kaiming_normal_no_kernel(shape: tuple[int, ...]) -> np.ndarray:
    """Wrong: fan_in = shape[1], the kernel size forgotten (right for Linear, not for Conv)."""
    return np.random.randn(*shape) * math.sqrt(2.0 / shape[1])


def xavier_normal_std_as_variance(shape: tuple[int, ...]) -> np.ndarray:
    """Wrong: the variance 2/(fan_in + fan_out) used as the std (no square root)."""
    fan_in, fan_out = _fans(shape)
    return np.random.randn(*shape) * (2.0 / (fan_in + fan_out))


def xavier_uniform_no_sqrt3(shape: tuple[int, ...]) -> np.ndarray:
    """Wrong: U(−std, std): the bound is off by √3 (variance a third of Xavier's)."""
    fan_in, fan_out = _fans(shape)
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return np.random.uniform(-std, std, size=shape)


def xavier_uniform_not_centred(shape: tuple[int, ...]) -> np.ndarray:
    """Wrong: rand() in [0, 1) scaled by the bound: U(0, b) instead of U(−b, b)."""
    fan_in, fan_out = _fans(shape)
    return np.random.rand(*shape) * math.sqrt(6.0 / (fan_in + fan_out))


#: name → (function, the scheme it means to implement, the mistake it makes or None).
EXAMPLES = {
    "xavier_normal": (xavier_normal, "xavier_normal", None),
    "xavier_uniform": (xavier_uniform, "xavier_uniform", None),
    "kaiming_normal_": (kaiming_normal_, "kaiming_normal", None),
    "he_init": (he_init, "kaiming_normal", None),
    "kaiming_normal_fan_out": (kaiming_normal_fan_out, "kaiming_normal", "fan_out_for_fan_in"),
    "kaiming_normal_no_kernel": (
        kaiming_normal_no_kernel, "kaiming_normal", "kernel_size_forgotten"),
    "xavier_normal_std_as_variance": (
        xavier_normal_std_as_variance, "xavier_normal", "variance_as_std"),
    "xavier_uniform_no_sqrt3": (
        xavier_uniform_no_sqrt3, "xavier_uniform", "uniform_bound_no_sqrt3"),
    "xavier_uniform_not_centred": (xavier_uniform_not_centred, "xavier_uniform", "not_centred"),
}

__all__ = ["EXAMPLES", *EXAMPLES]
