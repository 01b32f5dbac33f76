"""Helpers shared by the CLI commands: consoles, the one-line error, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from rich.console import Console

console = Console()
console_err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one red line on stderr and exit with ``code`` (2: bad usage or input)."""
    console_err.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


def interrupted(mark: int = 0, detail: str = "") -> NoReturn:
    """A Ctrl-C ends the command: one red line on stderr saying what was left, exit 2.

    The line is :func:`initlab.files.interrupt_note` — ``interrupted: nothing was written``, or
    the files completed since ``mark`` (:func:`initlab.files.write_mark`) — and ``detail``
    (what the command kept, e.g. finished runs) in parentheses.
    """
    from initlab.files import interrupt_note

    line = interrupt_note(mark) + (f" ({detail})" if detail else "")
    console_err.print(f"[bold red]{line}[/bold red]", highlight=False, soft_wrap=True)
    raise SystemExit(2)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (plain, no colour, so it can be piped)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


def _default(o: Any) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


# ---------------------------------------------------------- models named on the command line --
def parse_shape(text: str, option: str = "--input-shape") -> tuple[int, ...]:
    """``"8,3,32,32"`` → (8, 3, 32, 32) (``x`` and spaces also separate).

    Raises:
        InitError: not a list of positive integers (the message names ``option``).
    """
    import re

    from initlab.errors import InitError

    # one separator between numbers; an empty piece ("4,x", "8,,3") is an error, not dropped
    parts = re.split(r"\s*[,x]\s*|\s+", text.strip())
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s <= 0 for s in shape):
        raise InitError(
            f"{option} must be positive integers separated by commas, batch first, like "
            f"8,3,32,32; got {text!r}"
        )
    return shape


def load_object(target: str) -> Any:
    """The object named by ``pkg.module:attr`` or ``path/to/file.py:attr``.

    Raises:
        InitError: malformed target, module not importable (its error quoted), no such attribute.
    """
    import importlib
    import importlib.util
    from pathlib import Path

    from initlab.errors import InitError

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
            if spec is None or spec.loader is None:
                raise InitError(f"TARGET: cannot load {mod_name!r} as a Python file")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            if "" not in sys.path:
                sys.path.insert(0, "")  # the current directory, as `python -m` does
            module = importlib.import_module(mod_name)
    except InitError:
        raise
    except Exception as e:
        raise InitError(
            f"TARGET: cannot import {mod_name!r} ({type(e).__name__}: {e}); check the module "
            "path and that its package is importable (PYTHONPATH, pip install -e)"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(module) if not n.startswith("_")][:20]
            raise InitError(
                f"TARGET: {mod_name!r} has no attribute {attr!r}; it defines {', '.join(names)}"
            )
        obj = getattr(obj, part)
    return obj


def load_model(target: str) -> Any:
    """Import ``target`` (``pkg.module:factory``) and call it if needed: an ``nn.Module``."""
    import inspect

    from torch import nn

    from initlab.errors import InitError

    obj = load_object(target)
    if not isinstance(obj, nn.Module):
        if not callable(obj):
            raise InitError(f"TARGET {target!r} is a {type(obj).__name__}, not a factory or module")
        try:
            obj = obj()
        except Exception as e:
            try:
                sig = str(inspect.signature(obj))
            except (TypeError, ValueError):
                sig = "()"
            raise InitError(
                f"TARGET: calling {target}{sig} with no arguments failed "
                f"({type(e).__name__}: {e}); give the factory defaults for every argument"
            ) from None
    if not isinstance(obj, nn.Module):
        raise InitError(f"TARGET: {target}() returned a {type(obj).__name__}, not an nn.Module")
    return obj


INPUT_DTYPES = ("auto", "float32", "float64", "bfloat16", "float16", "long")


def first_embedding(model: Any) -> Any:
    """The ``nn.Embedding``/``EmbeddingBag`` that reads the model's input, or None.

    A model whose first *module* with parameters is an embedding takes token ids, even when it
    also owns loose ``nn.Parameter``s at the top level (a position table, a class token): those
    belong to no module in execution order, so they do not decide what the input is.
    """
    from torch import nn

    for m in model.modules():
        if m is model and any(True for _ in m.children()):
            continue  # the root's own loose parameters say nothing about its input
        if any(True for _ in m.parameters(recurse=False)):
            return m if isinstance(m, nn.Embedding | nn.EmbeddingBag) else None
    return None


