"""Presentation in report/ only (issue 10, item 2): results render through initlab.views,
filled by report/ at import; lower layers never import report/ (tests/test_layers.py)."""

import pytest
import torch
from torch import nn

import initlab
from initlab.errors import InitError
from initlab.report.plan_table import plan_text
from initlab.views import render


def test_plan_str_is_the_report_table():
    m = nn.LSTM(4, 4)
    p = initlab.plan(m, torch.randn(3, 2, 4))
    text = str(p)
    assert text == plan_text(p)
    assert "= 0/1/0/0" in text  # the LSTM forget-gate bias, drawn from the scheme itself
    assert "written" in text


def test_diagnosis_views():
    dx = initlab.doctor(nn.Sequential(nn.Linear(8, 8), nn.ReLU()), torch.randn(16, 8))
    assert str(dx) == render(dx, "text")


def test_missing_view_is_a_clear_error():
    with pytest.raises(InitError, match=r"no 'rich' view of int is registered.*initlab\.report"):
        render(3, "rich")
