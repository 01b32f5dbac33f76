from __future__ import annotations

import pytest
import torch


@pytest.fixture
def x64() -> torch.Tensor:
    return torch.randn(64, 64, generator=torch.Generator().manual_seed(1))
