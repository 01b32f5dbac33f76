"""Statuses from depth-wise trends: when is a layer vanishing, exploding, saturated, dead...

One magic number per layer would flag healthy models (a transformer's embedding rms is 0.02, its
LayerNorm outputs 1) and miss slow collapses. The doctor instead looks at how a quantity moves
along depth, within each **group** of records of the same role and module type (all ``Tanh``
outputs, all ``Linear`` outputs...):

* **per-layer factor** f: least-squares fit of log(rms) against the occurrence index k in the
  group, f = exp(slope) (a steady collapse by 0.71× per layer gives f = 0.71);
* **deviation** d = rms / reference, the reference being the input's rms (the first record's when
  the input is not floating point) for activations, and the gradient rms nearest the output for
  gradients. A model with several stacks of repeated blocks side by side (an encoder and a
  decoder: ``model.encoder.layers.#`` and ``model.decoder.layers.#``) has one gradient reference
  per stack, the gradient nearest that stack's own output: an encoder reached only through
  cross-attention gets a small gradient by construction (Whisper's, ~1e-4 of its decoder's at
  Hugging Face's start), and only a decay along its own depth is a vanishing gradient.

A record is

* ``vanishing`` if d < 1/``band`` and f < 1/``trend`` (forward), or its gradient rms is below
  1/``band`` of the output-side gradient with gradients growing by more than ``trend`` per layer
  toward the output (backward; for a layer repeated along depth the output-side gradient is the
  same layer's nearest the output, since q/k projections get small gradients at init by
  design); or anywhere d < 1/``extreme``, or the rms is exactly 0;
* ``exploding``: the mirror image (d > ``band`` and f > ``trend``, or d > ``extreme``);
* ``saturated``: share of pre-activations with φ'(x) < ``sat_derivative`` ≥ ``saturated``
  (tanh, sigmoid, hardtanh, GELU... not the ReLU family);
* ``dead``: share of ReLU/ReLU6 units never positive on the batch ≥ ``dead``. The default 0.75 is
  high on purpose: at depth, even a He-initialized ReLU net maps a batch to nearly parallel
  vectors (the correlation map tends to 1, Schoenholz et al. 2017), so a unit can be inactive on a
  whole batch without anything being wrong; at depth 50 and batch 128 about 40% are;
* ``symmetric``: share of duplicate weight rows ≥ ``symmetric`` *and* the same for the weight
  gradient rows (identical rows with identical gradients stay identical: the all-equal-init
  failure; a zero-initialized last layer, as in Fixup, gets distinct gradient rows and is fine);
  an activation point is symmetric when its layer is, or when ≥ ``symmetric`` of its non-constant
  units are copies of another;
* ``nonfinite``: a NaN or Inf in the output or its gradient.

The output layer (the last parameterized record and the records after it) stays out of the
trend fits and of the forward ``vanishing`` test: small initial logits (a classifier drawn from
N(0, 0.01²)) are deliberate; only a collapse carried in from the layers before it (the record
just before is vanishing) continues into it. The gradient reference is the gradient rms just
before it.

The status is the most severe flag (:data:`initlab.probe.diagnosis.STATUSES` order).

Examples:
    >>> round(per_layer_factor([1.0, 0.5, 0.25, 0.125]), 6)
    0.5
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initlab.errors import InitError
from initlab.probe.diagnosis import STATUSES, Finding


@dataclass(frozen=True)
class Thresholds:
    """The doctor's thresholds (pass any of them to :func:`initlab.doctor` as keywords).

    Attributes:
        band: factor an rms may drift from its reference before a trend counts (10).
        trend: per-layer factor beyond which a drift is steady (1.1: 10% per layer).
        extreme: drift flagged whatever the trend (1e4).
        min_layers: records a group needs for a trend fit (3).
        dead: share of never-positive ReLU units that makes a layer dead (0.75).
        saturated: share of saturated pre-activations that makes a layer saturated (0.5).
        sat_derivative: φ' below this counts as saturated (0.05; tanh: |x| > 2.18).
        symmetric: share of duplicate weight rows / unit copies that makes a layer symmetric (0.5).
        input_std_band: input std outside [1/band, band] is reported (10).
        input_mean: input |mean|/std above this is reported (3).
        logit_std: output logits (a (N, C) or (N, T, C) output) with a larger std start
            saturated (5).
        loss_excess: a cross-entropy start above ln(C) + this many nats is flagged (2).
        long_group: in groups of at least this many records, a total drift over the group
            beyond ``band`` counts even when each per-layer factor is within ``trend`` (8).
        bn_values: a BatchNorm in train mode that normalizes over at most this many values per
            channel (batch × spatial positions) is reported: its output is mostly noise (4).
        attn_entropy: attention whose mean softmax entropy at init is below this share of
            ln(number of keys) is near one-hot and reported (0.5; uniform is 1).
        gate_saturated: an ``nn.LSTM``/``nn.GRU`` whose sigmoid gates or tanh values on the
            first time steps have φ' < ``sat_derivative`` in at least this share is reported
            (0.25: PyTorch's default U(±1/√hidden) start saturates none of them, and a stuck
            gate multiplies the gradient through time by < ``sat_derivative`` per step).
    """

    band: float = 10.0
    trend: float = 1.1
    extreme: float = 1e4
    min_layers: int = 3
    dead: float = 0.75
    saturated: float = 0.5
    sat_derivative: float = 0.05
    symmetric: float = 0.5
    input_std_band: float = 10.0
    input_mean: float = 3.0
    logit_std: float = 5.0
    loss_excess: float = 2.0
    long_group: int = 8
    bn_values: int = 4
    attn_entropy: float = 0.5
    gate_saturated: float = 0.25

    @classmethod
    def from_kwargs(cls, **kw: Any) -> Thresholds:
        """Defaults overridden by ``kw``; an unknown name raises with the list of known ones."""
        names = [f.name for f in dataclasses.fields(cls)]
        bad = sorted(set(kw) - set(names))
        if bad:
            raise InitError(
                f"doctor: unknown threshold(s) {bad}; the thresholds are {names} "
                "(see initlab.probe.Thresholds)"
            )
        for k, v in kw.items():
            if not isinstance(v, int | float) or isinstance(v, bool) or not v > 0:
                raise InitError(f"doctor: threshold {k}={v!r} must be a positive number")
        if kw.get("band", 2.0) <= 1 or kw.get("trend", 2.0) <= 1 or kw.get("extreme", 2.0) <= 1:
            raise InitError("doctor: band, trend and extreme are factors and must be > 1")
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def per_layer_factor(values: Sequence[float | None]) -> float | None:
    """exp(slope) of the least-squares line through log(values) vs index (finite, > 0 only).

    None with fewer than two usable points.
    """
    pts = [
        (i, math.log(v))
        for i, v in enumerate(values)
        if v is not None and math.isfinite(v) and v > 0
    ]
    if len(pts) < 2:
        return None
    k = np.array([p[0] for p in pts], dtype=np.float64)
    y = np.array([p[1] for p in pts], dtype=np.float64)
    if np.ptp(k) == 0:
        return None
    slope = float(np.polyfit(k, y, 1)[0])
    return math.exp(max(min(slope, 700.0), -700.0))


def _ok(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[int]]:
    """Records fitted in one trend. The doctor gives each record a ``group``: the same layer of
    each repeated block (block indices removed from the path) and module type. A group that
    occurs once falls back to (role, module type); embeddings are inputs and get no trend."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.get("group") or ""] = counts.get(r.get("group") or "", 0) + 1
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        group = r.get("group") or ""
        if group == "embedding":
            continue
        key = (r["role"], group) if group and counts[group] >= 2 else (r["role"], r["kind"])
        groups.setdefault(key, []).append(i)
    return groups


