"""``initlab doctor``: diagnose a model's start from the command line.

``initlab doctor pkg.module:factory --input-shape 8,3,32,32`` imports ``factory`` (a function
returning an ``nn.Module``, a class, or a module instance; loaded by the helpers shared with
``initlab plan``/``init``, :mod:`initlab.cli.common`), optionally re-initializes it (``--init``:
any start of the registry :mod:`initlab.lab.starts`: a policy, a textbook start, lsuv), runs
:func:`initlab.doctor` on a seeded random input and prints the table and the findings (or
``--json``). Exit codes: 0 healthy (or problems without ``--strict``), 1 problems found with
``--strict``, 2 bad usage (the factory cannot be imported or called, a bad input shape: one red
line naming the argument to change, with the model's own error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from initlab.cli.common import (
    INPUT_DTYPES,
    console,
    console_err,
    fail,
    input_rejected,
    load_model_and_input,
    print_json,
)
from initlab.errors import InitError


def init_choices() -> tuple[str, ...]:
    """Every name ``--init`` takes: the named starts of :mod:`initlab.lab.starts` (textbook
    starts, every initlab.init policy, lsuv); a ``pkg.module:function`` path works too."""
    from initlab.lab.starts import available_starts

    return tuple(s.name for s in available_starts())


def reinit(model: Any, policy: str, example: Any, seed: int) -> str:
    """Re-initialize ``model`` in place with a start from the registry
    (:func:`initlab.lab.starts.get_start`); returns what was done (for the ``init:`` line).

    An :func:`initlab.init` policy (``auto``, ``torch``, ``xavier``, ``he``, ``lecun``,
    ``orthogonal``, ``gpt2``, ``fixup``, ``zero_residual``, ``delta_orthogonal``,
    ``critical(sigma_b2=0.05)``...) re-initializes every parameter, traced on ``example``;
    the textbook starts ``zeros``, ``small`` (N(0, 0.01²)), ``normal`` (N(0, 1)),
    ``normal(std=…)``, ``uniform(a=…)``, ``constant(value=…)`` fill the Linear/Conv weights and
    zero their biases; ``lsuv`` runs LSUV on ``example``; ``pkg.module:function`` calls it.

    Raises:
        InitError: an unknown name (the message lists every choice), or the start refusing
            this model (e.g. ``fixup`` without residual branches).
    """
    from initlab.lab.starts import get_start

    try:
        start = get_start(policy)
    except InitError as e:
        if str(e).startswith("unknown start"):
            raise InitError(
                f"--init: unknown policy {policy!r}; use one of {', '.join(init_choices())} "
                "or pkg.module:function"
            ) from None
        raise InitError(f"--init: {e}") from None
    start.apply(model, example, seed=seed)
    if start.kind == "policy":
        return f"initlab.init(model, policy={start.name!r}, seed={seed})"
    if start.kind == "textbook":
        return f"{start.name} ({start.label} on Linear/Conv weights, zero biases)"
    return f"{start.name} ({start.description}, seed={seed})"


def _reinit_with_rules(model: Any, init: str | None, rule: list[str], example: Any,
                       seed: int) -> str:
    """``--rule``: :func:`initlab.init` with the policy of ``--init`` (default ``auto``) and the
    rules; a non-policy ``--init`` (zeros, lsuv...) cannot take rules."""
    import initlab
    from initlab.cli.common import parse_rules
    from initlab.lab.starts import get_start

    rules = parse_rules(rule)
    policy = init or "auto"
    start = get_start(policy)
    if start.kind != "policy":
        raise InitError(f"--rule needs an initlab.init policy in --init (auto, he, xavier, "
                        f"critical...), not the {start.kind} start {policy!r}")
    initlab.init(model, example, policy=start.name, seed=seed, rules=rules)
    return f"initlab.init(model, policy={start.name!r}, seed={seed}, rules={rule})"


def doctor_cmd(
    target: str = typer.Argument(..., help="pkg.module:factory or path/to/file.py:factory."),
    input_shape: str = typer.Option(
        ..., "--input-shape", "-s", help="Batch shape, e.g. 8,3,32,32."
    ),
    dtype: str = typer.Option(
        "auto",
        help=f"Input dtype: {', '.join(INPUT_DTYPES)} (auto: token ids when the first layer is an "
        "Embedding, else float32; long: token ids).",
    ),
    vocab: int | None = typer.Option(
        None, help="Token ids are drawn from 0..vocab-1 (default: the Embedding's size)."
    ),
    init: str | None = typer.Option(
        None,
        "--init",
        help="Re-initialize first with a start: an initlab.init policy (auto, torch, xavier, he, "
        "lecun, orthogonal, gpt2, fixup, zero_residual, delta_orthogonal, critical), a textbook "
        "start (zeros, small = N(0, 0.01²), normal = N(0, 1), normal(std=…), uniform(a=…)), "
        "lsuv, or pkg.module:function.",
    ),
    seed: int = typer.Option(0, help="Seed of the input and of --init."),
    device: str = typer.Option("cpu", help="Device to run on (cpu, cuda, cuda:1...)."),
    json: bool = typer.Option(
        False, "--json", help="Print the diagnosis as JSON (initlab.diagnosis/1)."
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Write the figure (PNG) here."),
    html: Path | None = typer.Option(
        None, "--html", help="Write a self-contained HTML report here."
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any problem is found."),
    rule: list[str] | None = typer.Option(
        None, "--rule", "-r",
        help="With a policy (--init, default auto): override it for matching parameters, "
        "GLOB=SCHEME (repeatable), e.g. --rule 'net.0.weight=orthogonal'.",
    ),
    fix: bool = typer.Option(
        False, "--fix", help="Try each suggested fix on a copy, apply the best verified one and "
        "print before/after (--strict then judges the model after the fix)."
    ),
    save: Path | None = typer.Option(
        None, "--save", help="With --fix: write the fixed model's state_dict here (torch.save)."
    ),
) -> None:
    """Diagnose how signal and gradient flow through a model at initialization.

    One forward + backward pass on a random input; per layer the activation and gradient
    statistics, a status (healthy, vanishing, exploding, saturated, dead, symmetric, nonfinite) and
    findings with the initlab call that fixes them.

    Example:  initlab doctor initlab.lab.zoo:resnet --input-shape 8,3,16,16 --strict
    Fix it:   initlab doctor initlab.lab.zoo:deep_mlp -s 8,32 --fix --save fixed.pt
    Your own: initlab doctor mypkg.models:build -s 8,3,32,32 (or path/to/models.py:build)
    """
    from initlab.cli.common import (
        FIGURE_SUFFIXES,
        HTML_SUFFIXES,
        check_device,
        checked,
        output_file,
    )

    plot = output_file(plot, FIGURE_SUFFIXES, "--plot")  # output paths: before any work
    html = output_file(html, HTML_SUFFIXES, "--html")
    save = output_file(save, (".pt", ".pth"), "--save")

    import torch

    import initlab

    dev = checked(check_device, device)
    try:
        model, x = load_model_and_input(target, input_shape, dtype, seed=seed, device=dev)
        if vocab is not None and isinstance(x, torch.Tensor) and x.dtype == torch.long:
            if vocab <= 0:
                raise InitError(f"--vocab must be a positive integer, got {vocab}")
            g = torch.Generator().manual_seed(seed)
            x = torch.randint(0, vocab, tuple(x.shape), generator=g).to(dev)
        how = _reinit_with_rules(model, init, rule, x, seed) if rule else (
            reinit(model, init, x, seed) if init else None)
    except InitError as e:
        fail(input_rejected(e, input_shape, dtype))
    try:
        dx = initlab.doctor(model, x, seed=seed)
    except InitError as e:
        fail(input_rejected(e, input_shape, dtype))
    out = console_err if json else console  # with --json, stdout carries the JSON only
    if how:
        out.print(f"[dim]init: {how}[/dim]")
    if fix:
        dx = fix_flow(model, x, dx, seed=seed, json=json, save=save)
    elif json:
        print_json(dx.to_dict())
    else:
        console.print(dx)
    if plot is not None:
        out.print(f"figure: [bold]{dx.plot(plot)}[/bold]")
    if html is not None:
        out.print(f"report: [bold]{dx.to_html(html)}[/bold]")
    if strict and not dx.ok:
        raise typer.Exit(1)


def fix_flow(model: Any, x: Any, before: Any, *, seed: int, json: bool, save: Path | None) -> Any:
    """``--fix``: verify every suggested fix on a copy, apply the best, print before/after.

    Returns the diagnosis after the fix (the one before when nothing improved it)."""
    import torch

    import initlab
    from initlab.probe.fixes import apply_fix, best_fix, verify_fixes

    out = console_err if json else console
    if before.ok:
        out.print(f"[green]nothing to fix[/green]: verdict {before.verdict}")
        after, best, tried = before, None, []
    else:
        tried = verify_fixes(model, x, before=before, seed=seed)
        best = best_fix(tried)
        after = before
        if best is not None:
            apply_fix(model, x, best, seed=seed)
            after = initlab.doctor(model, x, seed=seed)
    if json:
        print_json({"before": before.to_dict(), "fix": best.to_dict() if best else None,
                    "tried": [t.to_dict() for t in tried], "after": after.to_dict()})  # fmt: skip
    else:
        console.print(after)
        for t in tried:
            out.print(f"[dim]tried: {t.summary()}[/dim]")
        if best is None and tried:
            out.print("[yellow]no verified fix improves the verdict; the model is unchanged"
                      "[/yellow]")  # fmt: skip
    if best is not None:
        out.print(f"before: [bold]{before.verdict}[/bold] → fix: {best.call} → after: "
                  f"[bold]{after.verdict}[/bold]")  # fmt: skip
        if save is not None:
            from initlab.files import atomic_output

            with atomic_output(save) as tmp:
                torch.save(model.state_dict(), tmp)
            out.print(f"fixed weights: [bold]{save}[/bold]")
    return after


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_cmd)


__all__ = ["doctor_cmd", "fix_flow", "init_choices", "register", "reinit"]
