"""LSUV: layer-sequential unit-variance initialization (Mishkin & Matas 2015) in O(L).

Algorithm 1 of the paper: pre-initialize every conv/linear weight orthonormally, then, layer by
layer in execution order, forward a batch, measure the std of the layer's output and divide the
weight by it until |std − target| < tol (at most ``max_iter`` times).

Existing implementations (the ``lsuv`` package, the paper's Caffe code) run a full forward pass
per layer and per iteration: O(L) forwards of L layers each, O(L²) layer evaluations. Here one
forward pass does it all: a forward hook on each layer receives the layer's input (already
computed with every earlier layer corrected: the input is cached by the hook), rescales the weight
and re-evaluates *only this layer* until it converges, and hands the corrected output on. Total:
one model forward plus a few single-layer evaluations per layer, O(L).

The model is in eval mode during the procedure (dropout off, BatchNorm uses and never updates its
running statistics) and its train/eval flags are restored after; statistics are computed in
float32 (bf16/fp16 models are safe); ``per_channel=True`` scales each output channel to the
target std; DataParallel/DDP wrappers are looked through (with DDP and an initialized process
group the variance is averaged over ranks, so all ranks apply the same scales).

Examples:
    >>> import torch
    >>> from torch import nn
    >>> m = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
    >>> r = lsuv(m, torch.randn(256, 32))
    >>> r.forward_passes, all(abs(l.final_std - 1) < 0.1 for l in r.layers)
    (1, True)
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from initlab.core import schemes as core
from initlab.errors import InitError
from initlab.model.apply import generator_for, is_pretrained
from initlab.model.structure import unwrap
from initlab.model.trace import split_input
from initlab.views import Rendered

LSUV_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.modules.conv._ConvNd)


@dataclass(frozen=True)
class LSUVLayer:
    """One layer's LSUV result.

    Attributes:
        name: module path.
        type: class name.
        iterations: weight rescalings made.
        initial_std: output std before rescaling (after the orthonormal pre-init).
        final_std: output std after (the mean over channels of the per-channel std when
            ``per_channel``).
        scale: product of the applied scales (their mean, per channel).
        converged: |final_std − target| < tol.
    """

    name: str
    type: str
    iterations: int
    initial_std: float
    final_std: float
    scale: float
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LSUVReport(Rendered):
    """The result of :func:`lsuv`.

    Attributes:
        layers: per layer, in execution order.
        forward_passes: full model forwards made (1).
        layer_calls: extra single-layer evaluations made (one per rescaling).
        target_std, tol: the targets used.
        not_called: selected layers the forward never called (left as they were).
        protected: ``(layer, why)`` for layers left alone: frozen, pretrained, ``skip=``, or
            a weight tied to another module (an LM head sharing the embedding).
    """

    layers: tuple[LSUVLayer, ...]
    forward_passes: int
    layer_calls: int
    target_std: float
    tol: float
    not_called: tuple[str, ...] = ()
    protected: tuple[tuple[str, str], ...] = ()

    @property
    def converged(self) -> bool:
        return all(layer.converged for layer in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": [layer.to_dict() for layer in self.layers],
            "forward_passes": self.forward_passes,
            "layer_calls": self.layer_calls,
            "target_std": self.target_std,
            "tol": self.tol,
            "not_called": list(self.not_called),
            "protected": [list(p) for p in self.protected],
            "converged": self.converged,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self) -> str:
        """One line (a REPL shows this); ``rich.print`` it for the per-layer table."""
        ok = sum(layer.converged for layer in self.layers)
        return (f"LSUVReport({len(self.layers)} layers, {ok} converged to std "
                f"{self.target_std} ± {self.tol}, {self.forward_passes} forward passes)")


def _out_channel_dim(m: nn.Module) -> int:
    return 1 if isinstance(m, nn.modules.conv._ConvTransposeNd) else 0


def _stats(out: torch.Tensor, per_channel: bool, conv: bool, sync: bool) -> torch.Tensor:
    """Std of ``out`` in float32: a scalar, or one per output channel."""
    x = out.detach().float()
    if per_channel:
        x = x.movedim(1, -1) if conv else x
        x = x.reshape(-1, x.shape[-1])
        s1, s2, n = x.sum(0), (x * x).sum(0), torch.tensor(float(x.shape[0]), device=x.device)
    else:
        s1, s2, n = x.sum(), (x * x).sum(), torch.tensor(float(x.numel()), device=x.device)
    if sync:
        import torch.distributed as dist

        buf = torch.cat([s1.reshape(-1), s2.reshape(-1), n.reshape(-1)])
        dist.all_reduce(buf)
        k = s1.numel()
        s1, s2, n = buf[:k].reshape(s1.shape), buf[k : 2 * k].reshape(s2.shape), buf[-1]
    mean = s1 / n
    var = (s2 / n - mean * mean).clamp_min(0.0) * (n / (n - 1).clamp_min(1.0))
    return var.sqrt()


def lsuv(
    model: nn.Module,
    batch: Any,
    target_std: float = 1.0,
    tol: float = 0.1,
    max_iter: int = 10,
    orthonormal: bool = True,
    *,
    per_channel: bool = False,
    seed: int = 0,
    skip: Sequence[Any] = (),
    overwrite: bool = False,
) -> LSUVReport:
    """LSUV (Mishkin & Matas 2015, Algorithm 1) with one forward pass: O(L) layer evaluations.

    Args:
        model: the model (DataParallel/DDP wrappers are looked through).
        batch: a batch as ``model(...)`` takes it (tensor, tuple of args, dict of kwargs).
        target_std: the output std each conv/linear layer is scaled to (paper: 1).
        tol: stop when |std − target_std| < tol (paper: Tol_var = 0.1).
        max_iter: most rescalings per layer (paper: T_max).
        orthonormal: pre-initialize weights orthonormally (Saxe et al. 2014) and biases to 0,
            as in the paper; the generator is seeded by (seed, parameter name).
        per_channel: scale each output channel to ``target_std`` instead of the whole output.
        seed: seed of the orthonormal pre-init.
        skip: globs on parameter names or module classes never to touch (as in ``init``).
        overwrite: also rescale frozen (``requires_grad=False``), pretrained
            (:func:`initlab.mark_pretrained`) and skipped layers, like ``init(overwrite=True)``.

    Returns:
        An :class:`LSUVReport` (per layer: iterations, initial and final std).

    Raises:
        InitError: bad ``target_std``/``tol``/``max_iter``, or no conv/linear layer.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3))
        >>> r = lsuv(m, torch.randn(16, 3, 12, 12), per_channel=True)
        >>> len(r.layers)
        2
    """
    _check_args(target_std, tol, max_iter)
    sync = _distributed(model)
    inner = unwrap(model)
    selected = {n: m for n, m in inner.named_modules() if isinstance(m, LSUV_LAYERS)}
    if not selected:
        raise InitError(
            f"lsuv: {type(inner).__name__} has no Linear or Conv layer to scale; LSUV needs them"
        )
    if isinstance(skip, str | type):
        skip = [skip]
    protected = _protected(inner, selected, skip) if not overwrite else {}
    selected = {n: m for n, m in selected.items() if n not in protected}
    if orthonormal:
        with torch.no_grad():
            for n, m in selected.items():
                g = generator_for(seed, f"{n}.weight", 0, m.weight.device)
                core.orthogonal_(m.weight, 1.0, g)
                if getattr(m, "bias", None) is not None:
                    m.bias.zero_()
    results: dict[str, LSUVLayer] = {}
    layer_calls = 0

    def make_hook(name: str) -> Any:
        def hook(module: nn.Module, args: Any, kwargs: Any, output: Any) -> Any:
            nonlocal layer_calls
            if name in results or not isinstance(output, torch.Tensor):
                return None
            conv = isinstance(module, nn.modules.conv._ConvNd)
            w = module.weight
            std = _stats(output, per_channel, conv, sync)
            initial = float(std.mean())
            total = torch.ones_like(std)
            it = 0
            out = output
            while it < max_iter and not _close(std, target_std, tol):
                if bool((std <= 1e-12).any()):
                    break
                s = target_std / std
                total = total * s
                _scale_weight(w, s, per_channel, _out_channel_dim(module))
                out = module.forward(*args, **kwargs)
                layer_calls += 1
                it += 1
                std = _stats(out, per_channel, conv, sync)
            results[name] = LSUVLayer(
                name=name,
                type=type(module).__name__,
                iterations=it,
                initial_std=initial,
                final_std=float(std.mean()),
                scale=float(total.mean()),
                converged=_close(std, target_std, tol),
            )
            return out

        return hook

    handles = [m.register_forward_hook(make_hook(n), with_kwargs=True) for n, m in selected.items()]
    modes = {m: m.training for m in inner.modules()}
    args, kwargs = split_input(batch)
    try:
        inner.eval()
        with torch.no_grad():
            inner(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
        for m, t in modes.items():
            m.training = t
    order = list(results)
    return LSUVReport(
        layers=tuple(results[n] for n in order),
        forward_passes=1,
        layer_calls=layer_calls,
        target_std=float(target_std),
        tol=float(tol),
        not_called=tuple(n for n in selected if n not in results),
        protected=tuple(protected.items()),
    )


def _protected(
    model: nn.Module, selected: dict[str, nn.Module], skip: Sequence[Any]
) -> dict[str, str]:
    """Layers LSUV must not touch, with why: the same safety rules as ``initlab.init``."""
    owners: dict[int, list[str]] = {}
    for n, m in model.named_modules():
        for local, p in m.named_parameters(recurse=False):
            owners.setdefault(id(p), []).append(f"{n}.{local}" if n else local)
    modules = dict(model.named_modules())
    out: dict[str, str] = {}
    for name, m in selected.items():
        params = list(m.parameters(recurse=False))
        names = [f"{name}.{k}" if name else k for k, _ in m.named_parameters(recurse=False)]
        parts = name.split(".") if name else []
        if any(not p.requires_grad for p in params):
            out[name] = "frozen (requires_grad=False)"
        elif any(is_pretrained(modules[".".join(parts[:i])]) for i in range(len(parts) + 1)):
            out[name] = "marked pretrained (initlab.mark_pretrained)"
        elif any(isinstance(pat, type) and isinstance(m, pat) for pat in skip) or any(
            isinstance(pat, str) and fnmatch.fnmatchcase(n, pat) for pat in skip for n in names
        ):
            out[name] = "skip="
        elif len(owners.get(id(m.weight), ())) > 1:
            others = [o for o in owners[id(m.weight)] if not o.startswith(f"{name}.")]
            out[name] = f"weight tied to {', '.join(others)}: rescaling it would change both"
    for i, pat in enumerate(skip):
        hit = any(isinstance(pat, type) and isinstance(mm, pat) for mm in modules.values()) or any(
            isinstance(pat, str) and fnmatch.fnmatchcase(k, pat) for ks in owners.values()
            for k in ks)  # fmt: skip
        if not hit:
            raise InitError(
                f"lsuv: skip[{i}] {pat!r} matches no parameter or module; fix the pattern, or the "
                "layers it was meant to protect will be rescaled"
            )
    return out


def _check_args(target_std: Any, tol: Any, max_iter: Any) -> None:
    if not (isinstance(target_std, int | float) and target_std > 0 and math.isfinite(target_std)):
        raise InitError(f"lsuv: target_std must be a positive number, got {target_std!r}")
    if not (isinstance(tol, int | float) and tol > 0):
        raise InitError(f"lsuv: tol must be a positive number, got {tol!r}")
    if not isinstance(max_iter, int) or max_iter < 0:
        raise InitError(f"lsuv: max_iter must be an int ≥ 0, got {max_iter!r}")


def _distributed(model: nn.Module) -> bool:
    """Statistics are all-reduced when ``model`` is DDP in a multi-rank process group."""
    if not isinstance(model, nn.parallel.DistributedDataParallel):
        return False
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _close(std: torch.Tensor, target: float, tol: float) -> bool:
    return bool(((std - target).abs() < tol).all())


def _scale_weight(w: torch.Tensor, s: torch.Tensor, per_channel: bool, dim: int) -> None:
    with torch.no_grad():
        if per_channel:
            shape = [1] * w.dim()
            shape[dim] = -1
            factor = s.reshape(shape)
        else:
            factor = s
        w.copy_((w.float() * factor.to(w.device)).to(w.dtype))


__all__ = ["LSUVLayer", "LSUVReport", "lsuv"]
