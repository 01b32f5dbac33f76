"""The meta-op cache of the trace (model/trace.py) changes no graph and no plan.

The trace runs each distinct meta call once and answers repeats (a model's identical blocks)
with fresh empty meta tensors of the recorded shape, strides and dtype. These tests trace and
plan the same models with the cache on and off and require equal graphs and equal plan JSON,
and check that the cache was really used (so the comparison cannot pass vacuously).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import torch
from torch import nn

import initlab
from initlab.lab.zoo import ZOO
from initlab.model import trace as trace_mod
from initlab.model.trace import trace_model


def _graph(g: trace_mod.Graph) -> dict[str, Any]:
    d = dataclasses.asdict(g)
    d["atomic"] = sorted(d["atomic"])
    return d


def _both(model: nn.Module, x: Any, monkeypatch: pytest.MonkeyPatch,
          policies: tuple[str, ...] = ("auto",)) -> tuple[list[Any], list[Any], int]:  # fmt: skip
    """(graph + plans with the cache, the same without it, cache hits of the cached trace)."""
    hits = []
    run = trace_mod._run

    def counting(*a: Any, **k: Any) -> Any:
        rec, atomic, out = run(*a, **k)
        hits.append(rec.cache_hits)
        return rec, atomic, out

    monkeypatch.setattr(trace_mod, "_run", counting)
    results = []
    for on in (True, False):
        monkeypatch.setattr(trace_mod, "_CACHE_META_OPS", on)
        res = [_graph(trace_model(model, x))]
        res += [json.loads(initlab.plan(model, x, policy=p).to_json()) for p in policies]
        results.append(res)
    return results[0], results[1], hits[0]


@pytest.mark.parametrize("name", ["tiny_llama", "nano_gpt", "transformer_encoder", "resnet",
                                  "lstm_model", "functional_net", "dict_model"])  # fmt: skip
def test_zoo_graphs_and_plans_are_the_same_with_and_without_the_cache(name, monkeypatch) -> None:
    torch.manual_seed(0)
    m = ZOO[name]()
    cached, plain, _ = _both(m, m.example_input(2), monkeypatch, ("auto", "gpt2"))
    assert cached == plain


def test_identical_blocks_are_answered_from_the_cache(monkeypatch) -> None:
    from initlab.lab.zoo import TinyLlama

    with torch.device("meta"):  # the scale benchmark's model, small: meta build, meta trace
        m = TinyLlama(64, 32, 4, 6, 8)
    x = torch.zeros(1, 8, dtype=torch.long)
    cached, plain, hits = _both(m, x, monkeypatch, ("auto", "gpt2"))
    assert cached == plain
    assert cached[0]["device"] == "meta"
    # 5 of the 6 blocks repeat the first one's ~40 cached calls (mul, add, rms_norm, SDPA...)
    assert hits >= 5 * 20, hits


class _Tricky(nn.Module):
    """Calls the cache must not answer: ops returning their input (``contiguous``, ``float``),
    views written in place, ``.data`` aliases, in-place arithmetic, an op on a non-meta
    tensor, a Python user function dispatching ``__torch_function__``."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)
        self.scale = nn.Parameter(torch.ones(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for lin in (self.a, self.b, self.a, self.b):
            h = lin(x).contiguous().float()
            v = h[:, :4]
            v.mul_(2.0)
            h = h + h.data * 0.5
            h += torch.tanh(h) * self.scale
            h = h.transpose(0, 1).transpose(0, 1) * torch.tensor(0.5)
            x = torch.relu(h) + x.reshape(x.shape)
        return torch.stack([x, x], 0).sum(0)


def test_aliasing_and_in_place_calls_give_the_same_graph(monkeypatch) -> None:
    m = _Tricky()
    cached, plain, hits = _both(m, torch.randn(3, 8), monkeypatch)
    assert cached == plain
    assert hits > 0


def test_cached_calls_return_fresh_tensors_with_the_recorded_metadata() -> None:
    rec = trace_mod._Recorder({}, cache_meta=True)
    a = torch.empty_strided((4, 6), (1, 4), device="meta")  # a transposed layout
    b = torch.empty(6, device="meta")
    with rec:
        first = a * b
        second = a * b
        a.t()
        view2 = a.t()
        same = a.contiguous()
    assert rec.cache_hits == 1  # only the repeated product
    assert second is not first
    assert (second.shape, second.stride(), second.dtype) == (
        first.shape, first.stride(), first.dtype)  # fmt: skip
    assert view2._is_view() and view2._base is a  # views always run
    assert same is not a and same.is_contiguous()
