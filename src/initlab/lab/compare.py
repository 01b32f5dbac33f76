"""Training comparisons: the same model trained from several starts, over several seeds.

The seeds' exercise — "train the same model architecture on MNIST with zeros, random N(0,1),
Xavier, and He initialization; plot loss curves and final accuracy for each", then "track
gradient variance during the backward pass; verify that He preserves gradient magnitudes better
than Xavier for ReLU" — as one function. For every start (any name of the registry,
:mod:`initlab.lab.starts`) and every seed, a fresh model from the zoo
(:func:`initlab.lab.zoo.build_model`) is initialized, looked at before training (the doctor's
verdict, the per-layer variance of the weight gradients Var[∂L/∂W] on a fixed batch of 256
training examples), trained with :func:`initlab.lab.train.train`, and looked at again.

What to expect on an MLP (Glorot & Bengio 2010; He et al. 2015):

* ``zeros``: every hidden unit computes the same thing and gets the same gradient — here
  exactly 0, since every downstream weight is 0 — so only the output bias learns: the net
  predicts the class prior, ≈ 10 % accuracy (no symmetry breaking);
* ``normal`` (N(0, 1), ignoring fan-in): the pre-activation variance grows by fan_in·E[φ²] per
  layer, so the loss starts huge and often diverges;
* ``xavier``: Var = 2/(fan_in + fan_out): with ReLU the signal halves per layer;
* ``he``: Var = 2/fan_in: the ReLU signal and gradient keep their scale.

Same arguments ⇒ the same numbers (data split, weights and batch order are all seeded).

Examples:
    >>> r = compare_inits(("zeros", "he"), depth=3, width=32, epochs=3)
    >>> r.run("he").final_test_accuracy > r.run("zeros").final_test_accuracy + 0.5
    True
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from initlab.errors import InitError
from initlab.lab.data import Split, load_dataset
from initlab.lab.starts import Start, get_start
from initlab.lab.sweep import split_top_level
from initlab.lab.train import OPTIMIZERS, RunRecord, _loss_fn, train
from initlab.lab.zoo import LAB_MODELS, build_model

#: Examples used for the step-0 diagnostics (doctor, gradient variance).
PROBE_BATCH = 256


def _probed(name: str, p: torch.Tensor) -> bool:
    return p.requires_grad and p.dim() >= 2 and "embed" not in name


def layer_grad_variance(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                        task: str = "classification") -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Per Linear/Conv/recurrent weight, the variance of ∂L/∂W over its entries on one batch
    (Glorot & Bengio 2010, Fig. 7: the weight gradients' variance per layer).

    Leaves the model's ``.grad`` as it found it (None). A non-finite loss gives NaNs.

    Examples:
        >>> m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        >>> names, v = layer_grad_variance(m, torch.randn(16, 4), torch.randint(0, 3, (16,)))
        >>> names, all(x > 0 for x in v)
        (('0.weight', '2.weight'), True)
    """
    params = [(n, p) for n, p in model.named_parameters() if _probed(n, p)]
    was_training = model.training
    model.train()
    saved = [p.grad for _, p in params]
    for _, p in params:
        p.grad = None
    try:
        loss = _loss_fn(task)(model(x), y)
        if not bool(torch.isfinite(loss)):
            return tuple(n for n, _ in params), tuple(math.nan for _ in params)
        grads = torch.autograd.grad(loss, [p for _, p in params], allow_unused=True)
    finally:
        for (_, p), g in zip(params, saved, strict=True):
            p.grad = g
        model.train(was_training)
    out = tuple(float(g.detach().cpu().double().var()) if g is not None and g.numel() > 1
                else math.nan for g in grads)  # on the CPU: float64 everywhere (MPS has none)
    return tuple(n for n, _ in params), out


@dataclass(frozen=True)
class StartSummary:
    """One start over all its seeds.

    ``accuracy_mean``/``accuracy_std``: final test accuracy (R² for regression) over the seeds
    (std 0 with one seed); ``steps_to_threshold``: per seed, the first step whose trailing mean
    loss reached the threshold (None: never); ``verdict0``: the doctor's verdict at step 0 (the
    most common over seeds); ``grad_var0``/``grad_var_end``: per layer, the geometric mean over
    seeds of Var[∂L/∂W] before and after training.
    """

    start: str
    label: str
    seeds: tuple[int, ...]
    accuracy_mean: float
    accuracy_std: float
    final_loss_mean: float
    diverged: int
    steps_to_threshold: tuple[int | None, ...]
    verdict0: str
    grad_var0: tuple[float, ...]
    grad_var_end: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        def f(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "start": self.start, "label": self.label, "seeds": list(self.seeds),
            "accuracy_mean": f(self.accuracy_mean), "accuracy_std": f(self.accuracy_std),
            "final_loss_mean": f(self.final_loss_mean), "diverged": self.diverged,
            "steps_to_threshold": list(self.steps_to_threshold), "verdict0": self.verdict0,
            "grad_var0": [f(v) for v in self.grad_var0],
            "grad_var_end": [f(v) for v in self.grad_var_end],
        }


