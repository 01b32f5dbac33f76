"""``initlab scale`` and ``initlab gain``: the numbers behind the schemes, for one layer or one
activation."""

from __future__ import annotations

import typer
from rich.table import Table

from initlab.cli.common import console, print_json


def _params(param: list[str]) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    for p in param:
        key, sep, value = p.partition("=")
        if not sep or not key:
            from initlab.cli.common import fail

            fail(f"--param {p!r}: write it as NAME=VALUE, e.g. --param negative_slope=0.2")
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def scale(
    fan_in: float = typer.Argument(..., help="Inputs feeding one output unit."),
    fan_out: float = typer.Argument(..., help="Outputs one input unit feeds."),
    activation: str = typer.Option("relu", help="Activation after the layer (for He's gain)."),
    param: list[str] = typer.Option([], help="Activation parameter NAME=VALUE (repeatable)."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Variance, std and uniform bound of each scheme for a layer with these fans.

    Example:  initlab scale 1024 512 --activation tanh
    """
    from initlab.core.scales import scheme_scales

    rows = scheme_scales(fan_in, fan_out, activation, **_params(param))
    if json:
        print_json([r.to_dict() for r in rows])
        return
    t = Table(title=f"fan_in {fan_in:g}, fan_out {fan_out:g}", title_justify="left")
    for col in ("scheme", "Var[W]", "std", "U(±b)", "formula"):
        t.add_column(col, justify="left" if col in ("scheme", "formula") else "right")
    for r in rows:
        t.add_row(r.scheme, f"{r.variance:.6g}", f"{r.std:.5g}", f"±{r.uniform_bound:.5g}",
                  r.formula)  # fmt: skip
    console.print(t)


def gain_cmd(
    activation: str | None = typer.Argument(
        None, help="Activation name (see `initlab gain --list`)."
    ),
    param: list[str] = typer.Option([], help="Activation parameter NAME=VALUE (repeatable)."),
    sigma_b2: float = typer.Option(0.0, help="Bias variance for the critical gain."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
    list_: bool = typer.Option(False, "--list", help="List the activation names and exit."),
) -> None:
    """The three gains of an activation: variance-preserving, critical (edge of chaos) and
    torch's table, with E[φ(z)] and E[φ(z)²].

    Example:  initlab gain leaky_relu --param negative_slope=0.2
    """
    import math

    from initlab.cli.common import fail
    from initlab.core.activations import get_activation
    from initlab.core.gains import TORCH_NONLINEARITIES, gain
    from initlab.errors import InitError

    if list_:
        from initlab.core.activations import describe_activations

        if json:
            print_json(describe_activations())
            return
        for name, what in describe_activations().items():
            console.print(f"{name:<12} {what}", highlight=False)
        return
    if activation is None:
        fail("give an ACTIVATION (e.g. initlab gain tanh), or --list to see the names")
    if not math.isfinite(sigma_b2) or sigma_b2 < 0:
        fail(f"--sigma-b2 must be a finite bias variance ≥ 0 (e.g. 0.05), got {sigma_b2:g}")
    params = _params(param)
    act = get_activation(activation, **params)
    out: dict[str, object] = {
        "activation": act.name,
        "params": dict(act.params),
        "mean": float(act.mean(1.0)),
        "second_moment": float(act.second_moment(1.0)),
        "variance_gain": gain(act),
    }
    try:
        out["critical_gain"] = gain(act, "critical", sigma_b2=sigma_b2)
    except InitError as e:
        out["critical_gain"] = None
        out["critical_note"] = str(e)
    if not act.glu:
        from initlab.theory import critical_init

        try:
            out["critical_init"] = critical_init(act).to_dict()
        except InitError as e:
            out["critical_init"] = None
            out["critical_init_note"] = str(e)
    name = activation.strip().lower()
    if name in TORCH_NONLINEARITIES:
        slope = params.get("negative_slope")
        out["torch_gain"] = gain(name, "torch", **({} if slope is None else {"param": slope}))
    else:
        out["torch_gain"] = None
    if json:
        print_json(out)
        return
    t = Table(title=f"{act.name} {dict(act.params) or ''}".strip(), title_justify="left")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_column("meaning")
    t.add_row("E[φ(z)]", f"{out['mean']:.6g}", "mean output on N(0, 1) input")
    t.add_row("E[φ(z)²]", f"{out['second_moment']:.6g}", "second moment on N(0, 1) input")
    t.add_row("variance gain", f"{out['variance_gain']:.6g}", "1/√E[φ(z)²]: keeps Var constant")
    crit = out["critical_gain"]
    t.add_row("critical gain", "—" if crit is None else f"{crit:.6g}",
              f"edge of chaos at σ_b² = {sigma_b2:g}" if crit is not None
              else str(out.get("critical_note")))  # fmt: skip
    ci = out.get("critical_init")
    if isinstance(ci, dict):
        where = (f"stable edge-of-chaos point (q* = {ci['q_star']:.4g}"
                 if ci["policy"] == "zero_bias"
                 else f"stable edge-of-chaos point (q* = {ci['q_star']:.4g}, σ_b > 0, "
                      f"length-map slope {ci['length_slope']:.3g}"
                 if ci.get("q_stable", True)
                 else f"χ₁ = 1 at q* = {ci['q_star']:.4g}, but q* repels (length-map slope "
                      f"{ci['length_slope']:.4g} > 1")  # fmt: skip
        t.add_row("critical init", f"σ_w={ci['sigma_w']:.4g}, σ_b={ci['sigma_b']:.4g}",
                  f"{where}; initlab.theory.critical_init)")  # fmt: skip
    tg = out["torch_gain"]
    t.add_row("torch gain", "—" if tg is None else f"{tg:.6g}", "torch.nn.init.calculate_gain")
    console.print(t)


def register(app: typer.Typer) -> None:
    app.command("scale")(scale)
    app.command("gain")(gain_cmd)
