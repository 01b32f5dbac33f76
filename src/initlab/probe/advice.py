"""Findings: turn flagged layers into "what, where, why, and the initlab call that fixes it".

For each status other than healthy, the layers whose status it is form one :class:`Finding`:

* **evidence**: the per-layer factor fitted over those layers (forward and/or backward), the rms at
  the first and last of them, the saturated / dead / duplicate shares, and the weights of the
  parameterized layers involved compared with the reference scheme for the activation that
  follows them (Xavier for tanh/sigmoid/softsign/hardtanh/linear, He for the ReLU family and
  GELU/SiLU-like units with the variance gain 1/√E[φ(z)²], LeCun for SELU);
* **cause**: the likeliest one given that evidence (weights k× the reference, negative biases,
  identical rows, raw input...);
* **fix**: ``initlab.init(model, policy=...)`` for the whole model, and the core per-tensor call
  (``initlab.kaiming_normal_(m.weight, nonlinearity='relu')``...) for code that does it by hand;
* **expected**: what the fix should change (per-layer factor ≈ 1, saturation < 5%...).

The input check (:func:`input_findings`) reports raw 0–255 images and badly scaled inputs.

Examples:
    >>> reference_scheme("tanh")
    'xavier'
    >>> reference_scheme("gelu")
    'he'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from initlab.core.activations import get_activation
from initlab.errors import InitError
from initlab.probe.diagnosis import Finding, InputReport, LayerReport
from initlab.probe.verdicts import Thresholds, per_layer_factor

_POLICY_CALL = {
    "xavier": "initlab.xavier_normal_(m.weight)",
    "he": "initlab.kaiming_normal_(m.weight, nonlinearity='relu')",
    "lecun": "initlab.lecun_normal_(m.weight)",
}
_SCHEME_LABEL = {"xavier": "Xavier", "he": "He", "lecun": "LeCun"}


def reference_scheme(activation: str | None) -> str:
    """The scheme that keeps the signal of ``activation`` steady: xavier, he or lecun (the
    registry's :attr:`~initlab.core.activations.Activation.textbook_scheme`; no activation is
    linear, an unknown one is taken as ReLU-like)."""
    if activation is None:
        return "xavier"
    try:
        return get_activation(activation).textbook_scheme
    except InitError:
        return "he"


def reference_std(scheme: str, fan_in: float, fan_out: float, variance_gain: float) -> float:
    """std of ``scheme`` for these fans: Xavier √(2/(in+out)) (Glorot & Bengio 2010, eq. 16),
    He g/√in with g = 1/√E[φ(z)²] (He et al. 2015, eq. 10; g = √2 for ReLU), LeCun 1/√in."""
    if scheme == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "lecun":
        return 1.0 / math.sqrt(fan_in)
    return variance_gain / math.sqrt(fan_in)


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    if 0.01 <= abs(v) < 1000:
        return f"{v:.3g}"
    return f"{v:.2e}"


def _occurrences(layers: Sequence[LayerReport]) -> dict[int, tuple[int, int]]:
    """Record index → (1-based occurrence in its (role, kind) group, group size)."""
    count: dict[tuple[str, str], int] = {}
    occ: dict[int, int] = {}
    for r in layers:
        key = (r.role, r.kind)
        count[key] = count.get(key, 0) + 1
        occ[r.index] = count[key]
    return {r.index: (occ[r.index], count[(r.role, r.kind)]) for r in layers}


def _dominant(span: Sequence[LayerReport]) -> list[LayerReport]:
    """The largest (role, kind) group in ``span``; activation groups win ties."""
    groups: dict[tuple[str, str], list[LayerReport]] = {}
    for r in span:
        groups.setdefault((r.role, r.kind), []).append(r)
    return max(groups.values(), key=lambda g: (g[0].role == "activation", len(g)))


def _group_of(layers: Sequence[LayerReport], r: LayerReport) -> list[LayerReport]:
    """Every layer of ``r``'s (role, kind) group, in order."""
    return [x for x in layers if (x.role, x.kind) == (r.role, r.kind)]