@dataclass(frozen=True)
class ComparisonResult:
    """All runs of a comparison: one :class:`RunRecord` per (start, seed), in that order.

    ``interrupted``: Ctrl-C stopped the comparison; ``runs`` holds the runs that finished.
    """

    starts: tuple[Start, ...]
    seeds: tuple[int, ...]
    runs: tuple[RunRecord, ...]
    config: dict[str, Any]
    data: dict[str, Any]
    layers: tuple[str, ...] = ()
    threshold: float = 0.5
    interrupted: bool = False
    summaries: tuple[StartSummary, ...] = field(default=(), compare=False)

    @property
    def schemes(self) -> tuple[str, ...]:
        """The start names, in order."""
        return tuple(s.name for s in self.starts)

    @property
    def model(self) -> str:
        return str(self.config["model"])

    @property
    def activation(self) -> str:
        return str(self.config["activation"])

    @property
    def depth(self) -> int:
        return int(self.config["depth"])

    @property
    def width(self) -> int:
        return int(self.config["width"])

    @property
    def epochs(self) -> int:
        return int(self.config["epochs"])

    def runs_of(self, start: str) -> tuple[RunRecord, ...]:
        """The finished runs of ``start`` (a name as given or canonical), one per seed."""
        name = get_start(start).name if start not in self.schemes else start
        out = tuple(r for r in self.runs if r.config.get("start") == name)
        if not out and name not in self.schemes:
            raise InitError(f"ComparisonResult: no runs for start {start!r}; have "
                            f"{list(self.schemes)}")
        return out

    def run(self, start: str, seed: int | None = None) -> RunRecord:
        """The run of ``start`` with ``seed`` (default: the first seed)."""
        runs = self.runs_of(start)
        for r in runs:
            if seed is None or r.seed == seed:
                return r
        raise InitError(f"ComparisonResult.run: no finished run for start {start!r}, seed "
                        f"{seed}; seeds {list(self.seeds)}")

    def summary(self, start: str) -> StartSummary:
        name = get_start(start).name if start not in self.schemes else start
        for s in self.summaries:
            if s.start == name:
                return s
        raise InitError(f"ComparisonResult.summary: no finished run of {start!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "initlab.compare/1",
            "config": dict(self.config),
            "data": dict(self.data),
            "starts": [s.to_dict() for s in self.starts],
            "seeds": list(self.seeds),
            "threshold": self.threshold,
            "layers": list(self.layers),
            "interrupted": self.interrupted,
            "summary": [s.to_dict() for s in self.summaries],
            "runs": [{"start": r.config.get("start"), **r.to_dict()} for r in self.runs],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def _gmean(values: Sequence[float]) -> float:
    vals = [v for v in values if math.isfinite(v) and v >= 0]
    if not vals:
        return math.nan
    if min(vals) == 0:
        return 0.0
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def summarize(start: Start, runs: Sequence[RunRecord], threshold: float) -> StartSummary:
    """Aggregate the runs of one start (see :class:`StartSummary`)."""
    # diverged runs have no accuracy (NaN): the mean is over the runs that finished, NaN if none
    accs = [r.final_test_accuracy for r in runs
            if not r.diverged and math.isfinite(r.final_test_accuracy)]
    losses = [r.final_train_loss for r in runs if math.isfinite(r.final_train_loss)]
    n_layers = max((len(r.extra.get("grad_var0", ())) for r in runs), default=0)

    def per_layer(key: str) -> tuple[float, ...]:
        return tuple(_gmean([r.extra[key][i] for r in runs if len(r.extra.get(key, ())) > i
                             and r.extra[key][i] is not None]) for i in range(n_layers))

    verdicts = Counter(r.extra.get("verdict0", "") for r in runs)
    return StartSummary(
        start=start.name,
        label=start.label,
        seeds=tuple(r.seed for r in runs),
        accuracy_mean=statistics.fmean(accs) if accs else math.nan,
        accuracy_std=statistics.stdev(accs) if len(accs) > 1 else 0.0,
        final_loss_mean=statistics.fmean(losses) if losses else math.nan,
        diverged=sum(r.diverged for r in runs),
        steps_to_threshold=tuple(r.steps_to(threshold) for r in runs),
        verdict0=verdicts.most_common(1)[0][0] if verdicts else "",
        grad_var0=per_layer("grad_var0"),
        grad_var_end=per_layer("grad_var_end"),
    )


def _check_int(name: str, v: Any, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise InitError(f"compare_inits: {name} must be an int ≥ {lo}, got {v!r}")


def _seeds(seeds: int | Sequence[int], seed: int) -> tuple[int, ...]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        _check_int("seeds", seeds, 1)
        return tuple(range(seed, seed + seeds))
    out = tuple(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in out):
        raise InitError(f"compare_inits: seeds must be a count ≥ 1 or a list of ints ≥ 0, "
                        f"got {seeds!r}")
    if len(set(out)) != len(out):
        raise InitError(f"compare_inits: seeds repeats a value: {list(out)}")
    return out


def _check(inits: Any, depth: Any, width: Any, epochs: Any, seed: Any, batch_size: Any,
           optimizer: Any, model: Any, lr: Any) -> tuple[Start, ...]:
    if isinstance(inits, str):
        inits = split_specs(inits)
    starts = tuple(get_start(s) for s in inits)
    if not starts:
        raise InitError("compare_inits: no starts given; e.g. inits=('zeros', 'he')")
    names = [s.name for s in starts]
    if len(set(names)) != len(names):
        raise InitError(f"compare_inits: a start is repeated: {names}")
    for key, v, lo in (("depth", depth, 1), ("width", width, 1), ("epochs", epochs, 1),
                       ("seed", seed, 0), ("batch_size", batch_size, 1)):
        _check_int(key, v, lo)
    if optimizer not in OPTIMIZERS:
        raise InitError(
            f"compare_inits: optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}"
        )
    if model not in LAB_MODELS:
        raise InitError(f"compare_inits: unknown model {model!r}; choose from "
                        f"{', '.join(LAB_MODELS)}")
    if not isinstance(lr, int | float) or not math.isfinite(lr) or lr <= 0:
        raise InitError(f"compare_inits: lr must be a finite number > 0, got {lr!r}")
    return starts


def compare_inits(
    inits: Sequence[str | Start] | str = ("zeros", "normal", "xavier", "he"),
    *,
    dataset: str = "digits",
    model: str = "mlp",
    activation: str = "relu",
    depth: int = 6,
    width: int = 64,
    epochs: int = 15,
    seeds: int | Sequence[int] = 1,
    seed: int = 0,
    lr: float = 0.01,
    batch_size: int = 64,
    optimizer: str = "sgd",
    standardize: bool = True,
    n_train: int | None = None,
    n_test: int | None = None,
    threshold: float | None = None,
    data: Split | None = None,
    diagnose: bool = True,
    on_step: Callable[[str, int, int, float], None] | None = None,
    on_run: Callable[[str, int, RunRecord], None] | None = None,
    device: str | torch.device = "cpu",
) -> ComparisonResult:
    """Train the same model once per (start, seed).

    Args:
        inits: start names or specs (``"zeros,normal,xavier,he"`` works too), each once.
        dataset: a name of :func:`initlab.lab.data.load_dataset` (split with ``seed``).
        model: a name of :data:`initlab.lab.zoo.LAB_MODELS` (``mlp``, ``cnn``, ``resnet``...).
        activation, depth, width: the model's activation, depth and width.
        epochs, lr, batch_size, optimizer: passed to :func:`initlab.lab.train.train`.
        seeds: a count (``seed, seed+1, …``) or the list of seeds; each seeds the weights and
            the batch order of one run per start (the data split is the same for all).
        seed: the data split's seed and the first seed.
        standardize, n_train, n_test: passed to :func:`~initlab.lab.data.load_dataset`.
        threshold: the loss the "steps to threshold" column waits for (default 0.5 for
            classification, 0.05 for regression).
        data: a prepared split instead of ``dataset``.
        diagnose: run the doctor and the gradient variances (before and after training).
        on_step: ``on_step(start, seed, step, loss)`` after every mini-batch (progress).
        on_run: ``on_run(start, seed, record)`` after every finished run.
        device: where the models train and are diagnosed (``"cpu"``, ``"cuda"``, ``"cuda:1"``,
            ``"mps"``). Each model is built and initialized on the CPU (the same weights on
            every device), then moved; the data split is moved once.

    A ``KeyboardInterrupt`` (Ctrl-C) stops the comparison: the result keeps the finished runs
    and says ``interrupted=True``.

    Raises:
        InitError: an unknown start, data set, model or activation, a bad size, a device this
            machine lacks.
    """
    from initlab.devices import resolve_device

    dev = resolve_device(device)
    starts = _check(inits, depth, width, epochs, seed, batch_size, optimizer, model, lr)
    from initlab.core.activations import get_activation

    act_name = get_activation(activation).name  # InitError for an unknown name
    seed_list = _seeds(seeds, seed)
    split = data if data is not None else load_dataset(
        dataset, seed=seed, standardize=standardize, n_train=n_train, n_test=n_test)
    if threshold is None:
        threshold = 0.5 if split.task == "classification" else 0.05
    if not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise InitError(f"compare_inits: threshold must be a finite number, got {threshold!r}")
    cfg = {"dataset": split.name, "model": model, "activation": act_name, "depth": depth,
           "width": width, "epochs": epochs, "lr": float(lr), "batch_size": batch_size,
           "optimizer": optimizer, "seed": seed, "standardize": bool(standardize)}
    layers = tuple(n for n, p in build_model(
        model, split.input_shape, split.out_features, depth=depth, width=width,
        activation=act_name).named_parameters() if _probed(n, p))
    split = split.to(dev)  # once; each model follows it after its CPU initialization
    runs: list[RunRecord] = []
    interrupted = False
    try:
        for start in starts:
            for s in seed_list:
                rec = _one_run(start, s, split, model, depth, width, act_name, diagnose,
                               on_step, epochs=epochs, lr=lr, batch_size=batch_size,
                               optimizer=optimizer, config=cfg, device=dev)
                runs.append(rec)
                if on_run is not None:
                    on_run(start.name, s, rec)
    except KeyboardInterrupt:
        interrupted = True
    summaries = tuple(summarize(st, [r for r in runs if r.config["start"] == st.name],
                                float(threshold))
                      for st in starts if any(r.config["start"] == st.name for r in runs))
    return ComparisonResult(starts, seed_list, tuple(runs), cfg, split.to_dict(), layers,
                            float(threshold), interrupted, summaries)


def _one_run(start: Start, s: int, split: Split, model: str, depth: int, width: int,
             act_name: str, diagnose: bool,
             on_step: Callable[[str, int, int, float], None] | None, *, epochs: int, lr: float,
             batch_size: int, optimizer: str, config: dict[str, Any],
             device: torch.device | None = None) -> RunRecord:
    """One (start, seed): build and initialize on the CPU, move to ``device`` (where ``split``
    is), look (step 0), train, look again."""
    probe_x, probe_y = split.x_train[:PROBE_BATCH], split.y_train[:PROBE_BATCH]
    torch.manual_seed(s)  # the module defaults the start may keep (norm layers)
    net = build_model(model, split.input_shape, split.out_features, depth=depth, width=width,
                      activation=act_name)
    start.apply(net, probe_x.cpu(), seed=s)  # data-dependent starts (LSUV) look on the CPU
    if device is not None:
        net.to(device)
    extra: dict[str, Any] = {"start_label": start.label}
    if diagnose:
        _, gv0 = layer_grad_variance(net, probe_x, probe_y, split.task)
        extra["grad_var0"] = [v if math.isfinite(v) else None for v in gv0]
        extra["verdict0"] = _verdict(net, probe_x)
    step_cb = None
    if on_step is not None:
        def step_cb(k: int, v: float) -> None:
            on_step(start.name, s, k, v)
    rec = train(net, split, epochs=epochs, lr=lr, batch_size=batch_size, seed=s,
                optimizer=optimizer, config={**config, "start": start.name, "seed": s},
                on_step=step_cb)
    if diagnose:
        _, gv1 = layer_grad_variance(net, probe_x, probe_y, split.task)
        extra["grad_var_end"] = [v if math.isfinite(v) else None for v in gv1]
    return dataclasses.replace(rec, extra=extra)


def _verdict(model: nn.Module, x: torch.Tensor) -> str:
    from initlab.probe.doctor import doctor

    try:
        return doctor(model, x).verdict
    except InitError as e:  # a model the doctor cannot read: say so, keep training
        return f"unreadable ({e})"


def split_specs(text: str) -> list[str]:
    """Split ``"zeros,normal(std=0.1),critical(sigma_b2=0.05, q_star=1)"`` at top-level commas."""
    return split_top_level(text, ",")


__all__ = ["PROBE_BATCH", "ComparisonResult", "StartSummary", "compare_inits",
           "layer_grad_variance", "split_specs", "summarize"]
