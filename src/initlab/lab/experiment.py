"""Experiments that end in a measured verdict: the one shape of reproductions and claims.

A reproduction of a paper's result (``initlab reproduce``) and a test of one of the texts'
claims (``initlab claims``) are both *data in, result out*: a function runs the experiment and
returns an :class:`ExperimentResult` holding the numbers it measured, the series a figure draws,
the effect sizes with their uncertainty over seeds, and a :class:`Verdict` **computed from those
numbers** (never written in). The CLI, the web explorer and the tests call the same function;
only ``report/`` draws the result.

Examples:
    >>> e = Effect.from_samples("slope", [0.98, 1.01, 1.02], target=1.0)
    >>> round(e.value, 3), e.n
    (1.003, 3)
    >>> verdict_from_checks([True, True]).value, verdict_from_checks([True, False]).value
    ('supported', 'partly')
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from initlab.errors import InitError

SCHEMA = "initlab.experiment/1"


class Verdict(str, Enum):
    """Whether the measured effect supports the claim."""

    SUPPORTED = "supported"
    PARTLY = "partly"
    NOT_SUPPORTED = "not supported"


@dataclass(frozen=True)
class Effect:
    """One measured quantity: its mean over ``n`` seeds, the standard error of that mean, and
    the value the claim predicts (``target``), if any.

    The standard error is the sample standard deviation over seeds divided by √n (0 for n = 1,
    where no spread can be measured: ``stderr_known`` is then False).
    """

    name: str
    value: float
    stderr: float = 0.0
    n: int = 1
    target: float | None = None
    unit: str = ""
    note: str = ""

    @classmethod
    def from_samples(cls, name: str, samples: Iterable[float], *, target: float | None = None,
                     unit: str = "", note: str = "") -> Effect:
        """Mean and standard error of the mean of ``samples`` (one per seed).

        Non-finite samples are kept: the mean is then non-finite, which a verdict must treat as
        a failed measurement rather than silently dropping a diverged seed.

        Examples:
            >>> Effect.from_samples("x", [1.0, 3.0]).stderr
            1.0
        """
        xs = [float(s) for s in samples]
        if not xs:
            raise InitError(f"Effect.from_samples: no samples for {name!r}; run ≥ 1 seed")
        mean = math.fsum(xs) / len(xs)
        if len(xs) > 1 and all(math.isfinite(x) for x in xs):
            se = statistics.stdev(xs) / math.sqrt(len(xs))
        else:
            se = 0.0
        return cls(name, mean, se, len(xs), target, unit, note)

    @property
    def stderr_known(self) -> bool:
        return self.n > 1

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        """Normal-approximation confidence interval of the mean (z = 1.96: ~95 %)."""
        return (self.value - z * self.stderr, self.value + z * self.stderr)

    def agrees_with_target(self, rel_tol: float, z: float = 2.0) -> bool:
        """True when ``value`` is within ``rel_tol``·|target| of the target, widened by
        ``z`` standard errors (so a noisy measurement is not called a disagreement)."""
        if self.target is None:
            raise InitError(f"Effect {self.name!r} has no target to agree with")
        if not math.isfinite(self.value):
            return False
        return abs(self.value - self.target) <= rel_tol * abs(self.target) + z * self.stderr

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": _json_float(self.value),
            "stderr": _json_float(self.stderr),
            "n": self.n,
            "target": _json_float(self.target),
            "unit": self.unit,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Effect:
        return cls(d["name"], _float(d["value"]), _float(d["stderr"]), int(d["n"]),
                   None if d.get("target") is None else _float(d["target"]),
                   d.get("unit", ""), d.get("note", ""))

    def __str__(self) -> str:
        s = f"{self.name} = {self.value:.4g}"
        if self.stderr_known:
            s += f" ± {self.stderr:.2g}"
        if self.target is not None:
            s += f" (predicted {self.target:.4g})"
        return s + (f" {self.unit}" if self.unit else "")


def verdict_from_checks(checks: Sequence[bool]) -> Verdict:
    """``supported`` when every check holds, ``not supported`` when none does, else ``partly``.

    Examples:
        >>> verdict_from_checks([False, False]).value
        'not supported'
    """
    if not checks:
        raise InitError("verdict_from_checks: no checks; an experiment must test something")
    n = sum(bool(c) for c in checks)
    if n == len(checks):
        return Verdict.SUPPORTED
    return Verdict.NOT_SUPPORTED if n == 0 else Verdict.PARTLY


@dataclass(frozen=True)
class ExperimentResult:
    """What one experiment measured and concluded.

    Attributes:
        name: registry name (``"he2015"``, ``"symmetry"``).
        title: one line for tables.
        claim: the claim tested, in the source's words where possible.
        source: where the claim is made / the paper that established it.
        verdict: computed from ``effects``/``numbers`` by the experiment.
        reason: the sentence that says which measured numbers led to the verdict.
        effects: the effect sizes, with their uncertainty over seeds.
        numbers: every other measured number (JSON-able), e.g. per-layer curves.
        figure: the series a renderer in ``report/`` draws (JSON-able).
        settings: the experiment's arguments (quick, seeds, sizes…), for reproducibility.
        elapsed_s: wall time of the run.
    """

    name: str
    title: str
    claim: str
    source: str
    verdict: Verdict
    reason: str
    effects: tuple[Effect, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict)
    figure: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def effect(self, name: str) -> Effect:
        """The effect called ``name``."""
        for e in self.effects:
            if e.name == name:
                return e
        raise InitError(f"{self.name}: no effect {name!r}; have {[e.name for e in self.effects]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "name": self.name,
            "title": self.title,
            "claim": self.claim,
            "source": self.source,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "effects": [e.to_dict() for e in self.effects],
            "numbers": _jsonable(self.numbers),
            "figure": _jsonable(self.figure),
            "settings": _jsonable(self.settings),
            "elapsed_s": self.elapsed_s,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentResult:
        if d.get("schema") != SCHEMA:
            raise InitError(f"ExperimentResult.from_dict: schema {d.get('schema')!r}, "
                            f"expected {SCHEMA!r}")
        return cls(
            name=d["name"], title=d["title"], claim=d["claim"], source=d["source"],
            verdict=Verdict(d["verdict"]), reason=d["reason"],
            effects=tuple(Effect.from_dict(e) for e in d["effects"]),
            numbers=d["numbers"], figure=d["figure"], settings=d["settings"],
            elapsed_s=float(d["elapsed_s"]),
        )

    @classmethod
    def from_json(cls, s: str) -> ExperimentResult:
        return cls.from_dict(json.loads(s))

    def __str__(self) -> str:
        lines = [f"{self.title}: {self.verdict.value}", f"  {self.reason}"]
        lines += [f"  {e}" for e in self.effects]
        return "\n".join(lines)


def _json_float(x: float | None) -> float | str | None:
    """JSON has no NaN/inf: write them as strings so a diverged run survives a round trip."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def _float(x: Any) -> float:
    return float(x)  # float("nan"), float("inf") parse the strings _json_float writes


def _jsonable(obj: Any) -> Any:
    """Floats made JSON-safe recursively (tuples become lists, tensors/arrays lists)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str | int):
        return obj
    if isinstance(obj, float):
        return _json_float(obj)
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return _jsonable(tolist())
    if isinstance(obj, Enum):
        return obj.value
    raise InitError(f"ExperimentResult: {type(obj).__name__} is not JSON-able; store numbers")


__all__ = ["SCHEMA", "Effect", "ExperimentResult", "Verdict", "verdict_from_checks"]
