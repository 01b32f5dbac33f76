"""``initlab compare``: train the same model from several starts, over several seeds."""

from __future__ import annotations

from pathlib import Path

import typer

from initlab.cli.common import console, console_err, fail, interrupted, print_json


def compare(
    inits: str = typer.Option(
        "zeros,normal,xavier,he", "--inits", "--schemes",
        help="Comma-separated starts: any name of the registry (zeros, small, normal, "
        "normal(std=0.1), xavier, he, lecun, orthogonal, critical(sigma_b2=0.05), lsuv...) or "
        "pkg.module:function.",
    ),
    dataset: str = typer.Option(
        "digits", help="digits, mnist (real, 5,000 images), mnist1d, spirals, teacher, text "
        "(char-level, for --model gpt), idx:PATH or npz:PATH."),
    model: str = typer.Option(
        "mlp", help="mlp, cnn, resnet, resnet_nobn, fixup_resnet, lstm, gpt."),
    activation: str = typer.Option("relu", help="Activation after every hidden layer."),
    depth: int = typer.Option(6, help="Hidden layers (ResNets: blocks per stage)."),
    width: int = typer.Option(64, help="Units (channels) per hidden layer."),
    epochs: int = typer.Option(15, help="Training epochs per run."),
    seeds: int = typer.Option(1, help="Runs per start (seeds seed, seed+1, ...)."),
    lr: float = typer.Option(0.01, help="Learning rate."),
    batch_size: int = typer.Option(64, help="Mini-batch size."),
    optimizer: str = typer.Option("sgd", help="sgd (momentum 0.9) or adam."),
    seed: int = typer.Option(0, help="Seed of the data split and the first run."),
    n_train: int | None = typer.Option(None, help="Use this many training examples."),
    n_test: int | None = typer.Option(None, help="Use this many test examples."),
    standardize: bool = typer.Option(
        True, help="Standardize inputs with training statistics (--no-standardize: raw)."),
    threshold: float | None = typer.Option(
        None, help="Loss for the 'steps to loss ≤' column (default 0.5; regression 0.05)."),
    out: Path = typer.Option(Path("initlab-out/compare.png"), help="Where to save the figure."),
    plot: bool = typer.Option(True, help="Save the figure (--no-plot to skip)."),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    progress: bool = typer.Option(True, help="Progress bars (--no-progress to hide)."),
    device: str = typer.Option("cpu", help="Device to train on (cpu, cuda, cuda:1, mps)."),
) -> None:
    """Train the same model once per start and seed; compare loss curves and accuracy.

    zeros never breaks symmetry (stays at chance), N(0, 1) blows the loss up, Xavier and He
    train; per start the doctor's verdict at step 0, the final accuracy ± its spread over seeds,
    the steps to a loss threshold and the per-layer gradient variance before and after
    training. Ctrl-C stops cleanly: the finished runs are shown and drawn, and one line says
    what was written (exit 2). Offline data only.

    Example:  initlab compare --dataset mnist --depth 5 --inits zeros,normal,xavier,he --seeds 3
    """
    from initlab.cli.common import (
        FIGURE_SUFFIXES,
        HTML_SUFFIXES,
        check_device,
        check_memory,
        checked,
        output_file,
    )
    from initlab.errors import InitError
    from initlab.files import write_mark
    from initlab.lab.compare import compare_inits, split_specs
    from initlab.report.compare_figures import compare_table, figure_png, write_compare_html

    # every output path and the memory estimate are checked before any training
    out = output_file(out, FIGURE_SUFFIXES, "--out") if plot else out
    html = output_file(html, HTML_SUFFIXES, "--html")
    checked(check_memory, _memory(model, depth, width, batch_size),
                 f"compare --model {model} --depth {depth} --width {width} "
                 f"--batch-size {batch_size}", "use a smaller --depth, --width or --batch-size")
    from initlab.lab.zoo import activation_module

    checked(activation_module, activation)  # unknown or gated activation: refused before work
    dev = checked(check_device, device)
    names = split_specs(inits)
    mark = write_mark()
    prog = None
    current: dict[str, object] = {"key": None, "task": None}
    if progress and not json:
        from rich.progress import BarColumn, Progress, TimeElapsedColumn

        prog = Progress("[progress.description]{task.description}", BarColumn(),
                        TimeElapsedColumn(), console=console_err, transient=True)
    steps_per_run = None

    def on_step(start: str, s: int, k: int, loss: float) -> None:
        if prog is None:
            return
        key = f"{start} · seed {s}"
        if current["key"] != key:
            current["key"] = key
            current["task"] = prog.add_task(key, total=steps_per_run)
        prog.update(current["task"], completed=k, description=f"{key} · loss {loss:.3g}")

    def on_run(start: str, s: int, rec: object) -> None:
        nonlocal steps_per_run
        if prog is not None and current["task"] is not None:
            steps_per_run = getattr(rec, "steps", None) or None  # the next runs' bar length
            prog.update(current["task"], visible=False)

    try:
        if prog is not None:
            prog.start()
        try:
            result = compare_inits(
                names, dataset=dataset, model=model, activation=activation, depth=depth,
                width=width, epochs=epochs, seeds=seeds, seed=seed, lr=lr,
                batch_size=batch_size, optimizer=optimizer, standardize=standardize,
                n_train=n_train, n_test=n_test, threshold=threshold, on_step=on_step,
                on_run=on_run, device=dev)
        finally:
            if prog is not None:
                prog.stop()
    except InitError as e:
        fail(f"{e} (initlab compare --help)")
    png = figure_png(result) if result.runs and (plot or html is not None) else None
    path = None
    if plot and png is not None:
        from initlab.files import atomic_output

        with atomic_output(out) as tmp:
            tmp.write_bytes(png)
        path = out
    report = (write_compare_html(result, html, png=png)
              if html is not None and result.runs else None)
    if json:
        data = result.to_dict()
        data["figure"] = str(path) if path is not None else None
        data["html"] = str(report) if report is not None else None
        print_json(data)
    else:
        console.print(compare_table(result))
        if path is not None:
            console.print(f"figure: [bold]{path}[/bold]")
        if report is not None:
            console.print(f"report: [bold]{report}[/bold]")
    if result.interrupted:
        interrupted(mark, f"{len(result.runs)} finished run(s) kept and shown above"
                    if result.runs else "")


def _memory(model: str, depth: int, width: int, batch_size: int) -> float:
    """Bytes a run needs at least: weights, gradients and two optimizer states (4 × depth ×
    width² floats; ×9 for 3×3 convolutions, ×8 for an LSTM's gates), and the activations of a
    mini-batch (capped at 60,000 examples, the largest built-in data set; ×28² positions for
    convolutions)."""
    per_layer = width * width * (9 if model in ("cnn", "resnet", "resnet_nobn", "fixup_resnet")
                                 else 8 if model == "lstm" else 1)
    positions = 28 * 28 if model in ("cnn", "resnet", "resnet_nobn", "fixup_resnet") else 1
    acts = 4 * depth * min(max(batch_size, 1), 60_000) * width * positions
    return 4.0 * (4 * depth * per_layer + acts)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
