"""Core initializers vs ``torch.nn.init``, side by side in one run.

For each size (default 1024x1024, 4096x4096, 4096x16384, float32) it times, interleaved
(the order of ours/theirs alternates every repeat, after warm-up calls), and prints the median
times and the ratios initlab / reference with each row's target:

* truncated normal at ±2σ: ``initlab.trunc_normal_(a=-2σ, b=2σ)`` and
  ``initlab.truncated_normal_`` vs ``torch.nn.init.trunc_normal_(a=-2σ, b=2σ)`` (a rejection
  sampler in torch 2.13) and vs plain ``Tensor.normal_`` (target: ≤ 1.2× ``normal_``, issue 14);
* ``orthogonal_`` vs ``torch.nn.init.orthogonal_`` (target ≤ 1.0×) on square, wide and tall
  shapes, and in bf16 (torch fails there: the row says so);
* every Xavier/He/LeCun preset vs its torch counterpart (target ≤ 1.1×), with a check that the
  draws are identical for the same generator state where initlab promises it.

Usage::

    python benchmarks/bench_core.py                      # the full run (a few minutes on 2 cores)
    python benchmarks/bench_core.py --quick              # tiny smoke run (seconds)
    python benchmarks/bench_core.py --sizes 1024x1024 --repeats 9 --threads 1 --json
    python benchmarks/bench_core.py --device cuda

Orthogonal init is O(n³) (16384x4096 is ~1e12 flops), so shapes above ``--big`` elements are
timed ``--big-repeats`` times (default 1) without warm-up, and ``--ortho-max`` skips orthogonal
rows above that many elements altogether.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

import initlab

DEFAULT_SIZES = "1024x1024,4096x4096,4096x16384"
QUICK_SIZES = "64x64,96x160"
SIGMA = 0.02  # the truncated-normal std (ViT/BERT-style 0.02); the window is ±2σ


@dataclass(frozen=True)
class Case:
    """One benchmark row: our function and its references, all filling ``shape`` in place."""

    group: str
    name: str
    torch_name: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    ours: Callable[[torch.Tensor, torch.Generator], Any]
    refs: dict[str, Callable[[torch.Tensor, torch.Generator], Any]]
    target_ref: str | None  # the reference the target ratio is measured against
    target: float | None  # ours / target_ref must be ≤ this
    big: bool = False  # timed --big-repeats times, no warm-up
    same_draws: bool = False  # initlab promises the same values as the first reference


@dataclass(frozen=True)
class Row:
    group: str
    name: str
    torch_name: str
    shape: list[int]
    dtype: str
    repeats: int
    ours_ms: float
    refs_ms: dict[str, float | None]  # None: the reference fails on this input
    ratios: dict[str, float | None]
    target_ref: str | None
    target: float | None
    ok: bool | None  # None: no target
    identical: bool | None  # same draws as torch for the same generator (None: not promised)
    failures: dict[str, str] = field(default_factory=dict)
    samples_ms: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"1024x1024,4096x16384"`` → [(1024, 1024), (4096, 16384)]."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        try:
            r, c = (int(x) for x in part.split("x"))
        except ValueError:
            raise SystemExit(f"--sizes: {part!r} is not ROWSxCOLS (e.g. 4096x16384)") from None
        if r < 1 or c < 1:
            raise SystemExit(f"--sizes: {part!r} needs positive dimensions")
        sizes.append((r, c))
    if not sizes:
        raise SystemExit("--sizes: give at least one ROWSxCOLS")
    return sizes


# ----------------------------------------------------------------------------- the cases ---
def _tn_ours(t: torch.Tensor, g: torch.Generator) -> Any:
    return initlab.trunc_normal_(t, 0.0, SIGMA, -2 * SIGMA, 2 * SIGMA, generator=g)


def _tn_ours_relative(t: torch.Tensor, g: torch.Generator) -> Any:
    return initlab.truncated_normal_(t, SIGMA, generator=g)


def _tn_torch(t: torch.Tensor, g: torch.Generator) -> Any:
    return torch.nn.init.trunc_normal_(t, 0.0, SIGMA, -2 * SIGMA, 2 * SIGMA, generator=g)


def _normal(t: torch.Tensor, g: torch.Generator) -> Any:
    return t.normal_(0.0, SIGMA, generator=g)


def _orth_ours(t: torch.Tensor, g: torch.Generator) -> Any:
    return initlab.orthogonal_(t, generator=g)


def _orth_stewart(t: torch.Tensor, g: torch.Generator) -> Any:
    return initlab.orthogonal_(t, generator=g, method="stewart")


def _orth_torch(t: torch.Tensor, g: torch.Generator) -> Any:
    return torch.nn.init.orthogonal_(t, generator=g)


TI = torch.nn.init
# (our name, our call, torch's name, torch's call, draws promised identical)
PRESETS: list[tuple[str, Callable[..., Any], str, Callable[..., Any], bool]] = [
    ("xavier_uniform_", lambda t, g: initlab.xavier_uniform_(t, generator=g),
     "xavier_uniform_", lambda t, g: TI.xavier_uniform_(t, generator=g), True),
    ("xavier_normal_", lambda t, g: initlab.xavier_normal_(t, generator=g),
     "xavier_normal_", lambda t, g: TI.xavier_normal_(t, generator=g), True),
    ("glorot_uniform_", lambda t, g: initlab.glorot_uniform_(t, generator=g),
     "xavier_uniform_", lambda t, g: TI.xavier_uniform_(t, generator=g), True),
    ("kaiming_uniform_(relu)",
     lambda t, g: initlab.kaiming_uniform_(t, nonlinearity="relu", generator=g),
     "kaiming_uniform_(relu)",
     lambda t, g: TI.kaiming_uniform_(t, nonlinearity="relu", generator=g), True),
    ("kaiming_normal_(relu)",
     lambda t, g: initlab.kaiming_normal_(t, nonlinearity="relu", generator=g),
     "kaiming_normal_(relu)",
     lambda t, g: TI.kaiming_normal_(t, nonlinearity="relu", generator=g), True),
    ("kaiming_uniform_() default",
     lambda t, g: initlab.kaiming_uniform_(t, math.sqrt(5), generator=g),
     "kaiming_uniform_(a=√5)",
     lambda t, g: TI.kaiming_uniform_(t, math.sqrt(5), generator=g), True),
    ("he_normal_(relu)", lambda t, g: initlab.he_normal_(t, "relu", generator=g),
     "kaiming_normal_(relu)",
     lambda t, g: TI.kaiming_normal_(t, nonlinearity="relu", generator=g), False),
    ("he_uniform_(relu)", lambda t, g: initlab.he_uniform_(t, "relu", generator=g),
     "kaiming_uniform_(relu)",
     lambda t, g: TI.kaiming_uniform_(t, nonlinearity="relu", generator=g), False),
    ("lecun_normal_", lambda t, g: initlab.lecun_normal_(t, generator=g),
     "kaiming_normal_(linear)",
     lambda t, g: TI.kaiming_normal_(t, nonlinearity="linear", generator=g), False),
    ("lecun_uniform_", lambda t, g: initlab.lecun_uniform_(t, generator=g),
     "kaiming_uniform_(linear)",
     lambda t, g: TI.kaiming_uniform_(t, nonlinearity="linear", generator=g), False),
    ("variance_scaling_(2, fan_in, normal)",
     lambda t, g: initlab.variance_scaling_(t, 2.0, "fan_in", "normal", generator=g),
     "kaiming_normal_(relu)",
     lambda t, g: TI.kaiming_normal_(t, nonlinearity="relu", generator=g), False),
]


def build_cases(sizes: Sequence[tuple[int, int]], big: int, ortho_max: int) -> list[Case]:
    cases: list[Case] = []
    f32, bf16 = torch.float32, torch.bfloat16
    tn_torch = "trunc_normal_(a=-2σ, b=2σ)"
    for r, c in sizes:
        refs = {"torch": _tn_torch, "normal_": _normal}
        cases.append(Case("truncated normal ±2σ", "trunc_normal_(a=-2σ, b=2σ)", tn_torch, (r, c),
                          f32, _tn_ours, refs, "normal_", 1.2))
        cases.append(Case("truncated normal ±2σ", "truncated_normal_(σ, ±2 σ-relative)", tn_torch,
                          (r, c), f32, _tn_ours_relative, refs, "normal_", 1.2))
    for r, c in sizes:
        shapes = [(r, c)] if r == c else [(r, c), (c, r)]
        for shape in shapes:
            n = shape[0] * shape[1]
            if n > ortho_max:
                continue
            kind = "square" if shape[0] == shape[1] else ("wide" if shape[0] < shape[1] else "tall")
            refs = {"torch": _orth_torch}
            cases.append(Case("orthogonal", f"orthogonal_ ({kind})", "orthogonal_", shape, f32,
                              _orth_ours, refs, "torch", 1.0, big=n > big, same_draws=n <= big))
            cases.append(Case("orthogonal", f"orthogonal_(method='stewart') ({kind})",
                              "orthogonal_", shape, f32, _orth_stewart, refs, "torch", 1.0,
                              big=n > big))
        n = r * c
        if n <= ortho_max:
            for name, fn in [("orthogonal_", _orth_ours),
                             ("orthogonal_(method='stewart')", _orth_stewart)]:
                cases.append(Case("orthogonal", f"{name} (bf16)", "orthogonal_", (r, c), bf16,
                                  fn, {"torch": _orth_torch}, None, None, big=n > big))
    for r, c in sizes:
        for name, ours, tname, theirs, same in PRESETS:
            cases.append(Case("presets", name, tname, (r, c), f32, ours, {"torch": theirs},
                              "torch", 1.1, same_draws=same))
    return cases


# ------------------------------------------------------------------------------ timing -----
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _time_once(fn: Callable[[], Any], device: torch.device, clock: str = "wall") -> float:
    now = CLOCKS[clock]
    _sync(device)
    start = now()
    fn()
    _sync(device)
    return (now() - start) * 1e3


def _fails(fn: Callable[[torch.Tensor, torch.Generator], Any], t: torch.Tensor,
           g: torch.Generator) -> str | None:
    """The error message if ``fn`` raises on ``t`` (tried once, untimed), else None."""
    try:
        fn(t, g)
    except Exception as e:  # torch raises RuntimeError/NotImplementedError on bf16 QR
        return f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
    return None


def run_case(case: Case, device: torch.device, repeats: int, warmup: int,
             big_repeats: int, clock: str = "wall") -> Row:
    t = torch.empty(case.shape, dtype=case.dtype, device=device)
    g = torch.Generator(device=device).manual_seed(0)
    failures = {name: msg for name, fn in case.refs.items()
                if (msg := _fails(fn, t, g)) is not None}
    timed: dict[str, Callable[[torch.Tensor, torch.Generator], Any]] = {"ours": case.ours}
    timed.update({k: v for k, v in case.refs.items() if k not in failures})
    n_rep, n_warm = (big_repeats, 0) if case.big else (repeats, warmup)
    names = list(timed)
    samples: dict[str, list[float]] = {k: [] for k in names}
    for i in range(n_warm + n_rep):
        order = names if i % 2 == 0 else names[::-1]  # interleaved, alternating who goes first
        for k in order:
            ms = _time_once(lambda k=k: timed[k](t, g), device, clock)
            if i >= n_warm:
                samples[k].append(ms)
    med = {k: statistics.median(v) for k, v in samples.items()}
    refs_ms: dict[str, float | None] = {k: med.get(k) for k in case.refs}
    ratios = {k: (med["ours"] / v if v else None) for k, v in refs_ms.items()}
    ok = None
    if case.target is not None and case.target_ref is not None:
        ratio = ratios.get(case.target_ref)
        ok = ratio is not None and ratio <= case.target
    identical = None
    if case.same_draws:
        ref = next(iter(case.refs.values()))
        a = case.ours(torch.empty(case.shape, dtype=case.dtype, device=device),
                      torch.Generator(device=device).manual_seed(1))
        b = ref(torch.empty(case.shape, dtype=case.dtype, device=device),
                torch.Generator(device=device).manual_seed(1))
        identical = bool(torch.equal(a, b))
    return Row(case.group, case.name, case.torch_name, list(case.shape),
               str(case.dtype).replace("torch.", ""),
               n_rep, med["ours"], refs_ms, ratios, case.target_ref, case.target, ok, identical,
               failures, {k: [round(x, 4) for x in v] for k, v in samples.items()})


# ------------------------------------------------------------------------------ output -----
def _fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "[red]fails[/red]"
    return f"{ms:,.1f}" if ms >= 10 else f"{ms:.3f}"


def _fmt_ratio(r: float | None, target: float | None = None) -> str:
    if r is None:
        return "—"
    text = f"{r:.2f}×"
    if target is None:
        return text
    return f"[green]{text}[/green]" if r <= target else f"[red]{text}[/red]"


def render(rows: Sequence[Row], meta: dict[str, Any], console: Console) -> None:
    console.print(
        f"[bold]initlab core vs torch.nn.init[/bold] — device {meta['device']}, "
        f"{meta['threads']} thread(s) (nproc {meta['nproc']}), torch {meta['torch']}, "
        f"median of {meta['repeats']} interleaved repeats after {meta['warmup']} warm-up "
        f"(orthogonal above {meta['big']:,} elements: {meta['big_repeats']}, no warm-up), "
        f"{meta['clock']} clock, load average at start {meta['loadavg']}"
    )
    for group in dict.fromkeys(r.group for r in rows):
        grows = [r for r in rows if r.group == group]
        table = Table(title=group, title_justify="left")
        table.add_column("initlab")
        table.add_column("torch / reference")
        table.add_column("shape")
        table.add_column("initlab ms", justify="right")
        table.add_column("torch ms", justify="right")
        table.add_column("initlab/torch", justify="right")
        has_normal = any("normal_" in r.refs_ms for r in grows)
        if has_normal:
            table.add_column("normal_ ms", justify="right")
            table.add_column("initlab/normal_", justify="right")
        table.add_column("target", justify="right")
        has_identical = any(r.identical is not None for r in grows)
        if has_identical:
            table.add_column("same draws", justify="center")
        table.add_column("ok", justify="center")
        for r in grows:
            shape = "×".join(map(str, r.shape)) + ("" if r.dtype == "float32" else f" {r.dtype}")
            tgt = r.target if r.target_ref == "torch" else None
            cells = [r.name, r.torch_name, shape, _fmt_ms(r.ours_ms),
                     _fmt_ms(r.refs_ms.get("torch")), _fmt_ratio(r.ratios.get("torch"), tgt)]
            if has_normal:
                ntgt = r.target if r.target_ref == "normal_" else None
                cells += [_fmt_ms(r.refs_ms.get("normal_")),
                          _fmt_ratio(r.ratios.get("normal_"), ntgt)]
            cells.append(f"≤ {r.target:g}× {r.target_ref}" if r.target is not None
                         else "(torch fails)" if r.failures else "—")
            if has_identical:
                cells.append("—" if r.identical is None else ("yes" if r.identical else "[red]no"))
            cells.append("—" if r.ok is None else ("[green]✓" if r.ok else "[red]✗"))
            table.add_row(*cells)
        console.print(table)
    misses = [r for r in rows if r.ok is False]
    if misses:
        console.print(f"[red]{len(misses)} row(s) miss their target:[/red] " + "; ".join(
            f"{r.name} {'×'.join(map(str, r.shape))} ({r.ratios[r.target_ref or '']:.2f}×)"
            for r in misses))
    else:
        console.print("[green]every row with a target meets it[/green]")
    failures = {msg for r in rows for msg in r.failures.values()}
    for msg in sorted(failures):
        console.print(f"torch fails: {msg}")


def to_markdown(result: dict[str, Any]) -> str:
    """The rows of a result (as returned by :func:`main` or read back from ``--json``) as one
    Markdown table, for benchmarks/RESULTS.md."""

    def ms(v: float | None) -> str:
        return "fails" if v is None else (f"{v:,.1f}" if v >= 10 else f"{v:.2f}")

    def ratio(r: dict[str, Any], ref: str) -> str:
        v = r["ratios"].get(ref)
        if v is None:
            return "—" if ref not in r["refs_ms"] else "torch fails"
        bold = r["target_ref"] == ref
        return f"**{v:.2f}×**" if bold else f"{v:.2f}×"

    lines = [
        "| group | initlab | torch / reference | shape | initlab ms | torch ms | initlab/torch "
        "| normal_ ms | initlab/normal_ | target | same draws | ok |",
        "|---|---|---|---|--:|--:|--:|--:|--:|---|:-:|:-:|",
    ]
    for r in result["rows"]:
        shape = "×".join(map(str, r["shape"])) + ("" if r["dtype"] == "float32"
                                                  else f" {r['dtype']}")
        target = f"≤ {r['target']:g}× {r['target_ref']}" if r["target"] is not None else "—"
        same = "—" if r["identical"] is None else ("yes" if r["identical"] else "no")
        ok = "—" if r["ok"] is None else ("✓" if r["ok"] else "✗")
        normal = r["refs_ms"].get("normal_") if "normal_" in r["refs_ms"] else "—"
        lines.append(
            f"| {r['group']} | `{r['name']}` | `{r['torch_name']}` | {shape} | {ms(r['ours_ms'])} "
            f"| {ms(r['refs_ms'].get('torch'))} | {ratio(r, 'torch')} "
            f"| {normal if normal == '—' else ms(normal)} | {ratio(r, 'normal_')} | {target} "
            f"| {same} | {ok} |"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench_core.py",
        description="Time initlab's core initializers against torch.nn.init, interleaved, "
        "and print ratios. Example: python benchmarks/bench_core.py --sizes 1024x1024 --json",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    p.add_argument("--sizes", default=None, help=f"ROWSxCOLS list (default {DEFAULT_SIZES})")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per row (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up calls (default 1)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads for the whole run (default: torch's current)")
    p.add_argument("--big", type=int, default=4096 * 4096,
                   help="orthogonal rows above this many elements get --big-repeats, no warm-up")
    p.add_argument("--big-repeats", type=int, default=1, help="repeats for big orthogonal rows")
    p.add_argument("--ortho-max", type=int, default=4096 * 16384,
                   help="skip orthogonal rows above this many elements")
    p.add_argument("--only", default=None,
                   help="comma list of groups to run: trunc, orthogonal, presets")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="wall (default) or cpu: process CPU time, robust to other jobs on a "
                   "shared machine when used with --threads 1 (on cuda, wall only)")
    p.add_argument("--quick", action="store_true",
                   help=f"tiny smoke run: sizes {QUICK_SIZES}, 2 repeats")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--markdown", action="store_true",
                   help="print one Markdown table (for benchmarks/RESULTS.md) instead")
    return p


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> dict[str, Any]:
    """Run the benchmark; print the tables (or JSON) and return the result as a dict."""
    args = build_parser().parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: CUDA is not available here (torch "
                         f"{torch.__version__}); run on a GPU machine or use --device cpu")
    sizes = parse_sizes(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
    repeats = args.repeats if args.repeats is not None else (2 if args.quick else 5)
    if repeats < 1 or args.warmup < 0 or args.big_repeats < 1:
        raise SystemExit("--repeats and --big-repeats must be ≥ 1, --warmup ≥ 0")
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit("--threads must be ≥ 1")
        torch.set_num_threads(args.threads)
    cases = build_cases(sizes, args.big, args.ortho_max)
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        keys = {"trunc": "truncated normal ±2σ", "orthogonal": "orthogonal", "presets": "presets"}
        unknown = wanted - keys.keys()
        if unknown:
            raise SystemExit(f"--only: unknown group(s) {sorted(unknown)}; use {sorted(keys)}")
        cases = [c for c in cases if c.group in {keys[w] for w in wanted}]
    meta = {
        "command": "python benchmarks/bench_core.py " + " ".join(argv if argv is not None
                                                                 else sys.argv[1:]),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "nproc": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "initlab": getattr(initlab, "__version__", "?"),
        "repeats": repeats,
        "warmup": args.warmup,
        "big": args.big,
        "big_repeats": args.big_repeats,
        "sigma": SIGMA,
        "clock": args.clock,
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    if args.clock == "cpu" and device.type == "cuda":
        raise SystemExit("--clock cpu measures host CPU time; use --clock wall with --device cuda")
    rows = [run_case(c, device, repeats, args.warmup, args.big_repeats, args.clock)
            for c in cases]
    result = {"meta": meta, "rows": [r.to_dict() for r in rows]}
    con = console or Console(width=None if sys.stdout.isatty() else 200)
    if args.json:
        con.print_json(json.dumps(result))
    elif args.markdown:
        con.print(to_markdown(result), markup=False, highlight=False, soft_wrap=True)
    else:
        render(rows, meta, con)
    return result


if __name__ == "__main__":
    main()
