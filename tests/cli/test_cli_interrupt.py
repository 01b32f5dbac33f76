"""Ctrl-C during start-up or work: one line on stderr, exit 130, no traceback."""

import os
import signal
import subprocess
import sys
import time

import pytest

from initlab import entry


def test_interrupt_during_startup_is_one_line(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def interrupted_import(name, *args, **kwargs):
        if name == "initlab.cli":
            raise KeyboardInterrupt  # as if Ctrl-C landed while the CLI was importing
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted_import)
    with pytest.raises(SystemExit) as e:
        entry.main(["--help"])
    assert e.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX here")
def test_sigint_to_a_real_process_exits_130_without_traceback(tmp_path):
    # 0.3 s after the start the process is still importing torch/SciPy (≥ 1 s on any machine)
    delay = 0.3
    p = subprocess.Popen(
        [sys.executable, "-m", "initlab", "phase", "tanh", "--points", "2000", "--json",
         "--out", str(tmp_path / "phase.png")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert not (tmp_path / "phase.png").exists()
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith("interrupted")
