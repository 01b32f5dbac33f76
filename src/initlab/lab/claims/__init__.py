"""The texts' claims about initialization, each an experiment ending in a measured verdict.

Every claim module defines ``NAME``, ``TITLE``, ``CLAIM`` (the texts' words), ``SOURCE`` (where
the texts make it, and the paper that established or refuted it) and
``run(*, quick=True, seeds=None, ..., device="cpu") -> ExperimentResult``. ``device`` says where
the networks run (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``; the float64 claims refuse MPS);
every weight and batch is drawn on the CPU's generators and then moved. The verdict (``supported``,
``partly``, ``not supported``) is computed from the run's effect sizes and their standard errors
over seeds; see docs/claims.md for each experiment.

Examples:
    >>> available_claims()[:3]
    ['symmetry', 'linear_variance', 'relu_variance']
    >>> r = run_claim("linear_variance", widths=(16,), variances=(1.0,), depth=3, seeds=2)
    >>> r.verdict.value
    'supported'
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

from initlab.errors import InitError
from initlab.lab.experiment import ExperimentResult

#: claim name → module under ``initlab.lab.claims``, in the issue's numbering (1…12).
CLAIMS: dict[str, str] = {
    "symmetry": "symmetry",
    "linear_variance": "linear_variance",
    "relu_variance": "relu_variance",
    "input_gradient": "input_gradient",
    "zero_gamma": "zero_gamma",
    "optimistic": "optimistic",
    "ntk": "ntk",
    "pinn": "pinn",
    "rnn_memory": "rnn_memory",
    "input_scale": "input_scale",
    "new_heads": "new_heads",
    "maml": "maml",
}


def _available() -> list[str]:
    out = []
    for name, mod in CLAIMS.items():
        if importlib.util.find_spec(f"initlab.lab.claims.{mod}") is not None:
            out.append(name)
    return out


def available_claims() -> list[str]:
    """Names of the claims this installation can run, in the issue's order."""
    return _available()


def claim_module(name: str) -> ModuleType:
    """The module of claim ``name`` (with NAME, TITLE, CLAIM, SOURCE, run).

    Raises:
        InitError: unknown name (the message lists the known ones).
    """
    names = _available()
    if name not in names:
        raise InitError(f"unknown claim {name!r}; choose from {', '.join(names)}")
    return importlib.import_module(f"initlab.lab.claims.{CLAIMS[name]}")


def run_claim(name: str, *, quick: bool = True, device: Any = "cpu",
              **kwargs: Any) -> ExperimentResult:
    """Run claim ``name`` (quick size by default) on ``device``; keyword arguments go to its
    ``run``.

    Raises:
        InitError: an unknown claim, a bad argument, a device this machine lacks.
    """
    return claim_module(name).run(quick=quick, device=device, **kwargs)


__all__ = ["CLAIMS", "available_claims", "claim_module", "run_claim"]
