"""``initlab plan`` and ``initlab init``: whole-model initialization from the command line.

``initlab plan pkg.module:factory --input-shape 8,3,32,32`` prints the plan (one row per
parameter: role, scheme, fans, gain, std, reason); ``initlab init ... --out weights.safetensors``
initializes the model and saves its weights. Exit code 2 with one red line when the factory cannot
be imported, the model rejects the input shape (its own error is shown), or the policy is unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from initlab.cli.common import (
    INPUT_DTYPES,
    console,
    console_err,
    fail,
    input_rejected,
    load_model,
    load_model_and_input,
    make_input,
    parse_shape,
    print_json,
)
from initlab.errors import InitError

if TYPE_CHECKING:
    from initlab.model.policies import Policy

_TARGET = typer.Argument(..., help="pkg.module:factory (or path/to/file.py:factory).")
_SHAPE = typer.Option(
    ..., "--input-shape", "-s", help="Example input shape, batch first: 8,3,32,32."
)
_DTYPE = typer.Option(
    "auto", "--dtype",
    help=f"Input dtype: {', '.join(INPUT_DTYPES)} (auto: token ids if the first layer is an "
    "Embedding).",
)  # fmt: skip


def _policy_option() -> str:
    # static help (no import of the policy registry, which loads torch, at start-up): an unknown
    # name is answered by make_policy with the list of every policy
    return typer.Option(
        "auto", "--policy", "-p",
        help="An initlab.init policy: auto, torch, xavier, he, lecun, orthogonal, gpt2, fixup, "
        "zero_residual, delta_orthogonal, critical...; options in parentheses, e.g. "
        "'critical(sigma_b2=0.05)', 'critical(q_star=1)', 'auto(lstm_forget_bias=0)'.",
    )  # fmt: skip


_RULE = typer.Option(
    None, "--rule", "-r",
    help="Override the policy for matching parameters: GLOB=SCHEME (repeatable), e.g. "
    "--rule '*.c_proj.weight=normal(std=0.002)' --rule 'head.*=zeros'.",
)  # fmt: skip
_DEVICE = typer.Option("cpu", help="Device to build and initialize on (cpu, cuda, cuda:1, mps).")

#: What ``init --out`` writes, by extension.
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")


def _check_policy(policy: str) -> Policy:
    from initlab.model.policies import make_policy

    try:
        return make_policy(policy)
    except InitError as e:
        fail(f"--policy: {e}")


def _make_plan(target: str, input_shape: str, dtype: str, policy: str,  # type: ignore[no-untyped-def]
               rule: list[str] | None = None, *, seed: int = 0, device: str = "cpu"):
    import initlab
    from initlab.cli.common import check_device, checked, parse_rules

    pol = _check_policy(policy)
    rules = checked(parse_rules, rule)
    dev = checked(check_device, device)
    try:
        model, x = load_model_and_input(target, input_shape, dtype, seed=seed, device=dev)
        return model, initlab.plan(model, x, policy=pol, rules=rules)
    except InitError as e:
        fail(input_rejected(e, input_shape, dtype))


def plan_cmd(
    target: str = _TARGET,
    input_shape: str = _SHAPE,
    policy: str = _policy_option(),
    dtype: str = _DTYPE,
    rule: list[str] | None = _RULE,
    json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Show how initlab would initialize a model (writes nothing).

    One traced forward pass on the meta device finds each layer's activation, residual branch ends
    and output layers; the policy picks a scheme per parameter.

    Example:  initlab plan initlab.lab.zoo:nano_gpt --input-shape 4,64 --policy gpt2

    Example:  initlab plan initlab.lab.zoo:deep_mlp -s 4,32 --policy 'critical(sigma_b2=0.05)'
    """
    _, p = _make_plan(target, input_shape, dtype, policy, rule)
    if json:
        print_json(p.to_dict())
    else:
        console.print(p)


