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


def test_lsuv_and_mup_tables_render_from_report():
    """The model layer's other tables (LSUV report, μP table) are report/ views too."""
    from rich.console import Console

    from initlab import mup
    from initlab.report.model_tables import lsuv_text, mu_table_text

    r = initlab.lsuv(nn.Sequential(nn.Linear(8, 8), nn.Tanh()), torch.randn(64, 8))
    assert str(r) == lsuv_text(r)
    assert "LSUV: target std 1.0" in str(r) and "initial std" in str(r)
    pol = mup.policy(factory=lambda w: nn.Sequential(nn.Linear(4, w), nn.Linear(w, 2)),
                     widths=(8, 16))
    t = mup.table(initlab.plan(nn.Sequential(nn.Linear(4, 32), nn.Linear(32, 2)), policy=pol))
    assert str(t) == mu_table_text(t)
    assert "μP table · optimizer adam" in str(t) and "1.weight" in str(t)
    for obj in (r, t):  # rich draws them through __rich__
        console = Console(width=120, color_system=None, record=True, file=None)
        with console.capture() as cap:
            console.print(obj)
        assert str(obj).splitlines()[0].strip() in cap.get()
