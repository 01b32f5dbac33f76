"""Doctor figures and HTML: written, self-contained, robust to models without activation modules."""

from __future__ import annotations

import torch
from torch import nn

import initlab
from initlab.report.doctor_table import sci


def test_plot_and_html_without_activation_modules(tmp_path):
    class Fn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(torch.tanh(self.a(x)))

    dx = initlab.doctor(Fn(), torch.randn(16, 8))
    png = dx.plot(tmp_path / "sub" / "dx.png")
    assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"
    page = dx.to_html(tmp_path / "dx.html").read_text()
    assert page.count("data:image/png;base64,") == 1
    assert "http" not in page.replace("initlab", "")  # no external resource


def test_seeds_number_format():
    assert [sci(v) for v in (0.523, 0.0, 3.05, 1e-40, float("inf"), None)] == [
        "5.23e-1", "0.00e+0", "3.05e+0", "1.00e-40", "inf", "—",
    ]