def init_cmd(
    target: str = _TARGET,
    input_shape: str = _SHAPE,
    out: Path = typer.Option(
        ..., "--out", "-o",
        help="Where to save the weights: .safetensors, or .pt/.pth (torch.save of the "
        "state_dict); with --meta, a checkpoint directory.",
    ),
    policy: str = _policy_option(),
    seed: int = typer.Option(0, help="Seed: each parameter's values depend on (seed, its name)."),
    dtype: str = _DTYPE,
    meta: bool = typer.Option(
        False, "--meta",
        help="Build the model on the meta device and stream a seed checkpoint (sharded "
        "safetensors + index, or torch DCP with --format dcp) tensor by tensor: the model is "
        "never in memory.",
    ),
    ckpt_format: str = typer.Option(
        "safetensors", "--format",
        help="With --meta: safetensors (+ model.safetensors.index.json; also loads with DCP's "
        "HuggingFaceStorageReader) or dcp (torch.distributed.checkpoint: .metadata + "
        "__0_k.distcp).",
    ),
    max_shard_size: str = typer.Option(
        "5GB", "--max-shard-size", help="With --meta: largest shard file (e.g. 5GB, 500MB)."
    ),
    force: bool = typer.Option(
        False, "--force", help="With --meta: replace a checkpoint in --out."
    ),
    rule: list[str] | None = _RULE,
    device: str = _DEVICE,
    json: bool = typer.Option(False, "--json", help="Print the applied plan as JSON."),
) -> None:
    """Initialize a model with a policy and save its weights (safetensors or torch.save).

    Example:  initlab init initlab.lab.zoo:resnet --input-shape 8,3,16,16 --out w.safetensors

    Example:  initlab init initlab.lab.zoo:nano_gpt -s 1,64 --meta --out ckpt/

    Example:  initlab init initlab.lab.zoo:nano_gpt -s 1,64 --meta --format dcp --out ckpt/
    """
    from initlab.scale.checkpoint import FORMATS

    if ckpt_format not in FORMATS:
        fail(f"--format {ckpt_format!r}: use one of {', '.join(FORMATS)}")
    if meta:
        _init_meta(target, input_shape, out, policy, seed, dtype, max_shard_size, force, json,
                   rule, ckpt_format)
        return
    if ckpt_format != "safetensors":
        fail(f"--format {ckpt_format} needs --meta (a seed checkpoint directory); without "
             "--meta the --out extension picks the format (.safetensors, .pt)")
    import initlab
    from initlab.cli.common import output_file

    out = output_file(out, WEIGHT_SUFFIXES, "--out")  # before any work
    model, p = _make_plan(target, input_shape, dtype, policy, rule, seed=seed, device=device)
    initlab.apply_plan(model, p, seed=seed)
    _save_weights(model, out)
    if json:
        print_json({"out": str(out), "seed": seed, "plan": p.to_dict()})
    else:
        console.print(p)
        s = p.summary()
        console_err.print(f"wrote {s['elements_written']:,} values → [bold]{out}[/bold]")


def _save_weights(model: object, out: Path) -> None:
    """The model's weights at ``out``, in the format its extension names, written atomically
    (:func:`initlab.files.atomic_output`): safetensors for ``.safetensors``, ``torch.save`` of
    the state_dict for ``.pt``/``.pth``."""
    from initlab.files import atomic_output

    try:
        with atomic_output(out) as tmp:
            if out.suffix.lower() == ".safetensors":
                try:
                    from safetensors.torch import save_model
                except ImportError:
                    fail("saving .safetensors needs the safetensors package: pip install "
                         "safetensors (or use --out weights.pt)")
                save_model(model, str(tmp))
            else:
                import torch

                torch.save(model.state_dict(), tmp)  # type: ignore[attr-defined]
    except OSError as e:
        fail(f"--out {out}: cannot write ({e.strerror or e})")


def _init_meta(target: str, input_shape: str, out: Path, policy: str, seed: int, dtype: str,
               max_shard_size: str, force: bool, json: bool, rule: list[str] | None = None,
               ckpt_format: str = "safetensors") -> None:  # fmt: skip
    """``init --meta``: plan on the meta model, then a streaming seed checkpoint."""
    import torch

    import initlab
    from initlab.cli.common import checked, parse_rules
    from initlab.scale.checkpoint import write_seed_checkpoint

    pol = _check_policy(policy)
    rules = checked(parse_rules, rule)
    try:
        with torch.device("meta"):
            model = load_model(target)
        x = make_input(model, parse_shape(input_shape), dtype)
        p = initlab.plan(model, x, policy=pol, rules=rules)
    except InitError as e:
        fail(input_rejected(e, input_shape, dtype))
    try:
        ck = write_seed_checkpoint(model, p, out, seed=seed, max_shard_size=max_shard_size,
                                   overwrite=force, format=ckpt_format)  # fmt: skip
    except InitError as e:
        fail(str(e))
    except OSError as e:
        fail(f"--out {out}: cannot write ({e})")
    if json:
        print_json({"out": str(out), "seed": seed, "checkpoint": ck.to_dict(),
                    "plan": p.to_dict()})  # fmt: skip
    else:
        console.print(p)
        console_err.print(
            f"wrote {ck.tensors} tensors ({ck.total_bytes / 1e6:,.1f} MB) in {len(ck.files)} "
            f"{'shard(s)' if ck.format == 'safetensors' else 'DCP file(s)'} → "
            f"[bold]{out}[/bold] (largest tensor in memory "
            f"{ck.largest_materialized_bytes / 1e6:,.1f} MB)"
        )


def register(app: typer.Typer) -> None:
    """Add ``plan`` and ``init`` to the ``initlab`` app."""
    app.command("plan")(plan_cmd)
    app.command("init")(init_cmd)


__all__ = ["init_cmd", "plan_cmd", "register"]
