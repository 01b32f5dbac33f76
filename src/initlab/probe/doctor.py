"""``initlab.doctor``: one forward and one backward pass, per-layer statistics, statuses, advice.

What happens, in order:

1. the model is unwrapped (DataParallel/DDP → ``.module``, ``torch.compile`` → ``._orig_mod``);
2. the state that a forward pass can touch is saved: buffers (BatchNorm running statistics), the
   global RNG states (CPU, CUDA, ``random``, NumPy; dropout draws from them);
3. hooks are put on the parameterized leaf modules and the activation modules, and the forward
   runs under a torch function mode that also sees functional activations (``F.relu``,
   ``torch.tanh``, ``x.sigmoid()``, gated products; :mod:`initlab.probe.hooks`); the model runs
   forward on ``example_input`` and the backward pass
   is taken with ``torch.autograd.grad`` (never ``.backward()``: the parameters' ``.grad`` are
   not touched);
4. hooks are removed, buffers and RNG states restored: weights, buffers, train/eval mode,
   ``requires_grad``, ``.grad`` and the RNG state are the same after the call as before;
5. every statistic, computed on the device, is read back in **one** transfer;
6. statuses from depth-wise trends (:mod:`initlab.probe.verdicts`) and findings with fixes
   (:mod:`initlab.probe.advice`).

The backward pass differentiates ``loss_fn(output, target)`` when given (cross-entropy for an
integer ``target``, MSE for a float one, when only ``target`` is given); otherwise a fixed random
projection of the outputs, Σ v·y with v ~ N(0, 1) (seeded), so that the gradient at the output has
rms 1 and the gradient rms at each layer measures the backward gain (as in Schoenholz et al.
2017's backward signal propagation).
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from initlab.core.fans import fans_of
from initlab.core.gains import gain as _gain
from initlab.errors import InitError
from initlab.model.structure import Structure, discover
from initlab.probe import stats
from initlab.probe.advice import input_findings, layer_findings, reference_scheme, reference_std
from initlab.probe.diagnosis import Diagnosis, Finding, InputReport, LayerReport
from initlab.probe.hooks import Recorder, Tap, first_float, iter_tensors, select_taps, unwrap
from initlab.probe.verdicts import Thresholds, assess, output_checks, verdict_of

_MAX_CHANNELS = 64


class _Flat:
    """Collects device tensors, then reads them all back with a single ``.cpu()``."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.parts: list[torch.Tensor] = []
        self.keys: list[tuple[Any, int, int]] = []
        self.n = 0

    def add(self, key: Any, t: torch.Tensor) -> None:
        t = t.detach().reshape(-1).to(device=self.device, dtype=torch.float64)
        self.parts.append(t)
        self.keys.append((key, self.n, self.n + t.numel()))
        self.n += t.numel()

    def read(self) -> dict[Any, np.ndarray]:
        if not self.parts:
            return {}
        host = torch.cat(self.parts).cpu().numpy()  # the one device → host transfer
        return {k: host[a:b] for k, a, b in self.keys}


def _rng_state() -> dict[str, Any]:
    st: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "random": random.getstate(),
        "numpy": np.random.get_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def _set_rng_state(st: dict[str, Any]) -> None:
    torch.set_rng_state(st["torch"])
    random.setstate(st["random"])
    np.random.set_state(st["numpy"])
    if "cuda" in st:
        torch.cuda.set_rng_state_all(st["cuda"])


