"""Fixtures for the core tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_intra_op_thread():
    """Run each core test module with one torch intra-op thread, then restore the setting.

    The tensors here are small, so one thread is as fast; and on the shared 2-core machine the
    default two threads per process spin against the other jobs (a 128 × 32 QR took 1.5 s under
    load instead of a millisecond). Nothing here asserts on time: this only keeps the suite fast.
    """
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
