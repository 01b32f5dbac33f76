"""Start-up cost of the CLI against the interpreter's own start (``python -c pass``).

Targets (issue "A person's first hour"): ``initlab --help`` < 0.5 s and ``initlab scale 1024
512`` < 1.5 s (with or without ``--activation tanh``). Each command is a fresh process; the
commands run interleaved (A B C A B C …) so a drift of the machine's speed hits all of them alike;
medians are printed, with the ratio to ``python -c pass``, and the load average before and after
(2 shared cores: a loaded machine slows every line).

    python benchmarks/bench_startup.py               # 7 rounds
    python benchmarks/bench_startup.py --rounds 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "initlab --help": [sys.executable, "-m", "initlab", "--help"],
    "initlab scale 1024 512": [sys.executable, "-m", "initlab", "scale", "1024", "512"],
    "initlab scale 1024 512 --activation tanh": [
        sys.executable, "-m", "initlab", "scale", "1024", "512", "--activation", "tanh",
    ],
    "initlab gain tanh": [sys.executable, "-m", "initlab", "gain", "tanh"],
    "import initlab": [sys.executable, "-c", "import initlab"],
}
TARGETS = {
    "initlab --help": 0.5,
    "initlab scale 1024 512": 1.5,
    "initlab scale 1024 512 --activation tanh": 1.5,
}


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    load_before = os.getloadavg()
    for cmd in COMMANDS.values():  # warm the file cache
        _time(cmd)
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(args.rounds):
        for name, cmd in COMMANDS.items():
            times[name].append(_time(cmd))
    base = statistics.median(times["python -c pass"])
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
          f"{load_after[2]:.2f}; {args.rounds} rounds")
    print(f"{'command':<42}{'median s':>10}{'min s':>9}{'max s':>9}{'× python':>10}"
          f"{'target s':>10}")
    for name, ts in times.items():
        med = statistics.median(ts)
        target = TARGETS.get(name)
        print(f"{name:<42}{med:>10.3f}{min(ts):>9.3f}{max(ts):>9.3f}{med / base:>10.1f}"
              f"{'' if target is None else f'{target:>10.1f}'}")


if __name__ == "__main__":
    main()