def _references(
    rows: list[dict[str, Any]], input_rms: float | None, out_start: int
) -> tuple[float | None, float | None]:
    """(forward reference rms, gradient reference rms) of the deviation test."""
    ref = input_rms if _ok(input_rms) and input_rms and input_rms > 0 else None
    if ref is None:
        ref = next((r["rms"] for r in rows if _ok(r["rms"]) and r["rms"] > 0), None)
    gref = next(
        (r["grad_rms"] for r in reversed(rows[:out_start] or rows)
         if _ok(r.get("grad_rms")) and r["grad_rms"] > 0),
        None,
    )  # fmt: skip
    return ref, gref


_BLOCK_INDEX = re.compile(r"^(.*?)\.?[^.]+\.\d+(?:\.|$)")


def stacks(names: Sequence[str]) -> list[str]:
    """The stacks of repeated blocks among module paths: the owner of each container indexed
    by block (``model.encoder`` for ``model.encoder.layers.3.fc1``), when there are at least
    two, none inside another; ``[]`` for a model with one stack (or none).

    Examples:
        >>> stacks(["model.encoder.layers.0.fc1", "model.decoder.layers.1.fc1", "proj_out"])
        ['model.decoder', 'model.encoder']
        >>> stacks(["transformer.h.0.attn", "transformer.h.1.attn", "lm_head"])
        []
    """
    found = set()
    for n in names:
        m = _BLOCK_INDEX.match(n)
        if m and m.group(1):
            found.add(m.group(1))
    if len(found) < 2 or any(a.startswith(b + ".") for a in found for b in found if a != b):
        return []
    return sorted(found)


