"""Where models run: a device name checked once, before any work, with a clear error.

Every entry point that builds and runs a model (``compare_inits``, ``train``, ``coord_check``,
``lr_sweep``, ``run_sweep``, the claims, the reproductions, the demo) takes
``device="cpu"`` — ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a :class:`torch.device` — and passes
it through :func:`resolve_device`. The random draws (data, weights, batch order) stay on the CPU's
generators and the tensors are moved afterwards, so a run's numbers do not depend on the device's
generator, and ``device="cpu"`` is bit-identical to the code without a device. Results come back
to the CPU (Python floats) for the statistics and the figures.

Examples:
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("gpu")
    Traceback (most recent call last):
    ...
    initlab.errors.InitError: device='gpu' is not a device name; use cpu, cuda, cuda:N or mps
"""

from __future__ import annotations

from typing import Any

from initlab.errors import InitError


def _named(option: str, device: Any) -> str:
    """``--device cuda`` for a command-line option, ``device='cuda'`` for an argument."""
    return f"{option} {device}" if option.startswith("-") else f"{option}={str(device)!r}"


def resolve_device(device: Any = "cpu", *, option: str = "device") -> Any:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a :class:`torch.device` → a
    :class:`torch.device` that exists on this machine.

    Args:
        device: the name or device.
        option: how the caller names it in messages (``"--device"`` on the command line).

    Raises:
        InitError: not a device name, or a device this machine or this torch build lacks
            (CUDA on a CPU-only torch, ``cuda:3`` with one GPU, MPS off a Mac).
    """
    import torch

    cpu_fix = "use --device cpu" if option.startswith("-") else "use device='cpu'"
    if isinstance(device, torch.device):
        dev = device
    else:
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError, ValueError):
            raise InitError(
                f"{_named(option, device)} is not a device name; use cpu, cuda, cuda:N or mps"
            ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InitError(
                f"{_named(option, device)}: this torch build or machine has no CUDA device "
                f"(torch {torch.__version__}); {cpu_fix}"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            n = torch.cuda.device_count()
            raise InitError(
                f"{_named(option, device)}: only {n} CUDA device(s) here (cuda:0…cuda:{n - 1})"
            )
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise InitError(f"{_named(option, device)}: no MPS device here; {cpu_fix}")
    elif dev.type != "cpu":
        raise InitError(
            f"{_named(option, device)} is not supported; use cpu, cuda, cuda:N or mps"
        )
    return dev


def module_device(model: Any) -> Any:
    """The device of ``model``'s first parameter or buffer (CPU for a model without any).

    Examples:
        >>> import torch
        >>> module_device(torch.nn.Linear(2, 2))
        device(type='cpu')
    """
    import torch

    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.device("cpu")


__all__ = ["module_device", "resolve_device"]
