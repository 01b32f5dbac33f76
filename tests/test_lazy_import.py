"""``import initlab`` is lazy (PEP 562): probing a dunder name that does not exist (doctest's
``__test__``, pickle's and inspect's probes) must not import torch just to say no."""

from __future__ import annotations

import subprocess
import sys


def test_missing_dunder_does_not_load_torch():
    code = ("import sys, initlab; assert not hasattr(initlab, '__test__'); "
            "assert not hasattr(initlab, '__wrapped__'); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "False"

