"""What the doctor returns: :class:`Diagnosis` (one per call), :class:`LayerReport` (one per
tapped module call), :class:`Finding` (one per problem, with its evidence and fix) and
:class:`InputReport` (the input check).

All are frozen dataclasses with ``to_dict()`` / ``to_json()``; ``Diagnosis.from_dict`` /
``from_json`` read the JSON back (schema :data:`SCHEMA`, documented in ``docs/doctor.md``).
Non-finite floats are written as the strings ``"nan"``, ``"inf"``, ``"-inf"`` so the JSON stays
strict; values that were not measured are ``null``.

Examples:
    >>> import torch, initlab
    >>> from torch import nn
    >>> torch.manual_seed(0) is not None
    True
    >>> dx = initlab.doctor(nn.Sequential(nn.Linear(8, 8), nn.ReLU()), torch.randn(16, 8))
    >>> Diagnosis.from_json(dx.to_json()) == dx
    True
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from initlab.views import render

#: Version tag written in every Diagnosis JSON; bump the number on incompatible changes.
SCHEMA = "initlab.diagnosis/1"

#: Layer statuses, most severe first: a layer's ``status`` is the first of its ``flags`` here.
STATUSES = ("nonfinite", "symmetric", "dead", "saturated", "exploding", "vanishing", "healthy")


def _enc(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, tuple | list):
        return [_enc(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _enc(x) for k, x in v.items()}
    return v


def _dec(v: Any) -> Any:
    if v in ("nan", "inf", "-inf"):
        return float(v)
    if isinstance(v, list):
        return tuple(_dec(x) for x in v)
    if isinstance(v, dict):
        return {k: _dec(x) for k, x in v.items()}
    return v


def _asdict(obj: Any) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(obj):
        if not f.compare:
            continue
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            v = v.to_dict()
        elif isinstance(v, tuple) and v and dataclasses.is_dataclass(v[0]):
            v = [x.to_dict() for x in v]
        out[f.name] = _enc(v)
    return out


def _build(cls: type, d: Mapping[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: _dec(v) for k, v in d.items() if k in names})


@dataclass(frozen=True)
class LayerReport:
    """Statistics and status of one call of one tapped module, or of one functional activation
    (``F.relu``, ``torch.tanh``... named ``<layer>.relu``, ``kind`` the module class ``ReLU``) or
    gated product (``kind`` ``GatedProduct``, ``activation`` ``swiglu``...).

    Forward: ``mean``, ``std``, ``rms``, ``max_abs`` of the output; ``gain`` = rms out / rms in;
    ``dead`` (ReLU family: share of units never positive on the batch), ``saturated`` (share of
    pre-activations with φ' < threshold), ``dup_units`` (share of non-constant units identical to
    another). Backward: ``grad_rms`` (gradient w.r.t. this output), ``weight_grad_norm``,
    ``grad_weight_ratio`` = ‖∇W‖/‖W‖. Weights: ``weight_std``, ``weight_ref_std`` (the std of
    ``weight_ref``, the scheme that keeps this layer's activation steady), ``dup_rows`` /
    ``dup_grad_rows`` (share of duplicate rows of W and of ∇W), ``bias_mean``.
    ``None`` means not applicable / not measured.
    """

    index: int
    name: str
    kind: str
    role: str
    shape: tuple[int, ...]
    mean: float
    std: float
    rms: float
    max_abs: float
    call: int = 0
    activation: str | None = None
    gain: float | None = None
    dead: float | None = None
    saturated: float | None = None
    dup_units: float | None = None
    grad_rms: float | None = None
    weight_std: float | None = None
    weight_ref: str | None = None
    weight_ref_std: float | None = None
    weight_grad_norm: float | None = None
    grad_weight_ratio: float | None = None
    dup_rows: float | None = None
    dup_grad_rows: float | None = None
    bias_mean: float | None = None
    nonfinite: bool = False
    status: str = "healthy"
    flags: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``name`` plus ``#k`` for the k-th repeated call of the same module."""
        return self.name if self.call == 0 else f"{self.name}#{self.call + 1}"

    def to_dict(self) -> dict[str, Any]:
        return _asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


@dataclass(frozen=True)
class Finding:
    """One problem: which layers, the numbers that show it, the likely cause, the fix.

    ``kind`` is a status (``"vanishing"``...) or ``"input"``; ``severity`` is ``"problem"`` or
    ``"warning"``; ``first``/``last`` are layer indices (``None`` for the input).
    """

    kind: str
    severity: str
    summary: str
    cause: str
    fix: str
    expected: str = ""
    layers: tuple[str, ...] = ()
    first: int | None = None
    last: int | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        tail = f" (expected: {self.expected})" if self.expected else ""
        return f"[{self.kind}] {self.summary}. Cause: {self.cause}. Fix: {self.fix}{tail}"


@dataclass(frozen=True)
class InputReport:
    """The input check: dtype, shape, overall and per-channel statistics (first 64 channels)."""

    dtype: str
    shape: tuple[int, ...]
    floating: bool
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    max_abs: float | None = None
    channel_axis: int | None = None
    channel_mean: tuple[float, ...] = ()
    channel_std: tuple[float, ...] = ()
    grad_rms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _asdict(self)


@dataclass(frozen=True)
class Diagnosis:
    """The doctor's result: per-layer reports in execution order, findings and the input check.

    ``verdict`` is the most severe layer status (:data:`STATUSES` order); ``ok`` is True when the
    verdict is healthy and there are no findings at all. ``samples`` (values per layer for the
    histograms) are kept for the figures but are not part of the JSON or of equality.
    """

    model: str
    verdict: str
    layers: tuple[LayerReport, ...]
    findings: tuple[Finding, ...]
    input: InputReport | None
    thresholds: Mapping[str, Any]
    loss: str
    notes: tuple[str, ...] = ()
    schema: str = SCHEMA
    samples: Mapping[int, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    # ------------------------------------------------------------------ access ---
    @property
    def ok(self) -> bool:
        """True when every layer is healthy and nothing (input included) was flagged."""
        return self.verdict == "healthy" and not self.findings

    @property
    def statuses(self) -> dict[str, str]:
        """Layer label → status."""
        return {r.label: r.status for r in self.layers}

    def problems(self) -> tuple[str, ...]:
        """The distinct finding kinds, most severe first (``"attention"`` after the statuses,
        ``"input"`` and ``"batchnorm"`` last)."""
        kinds = {f.kind for f in self.findings}
        return tuple(k for k in (*STATUSES, "attention", "input", "batchnorm") if k in kinds)

    def layer(self, name: str) -> LayerReport:
        """The first report of the module called ``name`` (or with that label)."""
        for r in self.layers:
            if r.name == name or r.label == name:
                return r
        raise KeyError(f"no layer named {name!r}; layers: {[r.label for r in self.layers]}")

    # ----------------------------------------------------------------- serialize ---
    def to_dict(self) -> dict[str, Any]:
        d = _asdict(self)
        order = [
            "schema",
            "model",
            "verdict",
            "loss",
            "input",
            "thresholds",
            "layers",
            "findings",
            "notes",
        ]
        return {k: d[k] for k in order if k in d}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Diagnosis:
        """Read a dict written by :meth:`to_dict` (schema ``initlab.diagnosis/1``)."""
        from initlab.errors import InitError

        schema = d.get("schema")
        if schema != SCHEMA:
            raise InitError(
                f"Diagnosis.from_dict: schema is {schema!r}, this initlab reads {SCHEMA!r}; "
                "re-run the doctor with this version"
            )
        layers = tuple(_build(LayerReport, x) for x in d.get("layers", ()))
        findings = tuple(_build(Finding, x) for x in d.get("findings", ()))
        inp = d.get("input")
        return cls(
            model=d["model"],
            verdict=d["verdict"],
            layers=layers,
            findings=findings,
            input=_build(InputReport, inp) if inp is not None else None,
            thresholds=_dec(dict(d.get("thresholds", {}))),
            loss=d.get("loss", ""),
            notes=tuple(d.get("notes", ())),
        )

    @classmethod
    def from_json(cls, text: str) -> Diagnosis:
        return cls.from_dict(json.loads(text))

    # ------------------------------------------------------------------- present ---
    # Drawn by report/ (doctor_table, doctor_figures, html), registered in initlab.views: the
    # probe layer never imports the presentation layer.
    def __rich__(self) -> Any:
        return render(self, "rich")

    def __str__(self) -> str:
        return str(render(self, "text"))

    def plot(self, path: str | Path) -> Path:
        """Write the figure (activation std and gradient rms vs depth, per-layer histograms).

        Drawn by :func:`initlab.report.doctor_figures.plot_diagnosis` (matplotlib, Agg).
        """
        return Path(render(self, "plot", path))

    def to_html(self, path: str | Path) -> Path:
        """Write a self-contained HTML report (figures embedded as base64 PNG).

        Drawn by :func:`initlab.report.html.write_diagnosis_html`.
        """
        return Path(render(self, "html", path))


__all__ = ["SCHEMA", "STATUSES", "Diagnosis", "Finding", "InputReport", "LayerReport"]
