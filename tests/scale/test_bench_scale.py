"""benchmarks/bench_scale.py runs (tiny size) and reports what RESULTS.md quotes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_scale.py"


def test_bench_scale_tiny(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    r = mod.measure_size("tiny", repeat=1, ckpt_dir=str(tmp_path / "ckpt"))
    assert r["params"] == sum(q.numel() for q in mod.build_meta("tiny").parameters())
    for key in ("plan_s", "apply_s", "floor_s", "init_over_floor", "peak_rss_over_params",
                "ckpt_s", "ckpt_rss_growth", "largest_tensor_bytes"):  # fmt: skip
        assert key in r, key
    assert r["ckpt_bytes"] == r["param_bytes"]  # untied head: every parameter stored once
    assert r["largest_tensor_bytes"] == mod.model_bytes("tiny", "float32")[1]
    d = mod.measure_size("tiny", repeat=1, ckpt_dir=str(tmp_path / "dcp"), ckpt_format="dcp")
    assert d["ckpt_format"] == "dcp" and d["ckpt_bytes"] == d["param_bytes"]
    assert set(mod.SIZES) >= {"125m", "350m", "1b", "7b"}


def test_bench_scale_refuses_a_size_that_does_not_fit(monkeypatch):
    """The 7B bf16 run needs the parameters (13.4 GB) plus the largest tensor: with less memory
    available it stops before allocating anything, with the numbers and the override."""
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    need, largest = mod.model_bytes("7b", "bfloat16")
    assert 13.0e9 < need < 13.8e9 and largest == 32_000 * 4096 * 2  # embedding / head
    monkeypatch.setattr(mod, "_available_bytes", lambda: 8 * 2**30)

    with pytest.raises(SystemExit, match=r"needs 12\.\d GiB .* only 8\.0 GiB .*--no-memory-check"):
        mod.main(["--size", "7b", "--dtype", "bfloat16", "--ckpt-sizes", "none",
                  "--world-sizes", "none"])  # fmt: skip
