"""``initlab scale`` and ``initlab gain`` start without torch (issue 15: ``initlab scale`` in
under 1.5 s; torch alone costs about a second to import). Each check runs in a fresh interpreter,
since this test process has torch loaded already; ``benchmarks/bench_startup.py`` measures the
time itself (tests never assert on wall-clock time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# After each step, which of the heavy libraries are loaded. A step that should stay light but
# loads one names itself in the failure.
_SCRIPT = r"""
import contextlib, io, json, sys

def loaded():
    return sorted(m for m in ("torch", "scipy") if m in sys.modules)

def cli(*argv):
    from initlab.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(list(argv))
        except SystemExit as e:
            assert e.code in (0, None), (argv, e.code)
    return out.getvalue()

steps = {}
import initlab, initlab.core
dir(initlab), dir(initlab.core), initlab.core.__all__
steps["import initlab; dir()"] = loaded()
from initlab.core import fans
fan_in = fans((512, 1024)).fan_in
from initlab.core.scales import scheme_scales
he = [r for r in scheme_scales(1024, 512, "tanh") if r.scheme == "he"][0]
steps["fans((512, 1024)); scheme_scales(1024, 512, 'tanh')"] = loaded()
table = cli("scale", "1024", "512", "--activation", "tanh")
steps["initlab scale 1024 512 --activation tanh"] = loaded()
gain = json.loads(cli("gain", "tanh", "--json"))
steps["initlab gain tanh"] = loaded()
print(json.dumps({"steps": steps, "fan_in": fan_in, "he_bound": he.uniform_bound, "table": table,
                  "gain": gain["variance_gain"], "critical": gain["critical_init"]}))
"""


def test_scale_and_gain_do_not_import_torch():
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout.splitlines()[-1])
    steps = d["steps"]
    # import and the scale path need neither torch nor SciPy (the tanh moments are NumPy
    # quadrature); gain's critical point solves with scipy.optimize, but needs no torch either
    assert steps["import initlab; dir()"] == []
    assert steps["fans((512, 1024)); scheme_scales(1024, 512, 'tanh')"] == []
    assert steps["initlab scale 1024 512 --activation tanh"] == []
    assert "torch" not in steps["initlab gain tanh"]
    # ...and they still compute: He with tanh's variance gain, g² = 1/E[tanh(z)²] with
    # E[tanh(z)²] = 0.39429449 (the quadrature oracle of tests/core), b = √3·g/√1024; the
    # oracle has 8 digits, so rel 1e-7
    assert d["fan_in"] == 1024  # fans of a plain shape
    assert d["he_bound"] == pytest.approx(3**0.5 / 0.39429449**0.5 / 32, rel=1e-7)
    assert "±0.086199" in d["table"] and "±0.0625" in d["table"]  # He (tanh) and Xavier rows
    assert abs(d["gain"] - 1.592537) < 1e-6
    assert d["critical"]["sigma_w"] == 1.0  # tanh, σ_b = 0: σ_w² = 1/φ'(0)² (Poole et al. 2016)