def _span(layers: Sequence[LayerReport], span: Sequence[LayerReport]) -> str:
    """ "tanh layers 3–50 (of 50)", counted within the dominant module type."""
    dom = _dominant(span)
    occ = _occurrences(layers)
    a, n = occ[dom[0].index]
    b, _ = occ[dom[-1].index]
    what = dom[0].activation or dom[0].kind
    where = f"{what} layer {a}" if a == b else f"{what} layers {a}–{b}"
    counts: dict[str, int] = {}
    for r in span:
        if r not in dom:
            counts[r.kind] = counts.get(r.kind, 0) + 1
    extra = "".join(f", {c} {k}" for k, c in counts.items())
    extra = f" (with{extra[1:]})" if extra else ""
    return f"{where} of {n}{extra}"


def _weights_of(
    all_layers: Sequence[LayerReport], span: Sequence[LayerReport]
) -> list[LayerReport]:
    """Parameterized layers in the span, or (for activation-only spans) the ones feeding it."""
    params = [r for r in span if r.role == "param" and r.weight_ref_std]
    if params:
        return params
    wanted = {r.index for r in span}
    out, last = [], None
    for r in all_layers:
        if r.role == "param":
            last = r
        elif r.index in wanted and last is not None and last.weight_ref_std:
            if not out or out[-1] is not last:
                out.append(last)
    return out


