"""``initlab theory`` and ``initlab phase``: mean-field numbers and phase diagrams from the CLI."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from initlab.cli.common import console, fail, print_json
from initlab.errors import InitError


def _params(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise InitError(
                f"--param must look like NAME=VALUE (e.g. negative_slope=0.2), got {item!r}"
            )
        try:
            out[key.strip()] = float(val)
        except ValueError:
            out[key.strip()] = val.strip()
    return out


def _act(name: str, params: list[str] | None) -> Any:
    from initlab.core.activations import get_activation

    return get_activation(name, **_params(params))


def _fmt(v: float | None) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "∞"
    return f"{v:.6g}"


def theory_cmd(
    activation: str = typer.Argument(
        ..., help="Activation name: tanh, relu, gelu, silu, erf-like callables..."
    ),
    sigma_w2: float | None = typer.Option(
        None, "--sigma-w2", help="Weight variance σ_w² (W ~ N(0, σ_w²/N)); default: critical."
    ),
    sigma_b2: float = typer.Option(0.0, "--sigma-b2", help="Bias variance σ_b²."),
    param: list[str] | None = typer.Option(
        None,
        "--param",
        help="Activation parameter NAME=VALUE (repeatable), e.g. negative_slope=0.2.",
    ),
    json: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
) -> None:
    """Mean-field fixed points, χ₁, depth scales and phase of a deep random network.

    Prints q*, c*, χ₁, χ_c, the length map's slope at q* and whether q* is stable (slope < 1),
    ξ_q, ξ_c, the trainable depth 6ξ_c, the phase (ordered / critical / chaotic) and the critical
    σ_w² at this σ_b² (Poole et al. 2016; Schoenholz et al. 2017).
    Without --sigma-w2 the network is put on the critical line.

    Example:  initlab theory tanh --sigma-w2 2.5 --sigma-b2 0.05
    """
    from initlab import theory

    try:
        act = _act(activation, param)
        if sigma_b2 < 0 or not math.isfinite(sigma_b2):
            raise InitError(f"--sigma-b2 must be a finite variance ≥ 0, got {sigma_b2}")
        if act.glu:  # MeanField's own message: pass the gate
            theory.MeanField(act, 1.0, sigma_b2)
        try:
            crit: float | None = theory.critical_sigma_w2(act, sigma_b2)
        except InitError:
            crit = None
        w2 = sigma_w2
        if w2 is None:
            if crit is None:
                raise InitError(
                    f"{act.name} has no critical point at σ_b² = {sigma_b2:g}; pass --sigma-w2"
                )
            w2 = crit
            try:
                mf = theory.MeanField(act, w2, sigma_b2)
            except InitError as e:
                raise InitError(
                    f"{act.name}'s critical point at σ_b² = {sigma_b2:g} (σ_w² = {w2:.6g}) "
                    f"is not where the length map goes from q⁰ = 1 ({e}); pass --sigma-w2, "
                    "or see `initlab gain "
                    f"{act.name}` for initlab.theory.critical_init's (σ_w, σ_b)"
                ) from None
        else:
            mf = theory.MeanField(act, w2, sigma_b2)
    except InitError as e:
        fail(str(e))
    d = mf.to_dict()
    d["critical_sigma_w2"] = crit
    if json:
        print_json(d)
        return
    t = Table(title=f"{act.name}: σ_w² = {w2:.6g}, σ_b² = {sigma_b2:.6g}", title_justify="left")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_column("meaning")
    rows = [
        ("q*", mf.q_star, "fixed point of the length map (pre-activation variance)"),
        ("c*", mf.c_star, "fixed point of the correlation map"),
        ("χ₁", mf.chi1, "σ_w² E[φ'(√q* z)²]: <1 ordered, >1 chaotic"),
        ("χ_c", mf.chi_c, "slope of the correlation map at c*"),
        ("length-map slope", mf.length_slope, "σ_w² dE[φ(√q z)²]/dq at q*: <1 q* attracts"),
        ("ξ_q", mf.xi_q, "depth scale of q (layers); none where q* repels"),
        ("ξ_c", mf.xi_c, "depth scale of c (layers)"),
        ("6 ξ_c", mf.trainable_depth, "trainable depth (Schoenholz et al. 2017)"),
    ]
    for name, val, meaning in rows:
        text = "none" if name == "ξ_q" and math.isnan(val) else _fmt(val)
        t.add_row(name, text, meaning)
    t.add_row(
        "q* stable",
        "[green]yes[/green]" if mf.q_stable else "[red]no[/red]",
        "nearby input variances converge to q*"
        if mf.q_stable
        else "q* repels: input variances ≠ q* drift away",
    )
    colour = {"ordered": "blue", "chaotic": "red", "critical": "green"}[mf.phase]
    t.add_row("phase", f"[{colour}]{mf.phase}[/{colour}]", "")
    t.add_row(
        "critical σ_w²",
        _fmt(crit) if crit is not None else "none",
        f"χ₁ = 1 at σ_b² = {sigma_b2:g}",
    )
    console.print(t)


def phase_cmd(
    activation: str = typer.Argument(..., help="Activation name: tanh, relu, gelu, silu..."),
    out: Path = typer.Option(
        Path("initlab-out/phase.png"), "--out", help="Where to save the figure (.png, .svg, .pdf)."
    ),
    w_min: float = typer.Option(0.5, help="Smallest σ_w²."),
    w_max: float = typer.Option(4.0, help="Largest σ_w²."),
    b_min: float = typer.Option(0.0, help="Smallest σ_b²."),
    b_max: float = typer.Option(0.3, help="Largest σ_b²."),
    points: int = typer.Option(200, min=2, max=2000, help="Grid points per axis."),
    param: list[str] | None = typer.Option(
        None, "--param", help="Activation parameter NAME=VALUE (repeatable)."
    ),
    json: bool = typer.Option(
        False, "--json", help="Print a summary and the critical line as JSON."
    ),
) -> None:
    """Phase diagram over (σ_w², σ_b²): ordered vs chaotic, the critical line and 6ξ_c contours.

    Draws the figure of Schoenholz et al. (2017): log ξ_c as colour, the critical line χ₁ = 1 in
    white and contours of the trainable depth 6ξ_c, and saves it to --out.

    Example:  initlab phase tanh --out phase.png
    """
    import numpy as np

    from initlab import theory
    from initlab.cli.common import FIGURE_SUFFIXES, output_file
    from initlab.report.theory_figures import phase_diagram_figure

    try:
        out = output_file(out, FIGURE_SUFFIXES, "--out")  # before the work
        act = _act(activation, param)
        for name, v in (
            ("--w-min", w_min),
            ("--w-max", w_max),
            ("--b-min", b_min),
            ("--b-max", b_max),
        ):
            if v < 0 or not math.isfinite(v):
                raise InitError(f"{name} must be a finite variance ≥ 0, got {v}")
        if not (w_min < w_max and b_min < b_max):
            raise InitError("need --w-min < --w-max and --b-min < --b-max")
        t0 = time.perf_counter()
        pd = theory.phase_diagram(
            act, np.linspace(w_min, w_max, points), np.linspace(b_min, b_max, points)
        )
        seconds = time.perf_counter() - t0
    except InitError as e:
        fail(str(e))
    path = phase_diagram_figure(pd, out)
    counts = {name: int((pd.phase == code).sum()) for code, name in theory.PHASE_CODES.items()}
    pick = np.unique(np.linspace(0, points - 1, 6).round().astype(int))
    line = [
        {"sigma_b2": float(pd.sigma_b2[i]), "critical_sigma_w2": _none(pd.critical_sigma_w2[i])}
        for i in pick
    ]
    summary = {
        "activation": pd.activation,
        "grid": {"sigma_w2": [w_min, w_max, points], "sigma_b2": [b_min, b_max, points]},
        "counts": counts,
        "critical_line": line,
        "figure": str(path),
        "seconds": seconds,
    }
    if json:
        print_json(summary)
        return
    t = Table(
        title=f"{pd.activation}: {points}×{points} phase diagram in {seconds:.2f} s",
        title_justify="left",
    )
    t.add_column("σ_b²", justify="right")
    t.add_column("critical σ_w²", justify="right")
    for row in line:
        crit = row["critical_sigma_w2"]
        t.add_row(f"{row['sigma_b2']:.4g}", "none" if crit is None else f"{crit:.6g}")
    console.print(t)
    console.print(
        "points: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v), highlight=False
    )
    console.print(f"figure: [bold]{path}[/bold]")


def _none(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def register(app: typer.Typer) -> None:
    app.command("theory")(theory_cmd)
    app.command("phase")(phase_cmd)
