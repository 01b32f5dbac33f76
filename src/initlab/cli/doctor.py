"""``initlab doctor``: diagnose a model's start from the command line.

``initlab doctor pkg.module:factory --input-shape 8,3,32,32`` imports ``factory`` (a function
returning an ``nn.Module``, a class, or a module instance), optionally re-initializes it
(``--init``), runs :func:`initlab.doctor` on a seeded random input and prints the table and the
findings (or ``--json``). Exit codes: 0 healthy (or problems without ``--strict``), 1 problems
found with ``--strict``, 2 bad usage (the factory cannot be imported or called, a bad input shape:
one red line naming the argument to change).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

import typer

from initlab.cli.common import console, console_err, fail, print_json
from initlab.errors import InitError

_DTYPES = ("float32", "float64", "bfloat16", "float16", "long")


def parse_shape(text: str) -> tuple[int, ...]:
    """``"8,3,32,32"`` → (8, 3, 32, 32); ``8x3x32x32`` and spaces work too."""
    sep = "," if "," in text else ("x" if "x" in text else " ")
    parts = [p.strip() for p in text.split(sep)]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s <= 0 for s in shape):
        raise InitError(
            f"--input-shape must be positive integers separated by commas, like 8,3,32,32 "
            f"(batch first), got {text!r}"
        )
    return shape


def load_factory(target: str) -> Any:
    """The object named by ``pkg.module:attr`` or ``path/to/file.py:attr``."""
    if ":" not in target:
        raise InitError(
            f"TARGET must look like pkg.module:factory (or path/to/file.py:factory), got {target!r}"
        )
    mod_name, _, attr = target.rpartition(":")
    try:
        if mod_name.endswith(".py"):
            path = Path(mod_name)
            if not path.is_file():
                raise InitError(f"TARGET: no file {mod_name!r}")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules.setdefault(path.stem, module)
            spec.loader.exec_module(module)
        else:
            if "" not in sys.path:
                sys.path.insert(0, "")  # the current directory, as `python -m` does
            module = importlib.import_module(mod_name)
    except InitError:
        raise
    except Exception as e:
        raise InitError(
            f"TARGET: cannot import {mod_name!r} ({type(e).__name__}: {e}); check the module path "
            "and that its package is importable (PYTHONPATH, pip install -e)"
        ) from e
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(module) if not n.startswith("_")][:20]
            raise InitError(
                f"TARGET: {mod_name!r} has no attribute {attr!r}; it defines {', '.join(names)}"
            )
        obj = getattr(obj, part)
    return obj


def build_model(target: str) -> Any:
    """Import ``target`` and call it if it is a factory; the result must be an ``nn.Module``."""
    from torch import nn

    obj = load_factory(target)
    if not isinstance(obj, nn.Module):
        if not callable(obj):
            raise InitError(f"TARGET {target!r} is a {type(obj).__name__}, not a factory or module")
        try:
            obj = obj()
        except Exception as e:
            sig = ""
            try:
                sig = str(inspect.signature(obj))
            except (TypeError, ValueError):
                pass
            raise InitError(
                f"TARGET: calling {target}{sig} with no arguments failed "
                f"({type(e).__name__}: {e}); give the factory defaults for every argument"
            ) from e
    if not isinstance(obj, nn.Module):
        raise InitError(
            f"TARGET: {target}() returned a {type(obj).__name__}, not a torch.nn.Module"
        )
    return obj


def reinit(model: Any, policy: str, example: Any, seed: int) -> str:
    """Apply ``policy``: the simple core schemes, else ``initlab.init`` if it exists."""
    from initlab.lab.quick_init import SIMPLE_SCHEMES, apply_simple_init

    if policy in SIMPLE_SCHEMES:
        apply_simple_init(model, policy, seed=seed)
        return f"{policy} (core schemes on Linear/Conv weights, zero biases)"
    try:
        import initlab

        init_fn = initlab.init  # type: ignore[attr-defined]
    except AttributeError:
        init_fn = None
    if init_fn is None:
        raise InitError(
            f"--init {policy!r}: unknown scheme; choose from {', '.join(SIMPLE_SCHEMES)}"
        )
    params = inspect.signature(init_fn).parameters
    kwargs: dict[str, Any] = {"policy": policy}
    if "seed" in params:
        kwargs["seed"] = seed
    if "example_input" in params:
        kwargs["example_input"] = example
    init_fn(model, **kwargs)
    return f"initlab.init(model, policy={policy!r})"


def make_input(shape: tuple[int, ...], dtype: str, vocab: int, seed: int, device: str) -> Any:
    import torch

    g = torch.Generator().manual_seed(seed)
    if dtype == "long":
        x = torch.randint(0, vocab, shape, generator=g)
    else:
        x = torch.randn(shape, generator=g).to(getattr(torch, dtype))
    return x.to(device)


def doctor_cmd(
    target: str = typer.Argument(..., help="pkg.module:factory or path/to/file.py:factory."),
    input_shape: str = typer.Option(
        ..., "--input-shape", "-s", help="Batch shape, e.g. 8,3,32,32."
    ),
    dtype: str = typer.Option(
        "float32", help=f"Input dtype: {', '.join(_DTYPES)} (long: token ids)."
    ),
    vocab: int = typer.Option(100, help="Token ids are drawn from 0..vocab-1 (--dtype long)."),
    init: str | None = typer.Option(
        None,
        "--init",
        help="Re-initialize first: zeros, small, normal, xavier, he, lecun, orthogonal "
        "(or an initlab.init policy when available).",
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
) -> None:
    """Diagnose how signal and gradient flow through a model at initialization.

    One forward + backward pass on a random input; per layer the activation and gradient
    statistics, a status (healthy, vanishing, exploding, saturated, dead, symmetric, nonfinite) and
    findings with the initlab call that fixes them.

    Example:  initlab doctor torchvision.models:resnet18 --input-shape 8,3,224,224 --strict
    """
    import initlab

    if dtype not in _DTYPES:
        fail(f"--dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    try:
        shape = parse_shape(input_shape)
        model = build_model(target).to(device)
        x = make_input(shape, dtype, vocab, seed, device)
        how = reinit(model, init, x, seed) if init else None
        dx = initlab.doctor(model, x)
    except InitError as e:
        msg = str(e)
        if "forward failed" in msg:
            msg += f" (given --input-shape {input_shape} --dtype {dtype})"
        fail(msg)
    out = console_err if json else console
    if json:
        print_json(dx.to_dict())
    else:
        if how:
            console.print(f"[dim]init: {how}[/dim]")
        console.print(dx)
    if plot is not None:
        out.print(f"figure: [bold]{dx.plot(plot)}[/bold]")
    if html is not None:
        out.print(f"report: [bold]{dx.to_html(html)}[/bold]")
    if strict and not dx.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_cmd)


__all__ = ["build_model", "doctor_cmd", "load_factory", "parse_shape", "register", "reinit"]
