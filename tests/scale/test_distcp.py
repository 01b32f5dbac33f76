"""Seed checkpoints for torch Distributed Checkpoint (DCP): ``format="dcp"`` writes DCP's native
format (``.metadata`` + ``__0_k.distcp``) one tensor at a time; the safetensors output loads
with DCP's ``HuggingFaceStorageReader``. Both give exactly the weights of ``initlab.init`` with
the same seed, through ``dcp.load`` itself, on one process and into an FSDP2 model on a gloo
group of 2."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch
from typer.testing import CliRunner

import initlab
from initlab.cli import app
from initlab.errors import InitError
from initlab.lab import zoo
from initlab.scale import checkpoint as ckpt
from initlab.scale.checkpoint import INDEX_NAME, load_seed_checkpoint, write_seed_checkpoint
from initlab.scale.distcp import METADATA_NAME

from .test_checkpoint import RULES, Mixed, X, _eager_reference

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available(), reason="torch built without torch.distributed"
)
dcp = pytest.importorskip("torch.distributed.checkpoint")


def _dcp_load(state, **kw):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():  # "assuming the intent is to load in a single process"
        warnings.simplefilter("ignore", UserWarning)
        dcp.load(state, no_dist=True, **kw)


def test_dcp_format_equals_init_bit_for_bit(tmp_path):
    """Every kind of row (2-block elementwise with a zeroed padding row, orthogonal, a module's
    own reset_parameters, BatchNorm buffers), read back by dcp.load, not by initlab."""
    with torch.device("meta"):
        meta = Mixed()
    p = initlab.plan(meta, X, policy="torch", rules=RULES)
    ck = write_seed_checkpoint(meta, p, tmp_path / "c", seed=7, format="dcp")
    ref = _eager_reference(Mixed, X, 7, policy="torch", rules=RULES).state_dict()
    assert ck.format == "dcp" and ck.tensors == len(ref)
    assert sorted(f.name for f in (tmp_path / "c").iterdir()) == sorted(
        [METADATA_NAME, *ck.files])
    assert ck.total_bytes == sum(v.numel() * v.element_size() for v in ref.values())
    assert ck.largest_materialized_bytes == 1100 * 1000 * 4  # the embedding, whole
    got = {k: torch.full_like(v, -1) for k, v in ref.items()}
    _dcp_load(got, checkpoint_id=str(tmp_path / "c"))
    for k, v in ref.items():
        assert torch.equal(got[k], v), k
    assert got["emb.weight"][1050].abs().sum() == 0
    eager = Mixed()  # and through initlab's loader
    assert set(load_seed_checkpoint(eager, tmp_path / "c")) == set(ref)
    assert all(torch.equal(a, ref[k]) for k, a in eager.state_dict().items())


def test_dcp_tied_weights_stored_under_both_names(tmp_path):
    """DCP has no aliases: the tied embedding / head is stored under both names, so
    ``dcp.load(model.state_dict())`` (which lists both) needs no partial-load planner; a meta
    model loaded by initlab keeps one Parameter for the pair."""
    x = torch.zeros(1, 8, dtype=torch.long)
    with torch.device("meta"):
        meta = zoo.nano_gpt()
    write_seed_checkpoint(meta, initlab.plan(meta, x), tmp_path / "c", seed=1, format="dcp")
    ref = _eager_reference(zoo.nano_gpt, x, 1).state_dict()
    m = zoo.nano_gpt()
    _dcp_load(m.state_dict(), checkpoint_id=str(tmp_path / "c"))
    assert all(torch.equal(a, ref[k]) for k, a in m.state_dict().items())
    with torch.device("meta"):
        lazy = zoo.nano_gpt()
    load_seed_checkpoint(lazy, tmp_path / "c")
    assert lazy.lm_head.weight is lazy.transformer.wte.weight
    assert all(torch.equal(a, ref[k]) for k, a in lazy.state_dict().items())


def test_hf_storage_reader_loads_the_safetensors_output(tmp_path):
    """DCP's HuggingFaceStorageReader reads initlab's sharded safetensors directly (it lists the
    *.safetensors files; the index is not needed). Tied weights are stored once, HF style: a
    state_dict with both names loads with allow_partial_load (the tie fills the other)."""
    from torch.distributed.checkpoint import DefaultLoadPlanner, HuggingFaceStorageReader

    x = torch.zeros(1, 8, dtype=torch.long)
    with torch.device("meta"):
        meta = zoo.tiny_llama()
    ck = write_seed_checkpoint(meta, initlab.plan(meta, x), tmp_path / "c", seed=2,
                               max_shard_size="20KB")  # fmt: skip
    assert len(ck.files) > 2
    ref = _eager_reference(zoo.tiny_llama, x, 2).state_dict()
    m = zoo.tiny_llama()
    _dcp_load(m.state_dict(), storage_reader=HuggingFaceStorageReader(str(tmp_path / "c")))
    assert all(torch.equal(a, ref[k]) for k, a in m.state_dict().items())

    with torch.device("meta"):
        meta = zoo.nano_gpt()
    write_seed_checkpoint(meta, initlab.plan(meta, x), tmp_path / "g", seed=2)
    ref = _eager_reference(zoo.nano_gpt, x, 2).state_dict()
    m = zoo.nano_gpt()
    _dcp_load(m.state_dict(), storage_reader=HuggingFaceStorageReader(str(tmp_path / "g")),
              planner=DefaultLoadPlanner(allow_partial_load=True))  # fmt: skip
    assert m.lm_head.weight is m.transformer.wte.weight
    assert all(torch.equal(a, ref[k]) for k, a in m.state_dict().items())


def test_fsdp2_ranks_load_both_formats_with_dcp(tmp_path):
    """A gloo group of 2 forked ranks: fully_shard a meta tiny Llama, to_empty, dcp.load from
    the DCP checkpoint and (HuggingFaceStorageReader) from the safetensors one; each rank's
    shards equal the single-process init (checks in tests/scale/distcp_worker.py)."""
    import torch.distributed.fsdp
    import torch.distributed.tensor  # (imported once, before the fork)
    import torch.multiprocessing as mp

    from . import distcp_worker

    x = torch.zeros(1, 8, dtype=torch.long)
    with torch.device("meta"):
        meta = zoo.tiny_llama()
    p = initlab.plan(meta, x)
    write_seed_checkpoint(meta, p, tmp_path / "d", seed=4, format="dcp")
    write_seed_checkpoint(meta, p, tmp_path / "s", seed=4, max_shard_size="20KB")
    ref = _eager_reference(zoo.tiny_llama, x, 4).state_dict()
    mp.start_processes(distcp_worker.run, nprocs=2, join=True, start_method="fork",
                       args=(2, str(tmp_path / "store"), str(tmp_path / "d"),
                             str(tmp_path / "s"), ref))  # fmt: skip


def test_interrupted_dcp_write_leaves_no_metadata(tmp_path, monkeypatch):
    """Crash while DCP writes the third tensor over a finished checkpoint: the old .metadata
    went before the first byte, the new one is written last, so nothing looks complete."""
    with torch.device("meta"):
        meta = Mixed()
    p = initlab.plan(meta, X, policy="torch", rules=RULES)
    out = tmp_path / "c"
    write_seed_checkpoint(meta, p, out, seed=0, format="dcp")
    assert (out / METADATA_NAME).exists()
    real = ckpt._stream
    calls = {"n": 0}

    def crashing(*a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        yield from real(*a, **k)

    monkeypatch.setattr(ckpt, "_stream", crashing)
    with pytest.raises(KeyboardInterrupt):
        write_seed_checkpoint(meta, p, out, seed=1, format="dcp", overwrite=True)
    # two new tensors written, the third's file opened when the crash came; no .metadata, and
    # none of the old checkpoint's 7 data files left to mix with the new ones
    assert {f.name for f in out.iterdir()} == {"__0_0.distcp", "__0_1.distcp", "__0_2.distcp"}
    with pytest.raises(InitError, match=r"no model\.safetensors\.index\.json \(nor DCP"):
        load_seed_checkpoint(Mixed(), out)
    with pytest.raises(dcp.CheckpointException, match=r"\.metadata"):  # DCP itself refuses it
        _dcp_load(Mixed().state_dict(), checkpoint_id=str(out))


class _WithEmpty(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.empty = torch.nn.Linear(4, 0)  # a (0, 4) weight: streams no block
        self.out = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x) + self.empty(x).sum()


def test_dcp_empty_and_bfloat16_tensors(tmp_path):
    x = torch.zeros(1, 4)
    with torch.device("meta"):
        meta = _WithEmpty().to(torch.bfloat16)
    write_seed_checkpoint(meta, initlab.plan(meta, x), tmp_path / "c", seed=3, format="dcp")
    ref = _WithEmpty().to(torch.bfloat16)
    initlab.init(ref, x, seed=3)
    got = {k: torch.zeros_like(v) for k, v in ref.state_dict().items()}
    _dcp_load(got, checkpoint_id=str(tmp_path / "c"))
    assert got["empty.weight"].shape == (0, 4) and got["out.weight"].dtype == torch.bfloat16
    assert all(torch.equal(got[k], v) for k, v in ref.state_dict().items())


def test_dcp_bad_inputs(tmp_path):
    with torch.device("meta"):
        meta = torch.nn.Linear(4, 4)
    p = initlab.plan(meta, torch.zeros(1, 4))
    with pytest.raises(InitError, match="format 'zip' is not one of safetensors, dcp"):
        write_seed_checkpoint(meta, p, tmp_path / "a", format="zip")
    assert not (tmp_path / "a").exists()
    write_seed_checkpoint(meta, p, tmp_path / "d", format="dcp")
    with pytest.raises(InitError, match="not empty"):
        write_seed_checkpoint(meta, p, tmp_path / "d", format="dcp")
    with pytest.raises(InitError, match=r"shape \(5, 4\) in the model but \(4, 4\)"):
        load_seed_checkpoint(torch.nn.Linear(4, 5), tmp_path / "d")
    with pytest.raises(InitError, match="lacks extra"):
        m = torch.nn.Linear(4, 4)
        m.register_buffer("extra", torch.zeros(2))
        load_seed_checkpoint(m, tmp_path / "d")
    assert load_seed_checkpoint(m, tmp_path / "d", strict=False) == ["weight", "bias"]
    # rewriting a safetensors checkpoint as DCP removes the safetensors files (one format)
    write_seed_checkpoint(meta, p, tmp_path / "s")
    write_seed_checkpoint(meta, p, tmp_path / "s", format="dcp", overwrite=True)
    assert not (tmp_path / "s" / INDEX_NAME).exists()
    assert not list((tmp_path / "s").glob("*.safetensors"))


def test_cli_format_dcp(tmp_path):
    runner = CliRunner()
    out = tmp_path / "ckpt"
    args = ["init", "initlab.lab.zoo:nano_gpt", "-s", "1,16", "--meta", "--out", str(out),
            "--seed", "3", "--format", "dcp", "--json"]  # fmt: skip
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["checkpoint"]["format"] == "dcp" and (out / METADATA_NAME).exists()
    ref = _eager_reference(zoo.nano_gpt, torch.zeros(1, 16, dtype=torch.long), 3).state_dict()
    m = zoo.nano_gpt()
    _dcp_load(m.state_dict(), checkpoint_id=str(out))
    assert all(torch.equal(a, ref[k]) for k, a in m.state_dict().items())
    r = runner.invoke(app, ["init", "initlab.lab.zoo:nano_gpt", "-s", "1,16", "--meta",
                            "--out", str(tmp_path / "x"), "--format", "orbax"])  # fmt: skip
    assert r.exit_code == 2 and "use one of safetensors, dcp" in r.output
    r = runner.invoke(app, ["init", "initlab.lab.zoo:nano_gpt", "-s", "1,16",
                            "--out", str(tmp_path / "w.pt"), "--format", "dcp"])  # fmt: skip
    assert r.exit_code == 2 and "needs --meta" in r.output


PEAK_SCRIPT = textwrap.dedent("""
    import resource, tempfile, warnings, torch, initlab
    from torch import nn
    from initlab.scale.checkpoint import write_seed_checkpoint
    warnings.simplefilter("ignore")
    def build():
        with torch.device("meta"):
            return nn.Sequential(*[nn.Linear(1024, 1024) for _ in range(24)])  # 100 MB
    d = tempfile.mkdtemp()
    m = build(); p = initlab.plan(m, torch.zeros(1, 1024))
    write_seed_checkpoint(nn.Sequential(nn.Linear(8, 8)), initlab.plan(nn.Linear(8, 8), None),
                          d + "/warm", format="dcp")  # load every code path first
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ck = write_seed_checkpoint(m, p, d + "/big", format="dcp")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) * 1024, ck.total_bytes, ck.largest_materialized_bytes)
""")


def test_dcp_peak_memory_is_one_tensor_not_the_model():
    """A 100 MB model (24 × 4 MiB weights) written as DCP in a fresh process: the resident peak
    grows by the largest tensor (4 MiB), one block while it is drawn, and allocator slack; the
    bound PEAK_BOUND leaves room for that, while 100 MB would mean the model was held."""
    r = subprocess.run([sys.executable, "-c", PEAK_SCRIPT], capture_output=True, text=True,
                       timeout=120, check=True)  # fmt: skip
    grew, total, largest = map(int, r.stdout.split())
    assert total > 100e6 and largest == 4 * 2**20
    assert grew < PEAK_BOUND, f"peak RSS grew by {grew / 1e6:.1f} MB writing {total / 1e6:.0f} MB"


PEAK_BOUND = 25e6