def check_device(device: str, option: str = "--device") -> Any:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` → a ``torch.device`` that exists here
    (:func:`initlab.devices.resolve_device`, its messages naming ``option``).

    Raises:
        InitError: a malformed name, or a device this machine or this torch build lacks.

    Examples:
        >>> check_device("cpu")
        device(type='cpu')
    """
    from initlab.devices import resolve_device

    return resolve_device(device, option=option)


def make_input(
    model: Any, shape: tuple[int, ...], dtype: str = "auto", *, seed: int = 0, device: str = "cpu"
) -> Any:
    """A seeded random input of ``shape``: N(0, 1) floats, or token ids drawn uniformly from
    ``[0, num_embeddings)`` of the embedding that reads the input — when ``dtype="long"``, or
    ``"auto"`` and the model's first layer with parameters is an Embedding.

    Raises:
        InitError: unknown ``dtype``; ``long`` for a model without an input embedding and no
            way to know the vocabulary size.
    """
    import torch

    from initlab.errors import InitError

    if dtype not in INPUT_DTYPES:
        raise InitError(f"--dtype must be one of {', '.join(INPUT_DTYPES)}, got {dtype!r}")
    emb = first_embedding(model)
    if dtype == "auto":
        dtype = "long" if emb is not None else "float32"
    g = torch.Generator().manual_seed(seed)
    if dtype == "long":
        if emb is None:
            raise InitError(
                "--dtype long: the model's first layer is not an nn.Embedding, so the range of "
                "token ids is unknown; use a float --dtype or a model that embeds its input"
            )
        return torch.randint(0, emb.num_embeddings, shape, generator=g).to(device)
    return torch.randn(shape, generator=g).to(getattr(torch, dtype)).to(device)


def load_model_and_input(
    target: str, input_shape: str, dtype: str = "auto", *, seed: int = 0, device: str = "cpu"
) -> tuple[Any, Any]:
    """``pkg.module:factory`` + ``"8,3,32,32"`` → (model, seeded example input).

    Shared by the commands that take a model on the command line (``plan``, ``init``,
    ``doctor``). Errors are :class:`initlab.errors.InitError` naming the argument to change.
    """
    import torch

    shape = parse_shape(input_shape)
    with torch.random.fork_rng(devices=[]):  # the factory's own draws follow --seed too
        torch.manual_seed(seed)
        model = load_model(target)
    model = model.to(device)
    check_memory(_input_bytes(model, shape), f"--input-shape {input_shape}",
                 "use a smaller batch or input shape")
    return model, make_input(model, shape, dtype, seed=seed, device=device)


def _input_bytes(model: Any, shape: tuple[int, ...]) -> float:
    """A floor on a forward + backward pass's memory: the input, and one activation of the
    same size kept per parameterized layer (4 bytes a value)."""
    import math

    n_layers = sum(1 for m in model.modules() if any(True for _ in m.parameters(recurse=False)))
    return 4.0 * math.prod(shape) * (1 + max(n_layers, 1))


def input_rejected(error: Exception, input_shape: str, dtype: str) -> str:
    """Rephrase a failed trace as which argument to change (the model's own error kept)."""
    cause = getattr(error, "model_error", None)
    if cause is None:
        return str(error)
    return (
        f"the model rejected --input-shape {input_shape} (--dtype {dtype}): {cause}; change "
        "--input-shape (batch first) or --dtype"
    )


# ------------------------------------------------------------------- checked before the work --
#: Extensions of the outputs the commands write (the writer follows the extension).
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
HTML_SUFFIXES = (".html", ".htm")


def output_file(path: Any, suffixes: tuple[str, ...] | None, option: str) -> Any:
    """:func:`initlab.files.check_output_path` for a command's option (``None`` passes).

    A path that cannot take this output (a directory, a parent that is a file, an extension
    the writer does not support, an unwritable folder) ends the command: one red line naming
    ``option`` and what to change, exit 2 (:func:`fail`).
    """
    if path is None:
        return None
    from initlab.errors import InitError
    from initlab.files import check_output_path

    try:
        return check_output_path(path, suffixes, option=option, create=False)
    except InitError as e:
        fail(str(e))


def available_memory() -> int:
    """Bytes of memory this process can still take: ``MemAvailable`` on Linux, else the
    physical memory (``sysconf``), else 16 GiB."""
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def _size(n: float) -> str:
    for unit, k in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= k:
            return f"{n / k:,.1f} {unit}"
    return f"{n / 1e3:,.0f} kB"


def checked(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, with an :class:`~initlab.errors.InitError` turned into the CLI's
    one red line and exit 2 (:func:`fail`): for the checks a command makes before its work."""
    from initlab.errors import InitError

    try:
        return fn(*args, **kwargs)
    except InitError as e:
        fail(str(e))


def check_memory(nbytes: float, what: str, fix: str, *, budget: float | None = None) -> None:
    """Refuse up front a run whose estimated memory exceeds what is here.

    Args:
        nbytes: the estimate (parameters, activations kept for the backward pass...).
        what: what needs it ("--depth 100000 --width 256").
        fix: what to change.
        budget: bytes allowed (default: 80 % of :func:`available_memory`).

    Raises:
        InitError: ``nbytes`` over the budget, with both numbers.

    Examples:
        >>> check_memory(1e3, "a tiny net", "nothing")
        >>> check_memory(1e15, "--width 10000000", "use a smaller --width", budget=1e9)
        Traceback (most recent call last):
        ...
        initlab.errors.InitError: --width 10000000 needs about 1.0 PB of memory (estimated \
before starting), more than the 1.0 GB available here; use a smaller --width
    """
    from initlab.errors import InitError

    limit = 0.8 * available_memory() if budget is None else budget
    if nbytes > limit:
        need = f"{nbytes / 1e15:,.1f} PB" if nbytes >= 1e15 else _size(nbytes)
        raise InitError(
            f"{what} needs about {need} of memory (estimated before starting), more than the "
            f"{_size(limit)} available here; {fix}"
        )


def mlp_memory(depth: int, width: int, batch: int, *, in_features: int | None = None,
               bytes_per_value: int = 4, copies: int = 1) -> float:
    """Estimated bytes of ``copies`` MLPs of ``depth`` hidden layers × ``width`` units trained
    or diagnosed on ``batch`` examples: weights and their gradients (2 × depth × width²), plus
    ~4 activation tensors per layer kept for the backward pass (batch × width each)."""
    fan_in = width if in_features is None else in_features
    params = fan_in * width + (depth - 1) * width * width
    acts = 4 * depth * batch * width
    return float(bytes_per_value) * (copies * 2 * params + acts)


def parse_rules(items: list[str] | None, option: str = "--rule") -> list[tuple[str, Any]]:
    """``["*.c_proj.weight=normal(std=0.002)", "head.*=zeros"]`` → plan rules
    ``[(glob, Scheme), ...]`` for :func:`initlab.plan` / :func:`initlab.init`.

    The scheme is a name of :mod:`initlab.schemes` (``xavier``, ``he``, ``zeros``,
    ``orthogonal``...) with optional keyword arguments in parentheses.

    Raises:
        InitError: no ``=``, an empty glob, an unknown scheme (the message lists the names) or
            arguments it does not take.

    Examples:
        >>> [(g, str(s)) for g, s in parse_rules(["*.c_proj.weight=normal(std=0.002)"])]
        [('*.c_proj.weight', 'normal(std=0.002)')]
    """
    import inspect

    from initlab.errors import InitError
    from initlab.model import specs

    rules: list[tuple[str, Any]] = []
    for item in items or []:
        glob, eq, spec = item.partition("=")
        glob, spec = glob.strip(), spec.strip()
        if not eq or not glob or not spec:
            raise InitError(
                f"{option} {item!r}: write it as GLOB=SCHEME, e.g. "
                "--rule '*.c_proj.weight=normal(std=0.002)' or --rule 'head.*=zeros'"
            )
        name, paren, rest = spec.partition("(")
        name = name.strip().lower()
        names = sorted(n for n in specs._BY_NAME if inspect.isfunction(getattr(specs, n, None)))
        if name not in names or (paren and not rest.endswith(")")):
            raise InitError(
                f"{option} {item!r}: unknown scheme {spec!r}; use one of {', '.join(names)}, "
                "with arguments in parentheses like normal(std=0.02)"
            )
        kwargs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in rest[:-1].split(","))) if paren else ():
            key, eq2, val = part.partition("=")
            if not eq2 or not key.strip():
                raise InitError(f"{option} {item!r}: arguments must be key=value, got {part!r}")
            try:
                kwargs[key.strip()] = float(val)
            except ValueError:
                kwargs[key.strip()] = val.strip().strip("'\"")
        try:
            scheme = getattr(specs, name)(**kwargs)
        except (TypeError, InitError) as e:
            raise InitError(f"{option} {item!r}: {e}") from None
        rules.append((glob, scheme))
    return rules
