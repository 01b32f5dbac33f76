"""Paper reproductions: the classic initialization results, re-measured on this machine.

Each reproduction is one module with a ``run(quick=..., **overrides)`` function returning an
:class:`~initlab.lab.experiment.ExperimentResult`: the numbers it measured (with standard errors
over seeds), the series its figure draws (``initlab.report.reproduce_figures``) and a verdict
**computed from the run** that says whether the paper's qualitative claim held here.
``quick=True`` is a scaled-down preset that runs in well under a minute on two CPU cores; the
full preset is closer to the paper. Any field of the module's ``Settings`` can be overridden
(``steps=50``, ``seeds=1``, ``depth=…``), which is how the tests run them tiny. ``device=``
(``"cpu"``, ``"cuda"``…) says where the models train; they are built and initialized on the CPU,
so the weights are the same on every device, and ``device="cpu"`` is the default.

Reproductions (name: paper → claim tested):

- ``exercise``: the users' exercise on MNIST → zeros at chance, N(0, 1) diverges, Xavier and He
  learn; He keeps ReLU gradient variance across layers.
- ``he2015``: He et al. 2015, Fig. 3 → 30-layer ReLU net: Xavier stalls, He converges.
- ``glorot2010``: Glorot & Bengio 2010, Figs. 2, 6–7 → standard vs normalized init; sigmoid
  top-layer saturation.
- ``schoenholz2017``: Schoenholz et al. 2017, Fig. 5 → tanh trainable iff depth ≲ 6ξ_c.
- ``saxe2014``: Saxe et al. 2014 → deep linear: orthogonal learns in depth-independent time.
- ``zhang2019``: Zhang et al. 2019 (Fixup) → no normalization: Fixup / zero-init train at depth,
  He does not.
- ``pennington2017``: Pennington et al. 2017 → at criticality orthogonal tanh is isometric and
  trains faster.

Examples:
    >>> [r.name for r in available_reproductions()][:2]
    ['exercise', 'he2015']
    >>> r = run_reproduction("he2015", quick=True, depth=4, width=16, steps=20, seeds=1)
    >>> r.verdict.value in ("supported", "partly", "not supported")
    True
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from initlab.errors import InitError
from initlab.lab.experiment import ExperimentResult

#: registry order = the order the CLI lists and runs them
NAMES: tuple[str, ...] = ("exercise", "he2015", "glorot2010", "schoenholz2017", "saxe2014",
                          "zhang2019", "pennington2017")


@dataclass(frozen=True)
class Reproduction:
    """One reproduction: its name, title, source, claim, and the module that runs it."""

    name: str
    title: str
    source: str
    claim: str
    module: str

    def _mod(self) -> ModuleType:
        return importlib.import_module(self.module)

    def settings(self, quick: bool = False) -> dict[str, Any]:
        """The preset's settings (``QUICK`` or ``FULL``) as a dict."""
        return dataclasses.asdict(self._mod().QUICK if quick else self._mod().FULL)

    def run(self, *, quick: bool = False, device: Any = "cpu",
            **overrides: Any) -> ExperimentResult:
        """Run it (``quick``: the scaled-down preset) on ``device`` with settings
        ``overrides``."""
        if not isinstance(quick, bool):
            raise InitError(f"reproduce {self.name}: quick must be True or False, got {quick!r}")
        return self._mod().run(quick=quick, device=device, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "source": self.source,
                "claim": self.claim, "quick": self.settings(True), "full": self.settings(False)}


def _load(name: str) -> Reproduction:
    mod = importlib.import_module(f"initlab.lab.reproduce.{name}")
    return Reproduction(mod.NAME, mod.TITLE, mod.SOURCE, mod.CLAIM, mod.__name__)


def available_reproductions() -> list[Reproduction]:
    """Every reproduction, in the registry's order."""
    return [_load(n) for n in NAMES]


def get_reproduction(name: str) -> Reproduction:
    """The reproduction called ``name``.

    Raises:
        InitError: unknown name (the message lists them).
    """
    if not isinstance(name, str) or name.strip().lower() not in NAMES:
        raise InitError(f"unknown reproduction {name!r}; choose from {', '.join(NAMES)}")
    return _load(name.strip().lower())


def run_reproduction(name: str, *, quick: bool = False, device: Any = "cpu",
                     **overrides: Any) -> ExperimentResult:
    """Run the reproduction ``name`` and return its :class:`ExperimentResult`.

    Args:
        name: one of :data:`NAMES`.
        quick: the scaled-down preset (seconds to a minute on two cores).
        device: where the models train (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``);
            InitError for a device this machine lacks.
        **overrides: fields of that reproduction's ``Settings`` (unknown ones: InitError).
    """
    return get_reproduction(name).run(quick=quick, device=device, **overrides)


__all__ = ["NAMES", "Reproduction", "available_reproductions", "get_reproduction",
           "run_reproduction"]