def _weight_evidence(params: Sequence[LayerReport]) -> tuple[dict[str, Any], str, str]:
    """(evidence, cause sentence, scheme) from the weights of ``params``."""
    if not params:
        return {}, "", "he"
    ratios = sorted(
        r.weight_std / r.weight_ref_std
        for r in params
        if r.weight_std is not None and r.weight_ref_std
    )
    schemes = [r.weight_ref or "he" for r in params]
    scheme = max(set(schemes), key=schemes.count)
    if not ratios:
        return {}, "", scheme
    ratio = ratios[len(ratios) // 2]
    first = params[0]
    ev = {
        "weight_std": first.weight_std,
        "reference": scheme,
        "reference_std": first.weight_ref_std,
        "weight_ratio": ratio,
    }
    label = _SCHEME_LABEL[scheme]
    if ratio == 0:
        cause = f"the weights are all zero ({label} would give std {_fmt(first.weight_ref_std)})"
    elif 0.8 <= ratio <= 1.25:
        cause = (
            f"the weights are at the {label} scale ({ratio:.2f}× {label}), so the drift comes from "
            "elsewhere: biases, a missing normalization, or the activation's mean"
        )
    else:
        cause = (
            f"{first.kind} weights have std {_fmt(first.weight_std)} = {ratio:.2g}× {label} "
            f"(std {_fmt(first.weight_ref_std)} for this layer's fans)"
        )
    return ev, cause, scheme


def _fix(scheme: str) -> str:
    return (
        f"initlab.init(model, policy='{scheme}')  # or per layer: {_POLICY_CALL[scheme]}; "
        "initlab.zeros_(m.bias)"
    )


def _trend_evidence(span: Sequence[LayerReport], grad: bool) -> float | None:
    dom = _dominant(span)
    vals = [r.grad_rms if grad else r.rms for r in dom]
    return per_layer_factor(vals) if len(vals) >= 2 else None


def _grad_note(span: Sequence[LayerReport], ev: dict[str, Any]) -> str:
    """ "; gradients grow 2.7× per layer toward the input" when the span's gradients drift."""
    for status, verb in (("exploding", "grow"), ("vanishing", "shrink")):
        bwd = [r for r in span if f"{status}_grad" in r.flags]
        if len(bwd) >= 2:
            fg = _trend_evidence(bwd, grad=True)
            if fg:
                ev["backward_factor"] = 1 / fg
                return f"; gradients {verb} {1 / fg:.2g}× per layer toward the input"
    return ""


def layer_findings(layers: Sequence[LayerReport], th: Thresholds) -> list[Finding]:
    """One finding per non-healthy status, over the layers that have it."""
    out: list[Finding] = []
    # Layers after a fully dead or symmetric layer get no signal: their vanishing is a consequence,
    # reported with the cause rather than as a finding of its own.
    blocked = next(
        (
            r.index
            for r in layers
            if (r.status == "dead" and (r.dead or 0) >= 0.99) or r.status == "symmetric"
        ),
        None,
    )
    for status in ("nonfinite", "symmetric", "dead", "saturated", "exploding", "vanishing"):
        span = [r for r in layers if r.status == status]
        if status == "vanishing" and blocked is not None:
            span = [r for r in span if r.index < blocked]
        if not span:
            continue
        params = _weights_of(layers, span)
        wev, wcause, scheme = _weight_evidence(params)
        ev: dict[str, Any] = {"layers": len(span), **wev}
        where = _span(layers, span)
        if status in ("vanishing", "exploding"):
            fwd = _dominant([r for r in span if status in r.flags] or span)
            fwd = [r for r in fwd if status in r.flags]
            bwd = [r for r in span if f"{status}_grad" in r.flags]
            verb = "shrink" if status == "vanishing" else "grow"
            parts = []
            if fwd:
                # the trend over the whole group (all layers of that type), not just the flagged
                group = _group_of(layers, fwd[0])
                f = _trend_evidence(group, grad=False)
                ev.update(forward_factor=f, rms_first=group[0].rms, rms_last=fwd[-1].rms)
                per = f" {f:.2g}× per layer" if f is not None else ""
                parts.append(
                    f"activations {verb}{per} (rms {_fmt(group[0].rms)} → {_fmt(fwd[-1].rms)})"
                )
            if bwd:
                group = _group_of(layers, _dominant(bwd)[0])
                fg = _trend_evidence(group, grad=True)
                fb = 1 / fg if fg else None
                ev.update(
                    backward_factor=fb,
                    grad_rms_first=bwd[0].grad_rms,
                    grad_rms_last=group[-1].grad_rms,
                )
                per = f" {fb:.2g}× per layer" if fb is not None else ""
                parts.append(
                    f"gradients {verb}{per} toward the input (grad rms {_fmt(group[-1].grad_rms)}"
                    f" → {_fmt(bwd[0].grad_rms)})"
                )
            summary = f"{where}: " + "; ".join(parts)
            cause = wcause or ("signal scale drifts by a steady factor per layer")
            fix = _fix(scheme)
            expected = "per-layer factor ≈ 1: rms stays within a few × of the input's"
        elif status == "saturated":
            sat = [r.saturated for r in span if r.saturated is not None]
            pre = [r for r in layers if r.role == "param" and r.index < span[-1].index]
            pre_rms = pre[-1].rms if pre else None
            ev.update(saturated_mean=sum(sat) / len(sat) if sat else None, preact_rms=pre_rms)
            act = next((r.activation for r in span if r.activation), span[0].kind)
            summary = (
                f"{where}: {100 * (ev['saturated_mean'] or 0):.0f}% of pre-activations sit where "
                f"{act}' < {th.sat_derivative} (pre-activation rms {_fmt(pre_rms)})"
                + _grad_note(span, ev)
            )
            cause = (
                wcause or "pre-activations are too large"
            ) + "; saturated units pass ~no gradient"
            fix = _fix(scheme)
            expected = "pre-activation rms ≈ 1, saturated share below 5%"
        elif status == "dead":
            dead = [r.dead for r in span if r.dead is not None]
            ev["dead_mean"] = sum(dead) / len(dead) if dead else None
            biases = [p.bias_mean for p in params if p.bias_mean is not None]
            bias = sum(biases) / len(biases) if biases else None
            ev["bias_mean"] = bias
            pre_std = next((p.std for p in params), None)
            after = [r for r in layers if r.index > span[-1].index and r.status == "vanishing"]
            summary = (
                f"{where}: {100 * (ev['dead_mean'] or 0):.0f}% of units are never positive on "
                "this batch (zero output, zero gradient)"
                + (f"; the {len(after)} layer(s) after them get no signal" if after else "")
            )
            if bias is not None and pre_std is not None and bias < -0.5 * (pre_std or 0):
                cause = (
                    f"negative biases (mean {_fmt(bias)}) push the pre-activations below 0 "
                    f"(pre-activation std {_fmt(pre_std)})"
                )
                fix = "initlab.zeros_(m.bias) for these layers, or " + _fix(scheme)
            else:
                cause = "pre-activations are negative for every sample: " + (
                    wcause or "check the biases and the input's mean"
                )
                fix = _fix(scheme)
            expected = "about half of the units active on each sample, none dead on the batch"
        elif status == "symmetric":
            dups = [r.dup_rows for r in span if r.dup_rows is not None]
            ev["dup_rows"] = max(dups) if dups else None
            ev["dup_units"] = max((r.dup_units or 0) for r in span)
            summary = (
                f"{where}: {100 * (ev['dup_rows'] or ev['dup_units'] or 0):.0f}% of the weight "
                "rows (units) are identical, and so are their gradients: the units stay copies "
                "of each other"
            )
            cause = "all-equal initialization (zeros or a constant) does not break symmetry"
            fix = _fix(scheme)
            expected = "distinct random rows: every unit learns its own feature"
        else:  # nonfinite
            first = span[0]
            before = [r for r in layers if r.index < first.index and "exploding" in r.flags]
            ev["first_layer"] = first.label
            summary = f"{where}: NaN/Inf values, first at {first.label}"
            if before:
                cause = "the activations overflowed after growing layer by layer (exploding)"
                fix = _fix(scheme)
            else:
                cause = "a NaN/Inf in the input, the parameters or an operation (log, division)"
                fix = "check torch.isfinite on the input and parameters; then " + _fix(scheme)
            expected = "finite values everywhere"
        out.append(
            Finding(
                kind=status,
                severity="problem",
                summary=summary,
                cause=cause,
                fix=fix,
                expected=expected,
                layers=tuple(r.label for r in span),
                first=span[0].index,
                last=span[-1].index,
                evidence={k: v for k, v in ev.items() if v is not None},
            )
        )
    return out


def input_findings(inp: InputReport | None, th: Thresholds) -> list[Finding]:
    """The input check: raw 0–255 images, badly scaled or off-centre inputs."""
    if inp is None or not inp.floating or inp.std is None:
        return []
    ev = {"mean": inp.mean, "std": inp.std, "min": inp.min, "max": inp.max, "dtype": inp.dtype}
    norm = (
        "x = x / 255, then normalize per channel: x = (x - mean) / std with the training set's "
        "channel statistics (torchvision.transforms.Normalize(mean, std))"
    )
    if inp.min is not None and inp.max is not None and inp.min >= 0 and 20 < inp.max <= 255:
        return [
            Finding(
                kind="input",
                severity="problem",
                summary=(
                    f"the input ranges {_fmt(inp.min)}–{_fmt(inp.max)} (mean {_fmt(inp.mean)}, "
                    f"std {_fmt(inp.std)}): it looks like raw 0–255 pixel values"
                ),
                cause=(
                    "initialization schemes assume inputs of mean 0 and variance 1; 0–255 "
                    "inputs scale every first-layer pre-activation by ~100"
                ),
                fix=norm,
                expected="input mean ≈ 0 and std ≈ 1 per channel",
                evidence=ev,
            )
        ]
    out = []
    total = math.prod(inp.shape) if inp.shape else 0
    per_channel = (total // inp.shape[inp.channel_axis]
                   if inp.channel_axis is not None and inp.shape else total)
    if per_channel >= 30 and inp.channel_std:
        stds = [s for s in inp.channel_std if math.isfinite(s)] or [inp.std]
        means = list(inp.channel_mean) or [inp.mean or 0.0]
        n = per_channel
    else:  # a few values per channel (batch ≤ 4...): judge the whole input, not noise
        stds, means, n = [inp.std], [inp.mean or 0.0], max(total, 1)
    # sampling noise of a standardized input: the mean of n N(0, 1) values has std 1/√n, so an
    # offset below input_mean + 4/√n is not evidence (false alarm < 1e-4 per channel)
    bad_std = [s for s in stds if s > 0 and (s > th.input_std_band or s < 1 / th.input_std_band)]
    off = [abs(m) / s for m, s in zip(means, stds, strict=False) if s > 0]
    if bad_std or (off and max(off) > th.input_mean + 4 / math.sqrt(n)):
        ev.update(channel_mean=tuple(means[:8]), channel_std=tuple(stds[:8]))
        out.append(
            Finding(
                kind="input",
                severity="warning",
                summary=(
                    f"the input is not standardized: channel std {_fmt(min(stds))}–"
                    f"{_fmt(max(stds))}, channel mean {_fmt(min(means))}–{_fmt(max(means))}"
                ),
                cause="initialization schemes assume inputs of mean 0 and variance 1",
                fix="normalize the input per channel: x = (x - mean) / std",
                expected="input mean ≈ 0 and std ≈ 1 per channel",
                evidence=ev,
            )
        )
    return out


def attention_findings(
    records: Sequence[tuple[str, int, tuple[float, ...]]], th: Thresholds
) -> list[Finding]:
    """Near-one-hot attention at init: ``records`` are (name, keys, (entropy/ln n, one-hot
    share, rows)) per attention call (:func:`initlab.probe.stats.attention_entropy`)."""
    seen = [(n, k, v) for n, k, v in records if v[2] > 0 and math.isfinite(v[0])]
    bad = [(n, k, v) for n, k, v in seen if v[0] < th.attn_entropy]
    if not bad:
        return []
    worst = min(bad, key=lambda r: r[2][0])
    names = tuple(dict.fromkeys(n for n, _, _ in bad))
    return [
        Finding(
            kind="attention",
            severity="problem",
            summary=(
                f"attention is near one-hot at init in {len(bad)} of {len(seen)} attention "
                f"call(s): softmax entropy {_fmt(worst[2][0])} of ln(keys) at {worst[0]} "
                f"({worst[1]} keys; {worst[2][1]:.0%} of rows put > 0.9 on one key)"
            ),
            cause=(
                "the query·key logits are too large: q/k projections initialized too large "
                "(or the 1/√d_head scale missing); a saturated softmax passes almost no "
                "gradient to the queries and keys"
            ),
            fix=(
                "initialize the q/k projections smaller: initlab.init(model, x, policy='auto') "
                "draws them Xavier and, where the model applies no 1/√d_head to q·kᵀ (T5 "
                "folds it into the init), also scales the query std by 1/√d_head; in an "
                "attention you write yourself, scale the scores by 1/√d_head"
            ),
            expected=f"entropy ≥ {_fmt(th.attn_entropy)} of ln(keys) (uniform attention is 1)",
            layers=names,
            evidence={
                "entropy_ratio": {n: round(v[0], 4) for n, _, v in bad},
                "one_hot_rows": {n: round(v[1], 4) for n, _, v in bad},
                "keys": worst[1],
                "attention_calls": len(seen),
            },
        )
    ]


def gate_findings(
    records: Sequence[tuple[str, str, tuple[float, ...]]], th: Thresholds
) -> list[Finding]:
    """Saturated gates inside ``nn.LSTM``/``nn.GRU``: ``records`` are (name, class,
    (sigmoid share, tanh share, gate values)) (:func:`initlab.probe.stats.rnn_gate_saturation`)."""
    bad = [(n, c, v) for n, c, v in records if max(v[0], v[1]) >= th.gate_saturated]
    if not bad:
        return []
    n0, c0, v0 = max(bad, key=lambda r: max(r[2][0], r[2][1]))
    d = th.sat_derivative
    return [
        Finding(
            kind="saturated",
            severity="problem",
            summary=(
                f"{n0} ({c0}): {v0[0]:.0%} of its sigmoid gates and {v0[1]:.0%} of its tanh "
                f"values are saturated (derivative < {_fmt(d)}) on the first time steps"
            ),
            cause=(
                "recurrent weights too large: gates stuck near 0/1 and tanh near ±1 pass "
                "almost no gradient through time"
            ),
            fix=(
                "initialize the RNN with the default U(±1/√hidden) or orthogonal recurrent "
                "weights, e.g. initlab.init(model, x, policy='auto')"
            ),
            expected=f"saturated share < {_fmt(th.gate_saturated)}",
            layers=tuple(dict.fromkeys(n for n, _, _ in bad)),
            evidence={
                "sigmoid_saturated": {n: round(v[0], 4) for n, _, v in bad},
                "tanh_saturated": {n: round(v[1], 4) for n, _, v in bad},
            },
        )
    ]


__all__ = [
    "attention_findings",
    "gate_findings",
    "input_findings",
    "layer_findings",
    "reference_scheme",
    "reference_std",
]
