"""``initlab explore``: the interactive views in a local web page.

Starts a FastAPI app (:mod:`initlab.web.app`) under uvicorn on 127.0.0.1 (another interface
only with ``--host``, with a warning: the explorer has no authentication) and opens the page.
With ``pkg.module:factory`` the "Your model" view shows that model; with ``--check
pkg.module:function`` the check page tests that function. Ctrl-C stops the server cleanly.
"""

from __future__ import annotations

import typer

from initlab.cli.common import INPUT_DTYPES, console, console_err, fail
from initlab.errors import InitError


def explore_cmd(
    target: str | None = typer.Argument(
        None, help="Optional model for the 'Your model' view: pkg.module:factory or file.py:fn."
    ),
    input_shape: str | None = typer.Option(
        None, "--input-shape", "-s",
        help="Batch shape of the model's example input, e.g. 8,3,32,32 (default: the model's "
        "example_input() when it has one).",
    ),
    dtype: str = typer.Option("auto", help=f"Input dtype: {', '.join(INPUT_DTYPES)}."),
    check: str | None = typer.Option(
        None, "--check", help="A learner's initializer for the check page: pkg.module:function."
    ),
    port: int = typer.Option(8765, "--port", help="Port (0: any free port)."),
    host: str | None = typer.Option(
        None, "--host",
        help="Listen on this interface instead of 127.0.0.1 (no authentication: only on a "
        "network you trust).",
    ),
    open_browser: bool = typer.Option(
        True, "--open/--no-open", help="Open the page in the default browser."
    ),
    warm: bool = typer.Option(
        True, "--warm/--no-warm",
        help="Compute each view once before listening, so the first control move is fast.",
    ),
    device: str = typer.Option(
        "cpu", help="Device for your model and the training view (cpu, cuda, cuda:1, mps)."),
) -> None:
    """Open the explorer: variance through depth, weight distributions, the signal table, the
    phase diagram, training comparisons, your model, knowledge checks, and a check of your own
    initializer. Every number is computed by initlab; offline (plotly.js ships with plotly).

    Example:  initlab explore initlab.lab.zoo:resnet --port 8765
    """
    import socket
    import webbrowser

    import torch
    import uvicorn

    from initlab.cli.common import check_device, load_model_and_input, load_object
    from initlab.web.app import create_app

    # one intra-op thread per request: the gate runs up to 2 at once, and OpenMP threads
    # spinning against each other on a small machine cost 10× (measured: 0.2 s → 4.5 s)
    torch.set_num_threads(1)
    if not 0 <= port <= 65535:
        fail(f"--port must be in 0..65535, got {port}")
    try:
        dev = check_device(device)
        model = example = None
        if target is not None:
            if input_shape is not None:
                model, example = load_model_and_input(target, input_shape, dtype, device=dev)
            else:
                from initlab.cli.common import load_model

                model = load_model(target)
                if not hasattr(model, "example_input"):
                    raise InitError(
                        f"{target}: give --input-shape (batch first, e.g. 8,3,32,32): the model "
                        "has no example_input() to take one from"
                    )
                example = model.example_input()
                model = model.to(dev)
                example = example.to(dev) if isinstance(example, torch.Tensor) else example
        fn = load_object(check) if check is not None else None
        if fn is not None and not callable(fn):
            raise InitError(f"--check {check}: is a {type(fn).__name__}, not a function")
        app = create_app(target, model, example, check, fn, warm=warm, device=dev)
    except InitError as e:
        fail(str(e))
    bind = host or "127.0.0.1"
    if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
        console_err.print(
            f"[yellow]warning:[/yellow] listening on {host}: anyone who can reach this machine "
            "can use the explorer (it has no authentication)"
        )
    if port == 0:
        with socket.socket() as s:
            s.bind((bind, 0))
            port = s.getsockname()[1]
    url = f"http://{'127.0.0.1' if bind in ('0.0.0.0', '::') else bind}:{port}/"
    console.print(f"initlab explorer: [bold]{url}[/bold]  (Ctrl-C to stop)")
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(app, host=bind, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run()  # uvicorn handles Ctrl-C: stops accepting, finishes requests, exits
    except KeyboardInterrupt:  # uvicorn re-raises the captured SIGINT after its shutdown
        pass
    except OSError as e:  # port in use
        fail(f"cannot listen on {bind}:{port} ({e}); pick another --port")
    if not server.started:
        fail(f"cannot listen on {bind}:{port}; is the port in use? pick another --port")
    console.print("explorer stopped")


def register(app: typer.Typer) -> None:
    app.command("explore")(explore_cmd)


__all__ = ["explore_cmd", "register"]
