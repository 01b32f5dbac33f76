"""benchmarks/bench_scale.py runs (tiny size) and reports what RESULTS.md quotes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_scale.py"


def test_bench_scale_tiny(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    r = mod.measure_size("tiny", repeat=1, ckpt_dir=str(tmp_path / "ckpt"))
    assert r["params"] == sum(q.numel() for q in mod.build_meta("tiny").parameters())
    for key in ("plan_s", "apply_s", "floor_s", "init_over_floor", "peak_rss_over_params",
                "ckpt_s", "ckpt_rss_growth"):  # fmt: skip
        assert key in r, key
    assert r["ckpt_bytes"] == r["param_bytes"]  # untied head: every parameter stored once
    assert set(mod.SIZES) >= {"125m", "350m", "1b", "7b"}