def _split_input(example_input: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if isinstance(example_input, torch.Tensor):
        return (example_input,), {}
    if isinstance(example_input, Mapping):
        return (), dict(example_input)
    if isinstance(example_input, tuple | list):
        return tuple(example_input), {}
    raise InitError(
        "doctor: example_input must be a tensor, a tuple of positional arguments or a dict of "
        f"keyword arguments for model(...), got {type(example_input).__name__}"
    )


def _device_of(model: nn.Module, x: torch.Tensor | None) -> torch.device:
    for p in model.parameters():
        return p.device
    return x.device if x is not None else torch.device("cpu")


def _input_stats(x: torch.Tensor, model_first_conv: bool, flat: _Flat) -> dict[str, Any]:
    """Device statistics of the input (overall and per channel) registered in ``flat``."""
    info: dict[str, Any] = {"dtype": str(x.dtype).removeprefix("torch."), "shape": tuple(x.shape)}
    info["floating"] = x.is_floating_point()
    if not x.is_floating_point() or x.numel() == 0:
        return info
    xd = x.detach()
    flat.add("in_mom", stats.moments(xd))
    lo, hi = torch.aminmax(xd.reshape(-1).float())
    flat.add("in_min", lo)
    flat.add("in_max", hi)
    if x.dim() >= 2:
        axis = 1 if (x.dim() >= 4 or (x.dim() == 3 and model_first_conv)) else -1
        xf = xd.float()
        var, mean = torch.var_mean(xf, dim=stats.unit_dims(xf, axis), correction=0)  # once
        var, mean = var[:_MAX_CHANNELS], mean[:_MAX_CHANNELS]
        flat.add("in_cmean", mean)
        flat.add("in_cstd", var.sqrt())
        info["channel_axis"] = axis
    return info


def _default_loss(
    out: Any,
    target: Any,
    loss_fn: Callable[..., Any] | None,
    gen: Callable[[torch.device], torch.Generator],
) -> tuple[torch.Tensor | None, str]:
    if loss_fn is not None:
        loss = loss_fn(out, target) if target is not None else loss_fn(out)
        name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise InitError(
                f"doctor: loss_fn {name} must return a scalar tensor, got "
                f"{type(loss).__name__}{tuple(getattr(loss, 'shape', ()))}"
            )
        return loss, f"loss_fn:{name}"
    if target is not None:
        y = first_float(out)
        if y is None:
            raise InitError(
                "doctor: the model returned no floating-point tensor to compare with target"
            )
        if isinstance(target, torch.Tensor) and not target.is_floating_point():
            return F.cross_entropy(y, target), "cross_entropy"
        return F.mse_loss(y, target), "mse"
    terms = []
    for t in iter_tensors(out):
        if t.is_floating_point() and t.requires_grad:
            v = torch.randn(t.shape, generator=gen(t.device), device=t.device, dtype=t.dtype)
            terms.append((t * v).sum())
    if not terms:
        return None, "none"
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    return loss, "random_projection"


def _weight_reference(
    tap: Tap, act: str | None, gains: dict[str | None, float]
) -> tuple[str | None, float | None]:
    """(scheme, std) that keeps the signal after this layer steady, or (None, None).

    ``gains`` caches the activation gains of this call (each one is a quadrature)."""
    if tap.weight is None or tap.weight.dim() < 2 or tap.weight_name != "weight":
        return None, None
    if isinstance(tap.module, nn.Embedding | nn.EmbeddingBag):
        return None, None
    try:
        f = fans_of(tap.module, "weight")
    except (InitError, TypeError, ValueError):
        return None, None
    scheme = reference_scheme(act)
    g = 1.0
    if scheme == "he":
        if act not in gains:
            try:
                gains[act] = _gain(act or "relu")
            except InitError:
                gains[act] = math.sqrt(2.0)
        g = gains[act]
    return scheme, reference_std(scheme, f.fan_in, f.fan_out, g)


def _is_norm(tap: Tap) -> bool:
    """A layer with no matrix weight (norms, affine scales): it passes the signal's structure on."""
    return tap.weight is None or tap.weight.dim() < 2


def doctor(
    model: nn.Module,
    example_input: Any,
    target: Any = None,
    loss_fn: Callable[..., torch.Tensor] | None = None,
    *,
    seed: int = 0,
    samples: bool = True,
    verify: bool = False,
    **thresholds: Any,
) -> Diagnosis:
    """Diagnose how signal and gradient flow through ``model`` at this point (usually step 0).

    One forward and one backward pass on ``example_input``; per tapped layer (parameterized
    modules and activation modules, in execution order) the activation mean, std, rms, max|x|,
    gain (rms out / rms in), dead and saturated shares, duplicate units; the gradient rms w.r.t.
    the output, the weight-gradient norm and ‖∇W‖/‖W‖; duplicate weight rows. Statuses come from
    depth-wise trends (see :class:`initlab.probe.Thresholds`), findings name the layers, the
    evidence, the cause and the initlab call that fixes it. The model is never changed.

    Args:
        model: any ``nn.Module`` (DataParallel/DDP and ``torch.compile`` wrappers are unwrapped).
        example_input: a tensor, a tuple of positional arguments or a dict of keyword arguments.
        target: optional target for ``loss_fn`` (or for the default cross-entropy/MSE).
        loss_fn: ``loss_fn(output, target)`` (or ``loss_fn(output)``) returning a scalar; by
            default the backward pass uses a seeded random projection of the outputs.
        seed: seed of the doctor's own generator (random projection, duplicate search).
        samples: keep ~2000 values per layer for the histograms of :meth:`Diagnosis.plot`.
        verify: try each suggested fix on a copy of the model (:mod:`initlab.probe.fixes`) and
            say in the finding what it changed ("after initlab.init(model, x, policy='he'):
            verdict healthy"); one more doctor pass per suggested policy.
        **thresholds: overrides of :class:`initlab.probe.Thresholds` (``band=``, ``dead=``...).

    Returns:
        a :class:`initlab.probe.Diagnosis`.

    Raises:
        InitError: not a module, a bad ``example_input`` or threshold, or the model's forward
            failing on the input (the model's own error is quoted).

    Examples:
        >>> import torch, initlab
        >>> from torch import nn
        >>> g = torch.Generator().manual_seed(0)
        >>> net = nn.Sequential(*[m for _ in range(10) for m in (nn.Linear(64, 64), nn.Tanh())])
        >>> for m in net:
        ...     if isinstance(m, nn.Linear):
        ...         _ = initlab.normal_(m.weight, 0.0, 0.01, generator=g)
        >>> dx = initlab.doctor(net, torch.randn(32, 64, generator=g))
        >>> dx.verdict
        'vanishing'
    """
    if not isinstance(model, nn.Module):
        raise InitError(f"doctor: model must be a torch.nn.Module, got {type(model).__name__}")
    ctx = _setup(model, example_input, seed, Thresholds.from_kwargs(**thresholds))
    _add_weight_stats(ctx)
    run = _forward_backward(ctx, target, loss_fn, samples)
    _add_grad_stats(ctx, run)
    host = ctx.flat.read()  # the one device → host transfer
    _notes_on_taps(ctx, run.recorder)
    facts = _structure_facts(ctx.model, example_input, ctx.notes)
    rows, sample_map = _rows(ctx, run.recorder, host, facts)
    inp = _input_report(ctx.in_info, host)
    input_rms = float(host["in_mom"][2]) if "in_mom" in host else None
    assess(rows, input_rms, ctx.th)
    out_findings = output_checks(rows, _output_info(run, host), ctx.th)
    names = {f.name for f in dataclasses.fields(LayerReport)}
    layers = tuple(LayerReport(**{k: v for k, v in r.items() if k in names}) for r in rows)
    findings = layer_findings(layers, ctx.th) + out_findings + input_findings(inp, ctx.th)
    findings += _tiny_batchnorm(ctx, rows)
    dx = Diagnosis(
        model=type(ctx.model).__name__,
        verdict=verdict_of([r.status for r in layers]),
        layers=layers,
        findings=tuple(findings),
        input=inp,
        thresholds=ctx.th.to_dict(),
        loss=run.loss_name,
        notes=tuple(ctx.notes),
        samples=sample_map,
    )
    if not verify or dx.ok:
        return dx
    from initlab.probe.fixes import verify_fixes, with_verified_fixes

    fixes = verify_fixes(ctx.model, example_input, before=dx, seed=seed, target=target,
                         loss_fn=loss_fn, samples=False, **thresholds)  # fmt: skip
    return with_verified_fixes(dx, fixes)


@dataclass
class _Ctx:
    """What every stage of one doctor call shares."""

    th: Thresholds
    model: nn.Module
    notes: list[str]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    tensors: list[torch.Tensor]
    taps: list[Tap]
    flat: _Flat
    in_info: dict[str, Any] | None
    gens: dict[str, torch.Generator]
    seed: int

    def gen(self, dev: torch.device) -> torch.Generator:
        key = str(dev)
        if key not in self.gens:
            self.gens[key] = torch.Generator(device=dev).manual_seed(self.seed)
        return self.gens[key]


@dataclass
class _RunResult:
    recorder: Recorder
    grads: dict[int, torch.Tensor]
    input_grad: torch.Tensor | None
    loss_name: str
    out_shape: tuple[int, ...] | None = None


def _setup(model: nn.Module, example_input: Any, seed: int, th: Thresholds) -> _Ctx:
    """Stage 1: unwrap, split the input, choose the taps, input statistics."""
    model, notes = unwrap(model)
    args, kwargs = _split_input(example_input)
    tensors = list(iter_tensors((args, kwargs)))
    x = tensors[0] if tensors else None
    taps = select_taps(model)
    if not taps:
        raise InitError(
            f"doctor: {type(model).__name__} has no parameterized leaf module and no activation "
            "module to observe; pass the model itself, not a functional wrapper"
        )
    flat = _Flat(_device_of(model, x))
    first_conv = any(isinstance(t.module, nn.modules.conv._ConvNd) for t in taps[:1])
    in_info = _input_stats(x, first_conv, flat) if x is not None else None
    return _Ctx(th, model, notes, args, kwargs, tensors, taps, flat, in_info, {}, seed)


def _add_weight_stats(ctx: _Ctx) -> None:
    """Stage 2: weight statistics (static: once per module, not per call)."""
    with torch.no_grad():
        for ti, tap in enumerate(ctx.taps):
            w = tap.weight
            if tap.role != "param" or w is None or not w.is_floating_point():
                continue
            ctx.flat.add(("w", ti), stats.moments(w))
            if w.dim() >= 2 and tap.weight_name in ("weight", "in_proj_weight"):
                dup = stats.duplicate_fraction(w.reshape(w.shape[0], -1), ctx.gen(w.device))
                ctx.flat.add(("wdup", ti), dup)
            b = getattr(tap.module, "bias", None)
            if isinstance(b, torch.Tensor) and b.numel() and b.is_floating_point():
                ctx.flat.add(("b", ti), b.detach().float().mean())


def _forward_backward(
    ctx: _Ctx, target: Any, loss_fn: Callable[..., torch.Tensor] | None, samples: bool
) -> _RunResult:
    """Stage 3: one forward and one backward pass; buffers and RNG states restored after."""
    leaf: torch.Tensor | None = None
    run_args = list(ctx.args)
    for i, a in enumerate(run_args):  # a grad-requiring copy: gradients reach frozen parts
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            leaf = a.detach().clone().requires_grad_(True)
            run_args[i] = leaf.clone()
            break
    saved_buffers = [
        (mod, name, b, b.detach().clone())
        for mod in ctx.model.modules()
        for name, b in mod.named_buffers(recurse=False)
        if b is not None
    ]
    rng = _rng_state()
    recorder = Recorder(ctx.taps, ctx.th.sat_derivative, None, keep_samples=samples,
                        model=ctx.model)  # fmt: skip
    wanted = [t.weight for t in ctx.taps
              if t.role == "param" and t.weight is not None and t.weight.requires_grad]  # fmt: skip
    result = _RunResult(recorder, {}, None, "none")
    try:
        with recorder, torch.enable_grad():
            out = _forward(ctx, recorder, run_args)
            _add_output_stats(ctx, out, result)
            loss, result.loss_name = _default_loss(out, target, loss_fn, ctx.gen)
            if loss is not None and result.loss_name.startswith(("loss_fn", "cross")):
                ctx.flat.add("loss", loss.detach().float())
            inputs = ([leaf] if leaf is not None else []) + wanted
            if loss is not None and loss.requires_grad and inputs:
                res = torch.autograd.grad(loss, inputs, allow_unused=True)
                if leaf is not None:
                    result.input_grad, res = res[0], res[1:]
                result.grads = {id(w): g for w, g in zip(wanted, res, strict=True)
                                if g is not None}  # fmt: skip
            else:
                ctx.notes.append("no backward pass: nothing in the output requires a gradient")
            del out, loss
    finally:
        with torch.no_grad():
            for mod, name, b, saved in saved_buffers:
                if getattr(mod, name, None) is not b:  # the forward replaced the buffer object
                    setattr(mod, name, b)
                b.copy_(saved)
        _set_rng_state(rng)
    return result


def _forward(ctx: _Ctx, recorder: Recorder, run_args: list[Any]) -> Any:
    try:
        with recorder.functional():
            return ctx.model(*run_args, **ctx.kwargs)
    except InitError:
        raise
    except Exception as e:
        shapes = [tuple(t.shape) for t in ctx.tensors]
        err = InitError(
            f"doctor: {type(ctx.model).__name__}'s forward failed on example_input of shape"
            f"{'s' if len(shapes) > 1 else ''} {', '.join(map(str, shapes)) or '()'}: "
            f"{type(e).__name__}: {e}. Change the input shape (CLI: --input-shape) or "
            "dtype to what the model expects"
        )
        err.model_error = f"{type(e).__name__}: {e}"  # type: ignore[attr-defined]
        raise err from e


def _add_output_stats(ctx: _Ctx, out: Any, result: _RunResult) -> None:
    """Moments of the first floating output (the logits of a classifier or language model)."""
    y = first_float(out)
    if y is None or y.numel() == 0:
        return
    result.out_shape = tuple(y.shape)
    with torch.no_grad():
        ctx.flat.add("out_mom", stats.moments(y))


def _add_grad_stats(ctx: _Ctx, run: _RunResult) -> None:
    """Stage 4: gradient statistics, and every recorded part, into the one transfer."""
    flat = ctx.flat
    with torch.no_grad():
        if run.input_grad is not None:
            flat.add("in_grad", stats.rms(run.input_grad))
        for ti, tap in enumerate(ctx.taps):
            w = tap.weight
            g = run.grads.get(id(w)) if w is not None else None
            if g is None:
                continue
            flat.add(("wg", ti), torch.linalg.vector_norm(g.float()))
            if g.dim() >= 2:
                dup = stats.duplicate_fraction(g.reshape(g.shape[0], -1), ctx.gen(g.device))
                flat.add(("wgdup", ti), dup)
        for rec in run.recorder.records:
            for k, t in rec.parts.items():
                flat.add((k, rec.index), t)


def _notes_on_taps(ctx: _Ctx, recorder: Recorder) -> None:
    if recorder.functional_rows:
        ctx.notes.append(
            f"{recorder.functional_rows} activation point(s) observed as function calls "
            "(F.relu, torch.tanh, x.sigmoid(), gated products...) in forward"
        )
    if not any(r.tap.role == "activation" for r in recorder.records):
        ctx.notes.append(
            "no activation observed (neither a module such as nn.ReLU nor a function such as "
            "F.relu applied after a parameterized layer): the table shows the parameterized "
            "layers only"
        )


def _structure_facts(model: nn.Module, example_input: Any, notes: list[str]) -> Structure | None:
    """What :func:`initlab.model.discover` finds (the activation after each layer, residual
    branch ends, attention q/k): one meta-device trace. None (and a note) if it cannot run."""
    rng = _rng_state()
    try:
        return discover(model, example_input)
    except InitError as e:
        notes.append(f"structure not traced ({e}); activations read from the record order")
        return None
    finally:
        _set_rng_state(rng)


_INDEX = re.compile(r"(?<![^.])\d+(?=\.|$)")


def _group(st: Structure | None, name: str, kind: str) -> str:
    """The trend group of a record: the same layer of each repeated block (the module path with
    block indices removed, ``layers.#.mlp.down_proj``) and the same module type, so a depth trend
    compares like with like (q/k projections, branch ends, norms each on their own). Embeddings
    are inputs: no trend."""
    info = st.layers.get(name) if st is not None else None
    if info is not None and info.kind == "embedding":
        return "embedding"
    return f"{_INDEX.sub('#', name)}|{kind}"


def _small_layer_scales(st: Structure, model: nn.Module) -> list[str]:
    """Owners of per-channel scales (structure role ``channel_scale``) started below 0.1."""
    params = dict(model.named_parameters())
    out = []
    for name, (role, _) in st.param_roles.items():
        p = params.get(name)
        if role == "channel_scale" and p is not None and not p.is_meta:
            if float(p.detach().float().abs().max()) < 0.1:
                out.append(name.rpartition(".")[0])
    return out


def _next_activations(recorder: Recorder) -> dict[int, str | None]:
    """Fallback (no structure): the activation record after each param record."""
    next_act: dict[int, str | None] = {}
    pending: list[int] = []
    for rec in recorder.records:
        if rec.tap.role == "param" and _is_norm(rec.tap):
            continue
        if rec.tap.role == "param":
            for p in pending:
                next_act.setdefault(p, None)
            pending = [rec.index]
        elif pending:
            for p in pending:
                next_act[p] = rec.tap.act_name
            pending = []
    return next_act


def _rows(
    ctx: _Ctx, recorder: Recorder, host: dict[Any, np.ndarray], st: Structure | None
) -> tuple[list[dict[str, Any]], dict[int, np.ndarray]]:
    """Stage 5: one row dict per record, from the host copy of the statistics."""

    def val(key: Any, i: int = 0) -> float | None:
        a = host.get(key)
        return None if a is None or a.size <= i else float(a[i])

    tap_index = {id(t): i for i, t in enumerate(ctx.taps)}
    fallback = _next_activations(recorder)  # only for what the structure cannot say
    rows: list[dict[str, Any]] = []
    gains: dict[str | None, float] = {}
    sample_map: dict[int, np.ndarray] = {}
    for rec in recorder.records:
        tap, i = rec.tap, rec.index
        mom, grad = host.get(("fwd", i)), host.get(("grad", i))
        in_rms = val(("in_rms", i))
        row: dict[str, Any] = {
            "index": i, "name": tap.name, "kind": tap.kind_name, "role": tap.role,
            "shape": rec.shape, "call": rec.call, "activation": tap.act_name,
            "mean": float(mom[0]), "std": float(mom[1]), "rms": float(mom[2]),
            "max_abs": float(mom[3]), "gain": (float(mom[2]) / in_rms) if in_rms else None,
            "matrix": tap.role == "param" and not _is_norm(tap),
            "dead": val(("dead", i)), "saturated": val(("sat", i)),
            "dup_units": val(("dupu", i)),
            "grad_rms": float(grad[2]) if grad is not None else None,
            "nonfinite": bool(mom[4] > 0 or (grad is not None and grad[4] > 0)),
            "group": _group(st, tap.name, tap.kind_name),
        }  # fmt: skip
        if tap.role == "param" and tap.weight is not None:
            act = _activation_of(st, tap.name, fallback.get(i)) if st else fallback.get(i)
            _weight_row(row, tap, tap_index.get(id(tap), -1), act, host, val, gains)
        if ("sample", i) in host:
            sample_map[i] = host[("sample", i)]
        rows.append(row)
    _mark_zero_branches(rows, st, ctx.model)
    return rows, sample_map


def _mark_zero_branches(rows: list[dict[str, Any]], st: Structure | None, model: nn.Module) -> None:
    """Residual branches that start at (or near) zero on purpose (Fixup's last layer 0, zero-γ
    on the branch's last norm, SkipInit, a ConvNeXt/CaiT layer scale of 1e-6): their small
    signals and gradients are the design, not a collapse."""
    if st is None:
        return
    scaled = _small_layer_scales(st, model)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_name.setdefault(r["name"], []).append(r)
    for end in st.residual_ends:
        info = st.layers[end]
        closing = [end] + ([info.branch_norm] if info.branch_norm else [])
        zero = any(r.get("weight_rms") == 0 for n in closing for r in by_name.get(n, []))
        if not zero and not any(end.startswith(o + ".") for o in scaled):
            continue
        idx = [r["index"] for n in (*info.branch_layers, *closing) for r in by_name.get(n, [])]
        if idx:  # the branch's records: its layers and the norms/activations between them
            for r in rows[min(idx) : max(idx) + 1]:
                r["zero_branch"] = True


def _activation_of(st: Structure, name: str, after_add: str | None) -> str | None:
    """The activation after layer ``name`` (model/structure). A residual branch end feeds the
    add, and what follows the add (a ResNet block's ReLU) is the next activation record."""
    info = st.layers.get(name)
    if info is None:
        return after_add
    if info.activation == "linear":
        return after_add if info.residual_end else None
    return "linear" if info.glu == "gate" else info.activation


def _weight_row(
    row: dict[str, Any], tap: Tap, ti: int, act: str | None, host: dict[Any, np.ndarray],
    val: Callable[..., float | None], gains: dict[str | None, float],
) -> None:  # fmt: skip
    wm, wg = host.get(("w", ti)), val(("wg", ti))
    row["weight_std"] = float(wm[1]) if wm is not None else None
    row["weight_rms"] = float(wm[2]) if wm is not None else None
    row["weight_ref"], row["weight_ref_std"] = _weight_reference(tap, act, gains)
    row["weight_grad_norm"] = wg
    if wm is not None and wg is not None and tap.weight is not None:
        wnorm = float(wm[2]) * math.sqrt(tap.weight.numel())
        row["grad_weight_ratio"] = wg / wnorm if wnorm > 0 else math.inf
    row["dup_rows"] = val(("wdup", ti))
    row["dup_grad_rows"] = val(("wgdup", ti))
    row["bias_mean"] = val(("b", ti))


def _input_report(
    in_info: dict[str, Any] | None, host: dict[Any, np.ndarray]
) -> InputReport | None:
    """Stage 6: the input's report."""
    if in_info is None:
        return None

    def val(key: str) -> float | None:
        a = host.get(key)
        return None if a is None or a.size == 0 else float(a[0])

    im = host.get("in_mom")
    return InputReport(
        dtype=in_info["dtype"],
        shape=in_info["shape"],
        floating=in_info["floating"],
        mean=float(im[0]) if im is not None else None,
        std=float(im[1]) if im is not None else None,
        min=val("in_min"),
        max=val("in_max"),
        max_abs=float(im[3]) if im is not None else None,
        channel_axis=in_info.get("channel_axis"),
        channel_mean=tuple(float(v) for v in host.get("in_cmean", ())),
        channel_std=tuple(float(v) for v in host.get("in_cstd", ())),
        grad_rms=val("in_grad"),
    )


def _tiny_batchnorm(ctx: _Ctx, rows: list[dict[str, Any]]) -> list[Finding]:
    """BatchNorm layers (train mode) that normalize over ≤ ``bn_values`` values per channel."""
    modules = dict(ctx.model.named_modules())
    out: list[Finding] = []
    for r in rows:
        m = modules.get(r["name"])
        shape = r["shape"]
        if not isinstance(m, nn.modules.batchnorm._BatchNorm) or not m.training or len(shape) < 2:
            continue
        n = math.prod(shape) // max(1, shape[1])
        if n <= ctx.th.bn_values:
            out.append(Finding(
                kind="batchnorm", severity="warning",
                summary=f"{r['name']} normalizes each channel over {n} value(s) (batch × spatial)",
                cause="batch statistics of so few values are mostly noise (with 2 values every "
                      "output is ±1); the start measured here, and training, depend on the batch",
                fix="use a larger batch or input, GroupNorm/LayerNorm, or eval-mode statistics",
                layers=(r["name"],), first=r["index"], last=r["index"],
                evidence={"values_per_channel": n},
            ))  # fmt: skip
    return out


def _output_info(run: _RunResult, host: dict[Any, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {"shape": run.out_shape, "loss_name": run.loss_name}
    if "out_mom" in host:
        out["std"] = float(host["out_mom"][1])
    if "loss" in host:
        out["loss"] = float(host["loss"][0])
    return out


__all__ = ["doctor"]