def _stack_of(name: str, stack_names: Sequence[str]) -> str | None:
    return next((s for s in stack_names if name == s or name.startswith(s + ".")), None)


def _stack_grad_refs(
    rows: list[dict[str, Any]], out_start: int, names: Sequence[str]
) -> dict[str, float]:
    """Per stack (see :func:`stacks`), the gradient rms of its record nearest its output."""
    refs: dict[str, float] = {}
    for r in reversed(rows[:out_start]):
        s = _stack_of(r.get("name", ""), names)
        g = r.get("grad_rms")
        if s is not None and s not in refs and _ok(g) and g > 0:
            refs[s] = g
    return refs


def _steady(f: float | None, n: int, th: Thresholds, up: bool) -> bool:
    """A steady drift: per-layer factor beyond ``trend``, or, in a long group, a total change
    over the group beyond ``band`` (a slow drift of ×1.08 per layer over 50 layers is ×41)."""
    if not f:
        return False
    if (f > th.trend) if up else (f < 1 / th.trend):
        return True
    total = f ** (n - 1)
    return n >= th.long_group and ((total > th.band) if up else (total < 1 / th.band))


def _zero_start(r: dict[str, Any]) -> bool:
    """In a residual branch deliberately started at zero (Fixup, zero-γ, SkipInit: the doctor
    marks them from the structure), zeros in the branch are the design."""
    return bool(r.get("zero_branch"))


def _trend_flags(
    rows: list[dict[str, Any]], members: list[int], ref: float | None,
    grefs: list[float | None], th: Thresholds, flags: list[list[str]],
) -> None:  # fmt: skip
    """Flags from one group's trends. Gradients are taken relative to their own stack's
    reference (``grefs``, per record) before the trend is fitted, so a group that spans an
    encoder and a decoder does not see the step between them as a decay."""
    n = len(members)
    enough = n >= th.min_layers

    def rel(i: int) -> float | None:
        g, gr = rows[i].get("grad_rms"), grefs[i]
        return g / gr if _ok(g) and gr else None

    f = per_layer_factor([rows[i]["rms"] for i in members]) if enough else None
    fg = per_layer_factor([rel(i) for i in members]) if enough else None
    for i in members:
        r = rows[i]
        v, g, dg = r["rms"], r.get("grad_rms"), rel(i)
        if _ok(v) and ref and not _zero_start(r):
            d = v / ref
            if v == 0 or d < 1 / th.extreme or (d < 1 / th.band and _steady(f, n, th, False)):
                flags[i].append("vanishing")
            elif d > th.extreme or (d > th.band and _steady(f, n, th, True)):
                flags[i].append("exploding")
        if dg is not None and not _zero_start(r):
            if g == 0 or dg < 1 / th.extreme or (dg < 1 / th.band and _steady(fg, n, th, True)):
                flags[i].append("vanishing_grad")
            elif dg > th.extreme or (dg > th.band and _steady(fg, n, th, False)):
                flags[i].append("exploding_grad")


