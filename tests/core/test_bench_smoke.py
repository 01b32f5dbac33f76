"""Smoke test of benchmarks/bench_core.py: it runs in --quick mode on tiny sizes and reports a
ratio for every row. Nothing here asserts on a time (the machine is shared; see TEAM.md)."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import sys
from pathlib import Path

import pytest
from rich.console import Console

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_core.py"


@pytest.fixture(scope="module")
def bench():
    name = "initlab_bench_core"  # a script, not a package: load it by path
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their annotations through sys.modules
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


TINY = ["--quick", "--sizes", "16x16,8x24", "--repeats", "1", "--warmup", "0"]


def test_quick_run_reports_every_ratio(bench):
    out = io.StringIO()
    result = bench.main([*TINY, "--json"], console=Console(file=out, width=200))
    assert json.loads(out.getvalue()) == json.loads(json.dumps(result))
    rows = result["rows"]
    groups = {r["group"] for r in rows}
    assert groups == {"truncated normal ±2σ", "orthogonal", "presets"}
    for r in rows:
        assert r["ours_ms"] > 0
        if r["dtype"] == "bfloat16":  # torch's orthogonal_ has no bf16 QR: reported, not timed
            assert r["refs_ms"]["torch"] is None and r["ratios"]["torch"] is None
            assert "BFloat16" in r["failures"]["torch"]
            continue
        for name, ratio in r["ratios"].items():
            assert ratio is not None and math.isfinite(ratio) and ratio > 0, (r["name"], name)
        assert r["ok"] in (True, False)  # a verdict, whatever the (untested) times are
    truncated = [r for r in rows if r["group"] == "truncated normal ±2σ"]
    assert all(set(r["ratios"]) == {"torch", "normal_"} for r in truncated)
    # where initlab promises torch's draws (Xavier, Kaiming, orthogonal's default) they are equal
    promised = [r for r in rows if r["identical"] is not None]
    assert promised and all(r["identical"] for r in promised)
    assert result["meta"]["torch"] and result["meta"]["repeats"] == 1
    table = bench.to_markdown(result).splitlines()  # the RESULTS.md form: one line per row
    assert len(table) == 2 + len(rows) and "torch fails" in "\n".join(table)


def test_quick_run_renders_tables(bench):
    out = io.StringIO()
    bench.main([*TINY, "--only", "presets,orthogonal"], console=Console(file=out, width=200))
    text = out.getvalue()
    assert "initlab/torch" in text and "xavier_uniform_" in text
    assert "fails" in text  # the bf16 orthogonal row
    assert "truncated normal" not in text


def test_bad_sizes_are_reported(bench):
    with pytest.raises(SystemExit, match="ROWSxCOLS"):
        bench.main(["--sizes", "12by4"], console=Console(file=io.StringIO()))
