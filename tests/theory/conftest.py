"""One torch thread for the theory tests: their matrices are small (N ≤ 1000), and on a shared
2-core machine torch's thread pool spins against other processes (10× slower, measured)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