def assess(rows: list[dict[str, Any]], input_rms: float | None, th: Thresholds) -> None:
    """Set ``flags`` and ``status`` in each row dict (in place) from the trends.

    ``rows`` are the raw per-record dicts (``role``, ``kind``, ``rms``, ``grad_rms``, ``dead``,
    ``saturated``, ``dup_rows``, ``dup_grad_rows``, ``dup_units``, ``nonfinite``).
    """
    # The output layer (the last parameterized record and what follows it) is left out of the
    # trends and of the forward vanishing test: small initial logits are a deliberate choice
    # (e.g. a classifier drawn from N(0, 0.01²)), not a collapse.
    params = [i for i, r in enumerate(rows) if r["role"] == "param"]
    out_start = params[-1] if len(params) >= 2 else len(rows)
    ref, gref = _references(rows, input_rms, out_start)
    names = stacks([r.get("name", "") for r in rows])
    stack_refs = _stack_grad_refs(rows, out_start, names)
    grefs = [stack_refs.get(_stack_of(r.get("name", ""), names) or "", gref) for r in rows]
    flags: list[list[str]] = [[] for _ in rows]
    for (_, group), members in _groups(rows[:out_start]).items():
        if "|" in group and len(members) >= th.min_layers:
            # a layer repeated along depth: its gradient is compared with the same layer
            # nearest the output (q/k projections and the norms feeding them get small
            # gradients at init by design; only a decay along depth is vanishing)
            last = next((rows[i]["grad_rms"] for i in reversed(members)
                         if _ok(rows[i].get("grad_rms")) and rows[i]["grad_rms"] > 0), None)
            local = [last if last is not None and i in members else gr
                     for i, gr in enumerate(grefs)]  # fmt: skip
            _trend_flags(rows, members, ref, local, th, flags)
        else:
            _trend_flags(rows, members, ref, grefs, th, flags)
    _output_flags(rows, out_start, ref, th, flags)
    _local_flags(rows, th, flags)
    _join_units(rows)


def _output_flags(
    rows: list[dict[str, Any]], out_start: int, ref: float | None, th: Thresholds,
    flags: list[list[str]],
) -> None:  # fmt: skip
    """Output layer: only extreme growth counts, and a collapse that reaches it from the layers
    before (the record just before it is vanishing) continues into it."""
    carried = out_start > 0 and "vanishing" in flags[out_start - 1]
    for i in range(out_start, len(rows)):
        v = rows[i]["rms"]
        if _ok(v) and ref and (v / ref > th.extreme):
            flags[i].append("exploding")
        elif _ok(v) and ref and carried and (v == 0 or v / ref < 1 / th.band):
            flags[i].append("vanishing")


def _local_flags(rows: list[dict[str, Any]], th: Thresholds, flags: list[list[str]]) -> None:
    """Per-record flags (non-finite, symmetric, dead, saturated), then each record's status."""
    last_param: int | None = None
    for i, r in enumerate(rows):
        fl = flags[i]
        if r.get("nonfinite"):
            fl.append("nonfinite")
        inherited = last_param is not None and "symmetric" in flags[last_param]
        if r["role"] == "param":
            # a norm layer (no matrix weight) passes symmetric units on unchanged
            if _symmetric_param(r, th) if r.get("matrix", True) else inherited:
                fl.append("symmetric")
            last_param = i
        else:
            if inherited or (_ok(r.get("dup_units")) and r["dup_units"] >= th.symmetric):
                fl.append("symmetric")
            if _ok(r.get("dead")) and r["dead"] >= th.dead:
                fl.append("dead")
            if _ok(r.get("saturated")) and r["saturated"] >= th.saturated:
                fl.append("saturated")
        base = {f.removesuffix("_grad") for f in fl}
        r["flags"] = tuple(fl)
        r["status"] = next(s for s in STATUSES if s in base or s == "healthy")


