"""Diagnosis JSON: versioned schema, strict JSON (no NaN literals), lossless round trip."""

from __future__ import annotations

import json

import pytest
import torch
from tests.probe.models import mlp
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.probe import SCHEMA, Diagnosis


def _strict(text: str) -> object:
    def bad(c: str) -> None:
        raise AssertionError(f"non-standard JSON constant {c}")

    return json.loads(text, parse_constant=bad)


@pytest.mark.parametrize("scheme", ["he", 1.0, "zeros"])
def test_round_trip(x64, scheme):
    dx = initlab.doctor(mlp(nn.ReLU, 12, scheme), x64)
    text = dx.to_json()
    d = _strict(text)
    assert d["schema"] == SCHEMA == "initlab.diagnosis/1"
    assert list(d)[:3] == ["schema", "model", "verdict"]
    back = Diagnosis.from_json(text)
    assert back == dx
    assert back.to_json() == text


def test_nonfinite_values_are_strings(x64):
    net = mlp(nn.ReLU, 2, "he")
    with torch.no_grad():
        net[0].weight[0, 0] = float("inf")
    dx = initlab.doctor(net, x64)
    text = dx.to_json()
    _strict(text)
    assert '"inf"' in text or '"nan"' in text
    assert Diagnosis.from_json(text).to_json() == text  # NaN != NaN: compare the JSON


def test_layer_fields_documented(x64):
    """Every field of LayerReport/Finding appears in docs/doctor.md's schema section."""
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "doctor.md").read_text()
    dx = initlab.doctor(mlp(nn.Tanh, 3, 1.0), x64)
    d = dx.to_dict()
    for key in [*d, *d["layers"][0], *d["findings"][0], *d["input"]]:
        assert f"`{key}`" in doc, key


def test_wrong_schema_is_refused(x64):
    d = initlab.doctor(mlp(nn.ReLU, 2, "he"), x64).to_dict()
    d["schema"] = "initlab.diagnosis/99"
    with pytest.raises(InitError, match="re-run the doctor"):
        Diagnosis.from_dict(d)


def test_str_shows_the_seeds_columns(x64):
    text = str(initlab.doctor(mlp(nn.Tanh, 3, 0.01), x64))
    for col in ("Layer", "Mean", "Std Dev", "Max Abs", "Status", "Grad RMS", "Vanishing"):
        assert col in text
