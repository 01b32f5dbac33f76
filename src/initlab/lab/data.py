"""Offline data for the lab: scikit-learn's bundled 8×8 digits (no download).

The digits set (1797 images of 8×8 pixels, 10 classes; Alpaydin & Kaynak 1998, the UCI
"optical recognition of handwritten digits" test set) ships inside scikit-learn, so training
comparisons run anywhere. Features are standardized with the training split's statistics:
x' = (x − μ_train) / σ_train (σ = 1 where a pixel is constant), the input scale the
variance-preserving schemes assume (Var[x] = 1).

Examples:
    >>> d = load_digits_split(seed=0)
    >>> d.x_train.shape[1], d.num_classes
    (64, 10)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import torch

from initlab.errors import InitError


@dataclass(frozen=True)
class Split:
    """A train/test split as float32 features and int64 labels."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    name: str = "digits"
    seed: int = 0

    @property
    def num_features(self) -> int:
        return int(self.x_train.shape[1])

    def to_dict(self) -> dict[str, Any]:
        """Sizes only (not the tensors)."""
        return {
            "name": self.name,
            "seed": self.seed,
            "n_train": int(self.x_train.shape[0]),
            "n_test": int(self.x_test.shape[0]),
            "num_features": self.num_features,
            "num_classes": self.num_classes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def load_digits_split(seed: int = 0, test_fraction: float = 0.25) -> Split:
    """scikit-learn's bundled digits, shuffled with ``seed`` and split, standardized by the
    training split: x' = (x − μ_train)/σ_train.

    Args:
        seed: seed of the shuffle (a non-negative int).
        test_fraction: share of the 1797 samples held out, in (0, 1).

    Raises:
        InitError: bad ``seed`` or ``test_fraction``; scikit-learn missing.

    Examples:
        >>> d = load_digits_split(seed=1, test_fraction=0.5)
        >>> d.x_train.shape[0] + d.x_test.shape[0]
        1797
        >>> abs(float(d.x_train.mean())) < 1e-5
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InitError(f"load_digits_split: seed must be a non-negative int, got {seed!r}")
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, int | float)
        or not 0.0 < float(test_fraction) < 1.0
    ):
        raise InitError(
            f"load_digits_split: test_fraction must be a number strictly between 0 and 1 "
            f"(e.g. 0.25), got {test_fraction!r}"
        )
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - declared dependency
        raise InitError(
            "load_digits_split needs scikit-learn (bundled digits): pip install 'scikit-learn>=1.3'"
        ) from None
    bunch = load_digits()
    x = torch.as_tensor(bunch.data, dtype=torch.float64)
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    n = x.shape[0]
    n_test = round(n * float(test_fraction))
    if n_test < 1 or n_test > n - 1:
        raise InitError(
            f"load_digits_split: test_fraction={test_fraction} leaves an empty split of the "
            f"{n} samples; use a value like 0.25"
        )
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    mu = x[train_idx].mean(0)
    sd = x[train_idx].std(0)
    sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    xs = ((x - mu) / sd).to(torch.float32)
    return Split(
        x_train=xs[train_idx].contiguous(),
        y_train=y[train_idx].contiguous(),
        x_test=xs[test_idx].contiguous(),
        y_test=y[test_idx].contiguous(),
        num_classes=int(y.max()) + 1,
        name="digits",
        seed=seed,
    )


__all__ = ["Split", "load_digits_split"]
