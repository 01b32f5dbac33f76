"""Real architectures trace and plan the same with and without the trace's meta-op cache."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from tests.model.test_model_trace_cache import _both
from tests.real.models import build


@pytest.mark.parametrize("name", ["llama", "t5", "mixtral", "mamba", "vit", "unet"])
def test_graphs_and_plans_are_the_same_with_and_without_the_cache(name, monkeypatch) -> None:
    r = build(name)
    cached, plain, hits = _both(r.model, r.example, monkeypatch)
    assert cached == plain
    assert hits > 0 or cached[0]["device"] != "meta"
