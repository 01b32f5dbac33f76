"""Streaming seed checkpoints (initlab.scale.checkpoint): the files hold exactly the weights of
``initlab.init`` with the same seed, are standard safetensors with an HF-style index, stream
(bounded memory), and an interrupted write never looks complete."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from typer.testing import CliRunner

import initlab
from initlab.cli import app
from initlab.errors import InitError
from initlab.lab import zoo
from initlab.scale import checkpoint as ckpt
from initlab.scale.checkpoint import INDEX_NAME, load_seed_checkpoint, write_seed_checkpoint


class Mixed(nn.Module):
    """Every kind of row: a 2-block elementwise weight, an embedding whose padding row sits in
    the second block, an orthogonal matrix, a custom module initialized by its own
    reset_parameters, a BatchNorm (buffers)."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(1100, 1000, padding_idx=1050)  # 1.1M values: 2 blocks
        self.rec = nn.Linear(1000, 64, bias=False)
        self.custom = _Scale(64)
        self.bn = nn.BatchNorm1d(64)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.bn(self.custom(self.rec(self.emb(idx)).mean(1)))


class _Scale(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.empty(n))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.uniform_(self.gamma, 0.5, 1.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


RULES = [("rec.weight", initlab.schemes.orthogonal(1.0))]
X = torch.zeros(2, 3, dtype=torch.long)


def _eager_reference(factory, x, seed, **plan_kw):  # type: ignore[no-untyped-def]
    m = factory()
    initlab.init(m, x, seed=seed, **plan_kw)
    return m


def test_mixed_rows_equal_init_bit_for_bit(tmp_path):
    with torch.device("meta"):
        meta = Mixed()
    p = initlab.plan(meta, X, policy="torch", rules=RULES)
    assert p["custom.gamma"].call[0] == "reset_parameters"
    ck = write_seed_checkpoint(meta, p, tmp_path / "c", seed=7, max_shard_size="2MB")
    ref = _eager_reference(Mixed, X, 7, policy="torch", rules=RULES).state_dict()
    assert len(ck.files) == 2  # the 4.4 MB embedding alone (over 2 MB), then the rest
    loaded = {}
    for f in ck.files:  # standard safetensors
        loaded.update(load_file(str(tmp_path / "c" / f)))
    assert set(loaded) == set(ref)
    for k, v in ref.items():
        assert torch.equal(loaded[k], v), k
    assert loaded["emb.weight"][1050].abs().sum() == 0
    index = json.loads((tmp_path / "c" / INDEX_NAME).read_text())
    assert index["metadata"]["total_size"] == sum(v.numel() * v.element_size()
                                                  for v in ref.values())  # fmt: skip
    assert set(index["weight_map"]) == set(ref)
    # streamed: the 1.1M-value embedding was never whole in memory, one block at a time
    assert ck.largest_materialized_bytes == (1 << 20) * 4


@pytest.mark.parametrize(("factory", "x"), [
    (zoo.nano_gpt, torch.zeros(1, 8, dtype=torch.long)),  # tied embedding / head
    (zoo.tiny_llama, torch.zeros(1, 8, dtype=torch.long)),
    (zoo.resnet, torch.zeros(2, 3, 16, 16)),  # BN buffers
])  # fmt: skip
def test_zoo_models_load_back_identical(tmp_path, factory, x):
    with torch.device("meta"):
        meta = factory()
    p = initlab.plan(meta, x)
    write_seed_checkpoint(meta, p, tmp_path / "c", seed=1)
    ref = _eager_reference(factory, x, 1)
    eager = factory()
    names = load_seed_checkpoint(eager, tmp_path / "c")
    assert set(names) == set(eager.state_dict())
    for (k, a), b in zip(ref.state_dict().items(), eager.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    with torch.device("meta"):  # a meta model gets the tensors assigned
        lazy = factory()
    load_seed_checkpoint(lazy, tmp_path / "c")
    assert all(not t.is_meta for t in lazy.state_dict().values())


def test_interrupted_write_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    with torch.device("meta"):
        meta = Mixed()
    p = initlab.plan(meta, X, policy="torch", rules=RULES)
    out = tmp_path / "c"
    write_seed_checkpoint(meta, p, out, seed=0, max_shard_size="2MB")
    assert (out / INDEX_NAME).exists()
    real = ckpt._stream
    calls = {"n": 0}

    def crashing(*a, **k):  # type: ignore[no-untyped-def]
        for chunk in real(*a, **k):
            calls["n"] += 1
            if calls["n"] == 3:  # in the second shard: the first one is complete (as a temp)
                raise KeyboardInterrupt
            yield chunk

    monkeypatch.setattr(ckpt, "_stream", crashing)
    with pytest.raises(KeyboardInterrupt):
        write_seed_checkpoint(meta, p, out, seed=1, max_shard_size="2MB", overwrite=True)
    assert calls["n"] == 3
    # the old index and old shards went first (no reader can mix old and new shards: DCP's
    # HuggingFaceStorageReader lists every *.safetensors, index or not); the finished first
    # shard was never renamed and its temporary file is gone
    assert list(out.iterdir()) == []
    with pytest.raises(InitError, match=r"no model\.safetensors\.index\.json"):
        load_seed_checkpoint(Mixed(), out)


class _Table(nn.Module):
    """A parameter with no own init (no reset_parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.t = nn.Parameter(torch.empty(4, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.t


def test_frozen_meta_parameter_gets_its_own_init_as_apply_plan_gives_it(tmp_path):
    # on the meta device there is nothing to keep: apply_plan re-runs the module's own init
    with torch.device("meta"):
        meta = nn.Linear(4, 4)
    meta.weight.requires_grad_(False)
    p = initlab.plan(meta, torch.zeros(1, 4))
    ck = write_seed_checkpoint(meta, p, tmp_path / "c", seed=5)
    real = nn.Linear(4, 4).to_empty(device="cpu")
    real.weight.requires_grad_(False)
    initlab.apply_plan(real, p, seed=5)
    got = nn.Linear(4, 4)
    load_seed_checkpoint(got, tmp_path / "c")
    assert ck.tensors == 2 and torch.equal(got.weight, real.weight)


def test_bad_inputs(tmp_path):
    with torch.device("meta"):
        meta = nn.Linear(4, 4)
    p = initlab.plan(meta, torch.zeros(1, 4))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InitError, match="not empty"):
        write_seed_checkpoint(meta, p, tmp_path / "full")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InitError, match="is a file"):
        write_seed_checkpoint(meta, p, tmp_path / "file")
    with pytest.raises(InitError, match="not a size"):
        write_seed_checkpoint(meta, p, tmp_path / "a", max_shard_size="lots")
    with pytest.raises(InitError, match="InitPlan"):
        write_seed_checkpoint(meta, "plan", tmp_path / "b")  # type: ignore[arg-type]
    with torch.device("meta"):
        table = _Table()
    table.t.requires_grad_(False)  # frozen, no own init: not written, and no values on meta
    p = initlab.plan(table, torch.zeros(1, 4))
    with pytest.raises(InitError, match="t is not written by the plan"):
        write_seed_checkpoint(table, p, tmp_path / "c")
    write_seed_checkpoint(nn.Linear(4, 4), initlab.plan(nn.Linear(4, 4), torch.zeros(1, 4)),
                          tmp_path / "d")  # fmt: skip
    with pytest.raises(InitError, match="shape"):
        load_seed_checkpoint(nn.Linear(4, 5), tmp_path / "d")


def test_cli_init_meta(tmp_path):
    runner = CliRunner()
    out = tmp_path / "ckpt"
    args = ["init", "initlab.lab.zoo:nano_gpt", "-s", "1,16", "--meta", "--out", str(out),
            "--seed", "3", "--max-shard-size", "40KB", "--json"]  # fmt: skip
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert len(d["checkpoint"]["files"]) > 1 and (out / INDEX_NAME).exists()
    ref = _eager_reference(zoo.nano_gpt, torch.zeros(1, 16, dtype=torch.long), 3)
    m = zoo.nano_gpt()
    load_seed_checkpoint(m, out)
    pairs = zip(ref.state_dict().values(), m.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    r = runner.invoke(app, args)  # not empty: refuse, one line, exit 2
    assert r.exit_code == 2 and "--force" in r.output
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


PEAK_SCRIPT = textwrap.dedent("""
    import resource, sys, tempfile, torch, initlab
    from torch import nn
    from initlab.scale.checkpoint import write_seed_checkpoint
    def build():
        with torch.device("meta"):
            return nn.Sequential(*[nn.Linear(1024, 1024) for _ in range(24)])  # 100 MB
    d = tempfile.mkdtemp()
    m = build(); p = initlab.plan(m, torch.zeros(1, 1024))
    write_seed_checkpoint(nn.Sequential(nn.Linear(8, 8)), initlab.plan(nn.Linear(8, 8), None),
                          d + "/warm")  # load every code path first
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ck = write_seed_checkpoint(m, p, d + "/big", max_shard_size="30MB")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) * 1024, ck.total_bytes)
""")


def test_peak_memory_is_one_tensor_not_the_model():
    """A 100 MB model (24 × 4 MiB weights) written in a fresh process: the resident peak grows
    by far less than the model (the bound: the 4 MiB largest tensor + one 4 MiB block + the
    allocator's slack; 25 MB leaves room for that, 100 MB would mean the model was held)."""
    r = subprocess.run([sys.executable, "-c", PEAK_SCRIPT], capture_output=True, text=True,
                       timeout=120, check=True)  # fmt: skip
    grew, total = map(int, r.stdout.split())
    assert total > 100e6
    assert grew < 25e6, f"peak RSS grew by {grew / 1e6:.1f} MB writing {total / 1e6:.0f} MB"


def test_meta_load_keeps_tied_weights_tied(tmp_path):
    """Assigning into a meta model must keep one Parameter per tied group (a tied embedding and
    head loaded as two Parameters would train as two untied weights)."""
    x = torch.zeros(1, 8, dtype=torch.long)
    with torch.device("meta"):
        meta = zoo.nano_gpt()
    write_seed_checkpoint(meta, initlab.plan(meta, x), tmp_path / "c", seed=1)
    with torch.device("meta"):
        lazy = zoo.nano_gpt()
    load_seed_checkpoint(lazy, tmp_path / "c")
    assert lazy.lm_head.weight is lazy.transformer.wte.weight
    assert len(list(lazy.parameters())) == len(list(zoo.nano_gpt().parameters()))