def _symmetric_param(r: dict[str, Any], th: Thresholds) -> bool:
    dup, dupg = r.get("dup_rows"), r.get("dup_grad_rows")
    return _ok(dup) and dup >= th.symmetric and (not _ok(dupg) or dupg >= th.symmetric)


def _join_units(rows: list[dict[str, Any]]) -> None:
    """A layer and the activation right after it are one unit: a Linear feeding dead, saturated,
    symmetric or non-finite units shares their status (its zero or huge gradient is theirs)."""
    for i, r in enumerate(rows[:-1]):
        nxt = rows[i + 1]
        if r["role"] == "param" and nxt["role"] == "activation":
            if nxt["status"] in _UNIT_STATUSES and _rank(nxt["status"]) < _rank(r["status"]):
                r["status"] = nxt["status"]


_UNIT_STATUSES = frozenset({"nonfinite", "symmetric", "dead", "saturated"})


def _rank(status: str) -> int:
    return STATUSES.index(status)


def verdict_of(statuses: Sequence[str]) -> str:
    """The most severe status in ``statuses`` (``"healthy"`` if none)."""
    present = set(statuses)
    return next(s for s in STATUSES if s in present or s == "healthy")


def output_checks(
    rows: list[dict[str, Any]], out: dict[str, Any], th: Thresholds
) -> list[Finding]:
    """Checks on the model's output: the logit scale and the initial cross-entropy against
    ln(C), the loss of a uniform guess over C classes. A failing check makes the output layer
    ``exploding`` (in place) and returns its finding."""
    shape = out.get("shape")
    params = [r for r in rows if r["role"] == "param"]
    if not shape or len(shape) not in (2, 3, 4) or not params:
        return []
    c = int(shape[1] if len(shape) == 4 else shape[-1])  # (N, C, H, W): per-pixel classes
    if c < 2:
        return []
    ln_c = math.log(c)
    evidence: dict[str, Any] = {"classes": c, "ln_classes": ln_c}
    what = []
    std, loss = out.get("std"), out.get("loss")
    if _ok(std):
        evidence["logit_std"] = std
        if std > th.logit_std:
            what.append(f"the output logits have std {std:.3g} (> {th.logit_std:g})")
    if _ok(loss) and out.get("loss_name", "").startswith(("cross", "loss_fn")) and len(shape) < 4:
        evidence["initial_loss"] = loss
        if loss > ln_c + th.loss_excess:
            what.append(f"the initial loss is {loss:.3g}, ln({c}) = {ln_c:.3g} for a uniform "
                        "guess")  # fmt: skip
    if not what:
        return []
    last = params[-1]
    if _rank("exploding") < _rank(last["status"]):
        last["status"] = "exploding"
    last["flags"] = (*last.get("flags", ()), "logits")
    return [Finding(
        kind="exploding", severity="problem", summary="; ".join(what),
        cause="the logits start large, so the softmax starts saturated: confident and mostly "
              "wrong, with vanishing gradients through it",
        fix="initlab.init(model, x) (auto draws the output layer from N(0, 0.01²)) or scale "
            "the output layer down",
        expected=f"initial loss ≈ ln({c}) = {ln_c:.3g}, logit std ≲ 1",
        layers=(last["name"],), first=last["index"], last=last["index"], evidence=evidence,
    )]  # fmt: skip


__all__ = ["Thresholds", "assess", "output_checks", "per_layer_factor", "verdict_of"]
