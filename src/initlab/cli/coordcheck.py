"""``initlab coordcheck``: does a model's scale survive going wider? (μP's coordinate check and
learning-rate transfer check, :mod:`initlab.lab.coordcheck`)."""

from __future__ import annotations

from pathlib import Path

import typer

from initlab.cli.common import console, fail, load_object, parse_shape, print_json


def _ints(text: str, option: str) -> tuple[int, ...]:
    try:
        vals = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        vals = ()
    if len(vals) < 2 or any(v <= 0 for v in vals):
        fail(f"{option} must be two or more positive integers separated by commas, e.g. "
             f"64,128,256,512; got {text!r}")
    return vals


def _floats(text: str, option: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        vals = ()
    if len(vals) < 2 or any(not v > 0 for v in vals):
        fail(f"{option} must be two or more positive numbers separated by commas, e.g. "
             f"1e-4,1e-3,1e-2; got {text!r}")
    return vals


def coordcheck(
    target: str = typer.Argument(
        ..., help="pkg.module:factory (or file.py:factory); the factory takes the width."),
    widths: str = typer.Option("64,128,256,512", help="Comma-separated widths."),
    steps: int = typer.Option(4, help="Training steps recorded (step 0 is at init)."),
    policy: str = typer.Option("torch,mup", help="Comma-separated policies to compare."),
    optimizer: str = typer.Option("adam", help="adam, adamw or sgd."),
    lr: float = typer.Option(1e-2, help="Base learning rate (μP: the one tuned at the base)."),
    seeds: int = typer.Option(3, help="Seeds per width (the slopes' standard errors)."),
    data: str = typer.Option("digits", help="digits (8×8, 64 features) or mnist (784)."),
    input_shape: str = typer.Option(
        None, "--input-shape", "-s",
        help="Synthetic batch instead of --data, batch first, e.g. 8,16 (token ids for a "
             "model that starts with an embedding)."),
    base_width: int = typer.Option(None, help="μP's base width (default: the smallest)."),
    threshold: float = typer.Option(0.25, help="|slope| above which a size changes."),
    lr_sweep: bool = typer.Option(False, "--lr-sweep",
                                  help="Also run the learning-rate transfer check."),
    quick: bool = typer.Option(False, "--quick", help="Transfer check: the quick preset."),
    sweep_widths: str = typer.Option(None, help="Transfer check widths (default 64,256,1024)."),
    lrs: str = typer.Option(None, help="Transfer check learning rates, comma-separated."),
    sweep_steps: int = typer.Option(None, help="Transfer check training steps per run."),
    out: Path = typer.Option(Path("initlab-out/coordcheck.png"), help="Figure path."),
    html: Path = typer.Option(None, "--html", help="Also write an HTML report here."),
    plot: bool = typer.Option(True, help="Save the figure(s) (--no-plot to skip)."),
    json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    device: str = typer.Option("cpu", help="Device to train on (cpu, cuda, cuda:1, mps)."),
) -> None:
    """Train the model at several widths a few steps and see whether each layer's output size
    stays put as the width grows (the μP coordinate check, Yang et al. 2022).

    Prints the slope of log mean|x| against log width per layer and step with a verdict
    (stable, grows with width, shrinks with width) per layer and per policy, and saves the
    grid of size-vs-width panels. With --lr-sweep, also trains 3 widths over a learning-rate
    grid (digits or mnist) and says whether the best rate moves with width.

    Example:  initlab coordcheck initlab.lab.coordcheck:mlp --widths 64,128,256 --steps 3
    """
    from initlab.errors import InitError
    from initlab.files import check_output_path
    from initlab.lab.coordcheck import coord_check
    from initlab.lab.coordcheck import lr_sweep as run_sweep
    from initlab.report.coordcheck import (
        coordcheck_table,
        lr_sweep_table,
        plot_coordcheck,
        plot_lr_sweep,
        write_coordcheck_html,
    )

    ws = _ints(widths, "--widths")
    pols = tuple(p.strip() for p in policy.split(",") if p.strip())
    try:  # output paths are checked before minutes of training, not after
        if plot:  # create=False: a run refused later leaves no folder behind
            out = check_output_path(out, (".png", ".svg", ".pdf"), option="--out", create=False)
        if html is not None:
            html = check_output_path(html, (".html", ".htm"), option="--html", create=False)
        from initlab.cli.common import check_device

        dev = check_device(device)
    except InitError as e:
        fail(str(e))
    try:
        factory = load_object(target)
        if not callable(factory):
            fail(f"TARGET {target!r} is a {type(factory).__name__}, not a factory width -> model")
        shape = parse_shape(input_shape) if input_shape else None
        kw = {} if base_width is None else {"base_width": base_width}
        result = coord_check(factory, ws, steps=steps, policies=pols, optimizer=optimizer,
                             lr=lr, seeds=seeds, data=data, input_shape=shape,
                             threshold=threshold, name=target, device=dev, **kw)
        sweep = None
        if lr_sweep:
            sweep = run_sweep(
                factory, _ints(sweep_widths, "--sweep-widths") if sweep_widths else None,
                _floats(lrs, "--lrs") if lrs else None, policies=pols, optimizer=optimizer,
                steps=sweep_steps, quick=quick, data=data, name=target, device=dev, **kw)
    except InitError as e:
        fail(f"{e} (initlab coordcheck --help)")
    fig = plot_coordcheck(result, out) if plot else None
    sweep_fig = None
    if sweep is not None and plot:
        sweep_fig = plot_lr_sweep(sweep, out.with_name(out.stem + "-lr" + out.suffix))
    page = write_coordcheck_html(result, html, sweep) if html is not None else None
    if json:
        data_out = {"coordcheck": result.to_dict(),
                    "lr_sweep": sweep.to_dict() if sweep is not None else None,
                    "figure": str(fig) if fig else None,
                    "lr_figure": str(sweep_fig) if sweep_fig else None,
                    "html": str(page) if page else None}
        print_json(data_out)
        return
    console.print(coordcheck_table(result))
    if sweep is not None:
        console.print(lr_sweep_table(sweep))
    for label, p in (("figure", fig), ("transfer figure", sweep_fig), ("report", page)):
        if p is not None:
            console.print(f"{label}: [bold]{p}[/bold]")


def register(app: typer.Typer) -> None:
    app.command("coordcheck")(coordcheck)
