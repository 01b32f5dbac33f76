"""Responsiveness of the explorer: server time per control move in views 1–4 (target p95 < 150 ms).

Starts ``initlab explore`` as a user would (a uvicorn subprocess on a free port, ``--no-open``),
then plays control moves the way a learner drags a slider or flips a menu: every move is a
request with parameters the server has not seen (no cache hit), and the server's own time
(the ``Server-Timing`` header: validation + library computation + JSON) is recorded, as wall
time and as the server process's CPU time: one torch thread computes a move, so on an idle
machine wall ≈ CPU, while on a shared, loaded machine the wall time also counts waiting for a
core. Per view: p50 and p95 over the moves, and p95 CPU / 150 ms (≤ 1 meets the target).
View 4 (phase diagram) counts what the page requests for a move: a slider or a click on the map
is one ``/api/phase/point``; a new activation is ``/api/phase/map`` + ``/api/phase/point`` (their
times are added).
Side by side, the same first view computed the way a learner without the explorer would get
it: a fresh ``python -m initlab doctor`` process on the same network (import + build + init +
doctor), whose time is what one "move" costs there.

    python benchmarks/bench_explorer.py             # default sizes (width 128, depth 20, batch 64)
    python benchmarks/bench_explorer.py --quick     # a few moves per view (smoke run)
    python benchmarks/bench_explorer.py --src /tmp/old/src   # the same moves on another checkout
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

TARGET_MS = 150.0
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[float, float, float]:
    """(server wall ms, server CPU ms, round trip ms) of one request."""
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        r.read()
        timing = dict(part.strip().split(";dur=") for part in
                      r.headers["Server-Timing"].split(","))
    return float(timing["app"]), float(timing["cpu"]), (time.perf_counter() - t0) * 1e3


def _p95(values: list[float]) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(0.95 * (len(v) - 1)))]


ACTIVATIONS = ("relu", "gelu", "sigmoid", "linear", "leaky_relu", "elu", "selu", "silu",
               "softplus", "mish")  # the page's menu after its default (tanh)


def _phase_moves(n: int) -> list[tuple[bool, dict[str, object]]]:
    """View 4: (new activation?, the page's point request) — sliders, clicks, the menu."""
    p: dict[str, object] = {"activation": "tanh", "sigma_w2": 1.5, "sigma_b2": 0.05, "depth": 30}
    out = []
    for i in range(n):
        p = dict(p)
        k = i % 5
        new_act = False
        if k == 0:
            p["activation"] = ACTIVATIONS[(i // 5) % len(ACTIVATIONS)]
            new_act = True
        elif k == 1:
            p["sigma_w2"] = round(0.5 + (0.37 * i) % 3.5, 2)  # the σ_w² slider
        elif k == 2:
            p["sigma_b2"] = round((0.035 * i) % 0.3, 3)  # the σ_b² slider
        elif k == 3:
            p["depth"] = 5 * (1 + (7 * i) % 40)  # the depth slider: 5 … 200
        else:  # a click on the map
            p["sigma_w2"] = round(0.5 + (1.13 * i) % 3.5, 3)
            p["sigma_b2"] = round((0.071 * i) % 0.3, 3)
        out.append((new_act, p))
    return out


def _moves(view: str, n: int) -> list[dict[str, object]]:
    """Distinct control positions around the page's defaults, one control moved at a time."""
    if view == "weights":
        base = {"scheme": "xavier", "fan_in": 1024, "fan_out": 512, "distribution": "uniform"}
        out = []
        for i in range(n):
            m = dict(base)
            k = i % 4
            if k == 0:
                m["fan_in"] = 256 + 37 * i
            elif k == 1:
                m["fan_out"] = 128 + 29 * i
            elif k == 2:
                m["scheme"] = ("lecun", "he", "he_fan_out", "torch_default", "small")[i % 5]
                m["fan_in"] = 1000 + i
            else:
                m["distribution"] = ("normal", "truncated_normal")[i % 2]
                m["fan_out"] = 500 + i
            out.append(m)
        return out
    depth0 = 20 if view == "variance" else 8
    base = {"activation": "relu", "start": "he", "width": 128, "depth": depth0, "sigma_b": 0.0,
            "input_scale": 1.0}
    starts = ("zeros", "small", "normal", "xavier", "lecun", "orthogonal", "torch", "auto",
              "critical", "he")
    out = []
    for i in range(n):
        m = dict(base)
        k = i % 5
        if k == 0:
            m["start"] = starts[(i // 5) % len(starts)]
            m["sigma_b"] = round(0.01 * (i + 1), 2)  # keep each move unseen by the cache
        elif k == 1:
            m["depth"] = depth0 - 4 + (i % 9)
            m["input_scale"] = round(1 + 0.01 * i, 2)
        elif k == 2:
            m["width"] = 96 + 16 * (i % 5)
            m["sigma_b"] = round(0.005 * i, 3)
        elif k == 3:
            m["activation"] = ("tanh", "relu", "gelu")[i % 3]
            m["input_scale"] = round(0.9 + 0.01 * i, 2)
        else:
            m["sigma_b"] = round(0.02 * i, 2)
        out.append(m)
    return out


def _cli_seconds() -> float:
    """A fresh `initlab doctor` process on the variance view's default network."""
    src = (
        "from initlab.lab.zoo import deep_mlp\n"
        "def net():\n    return deep_mlp(20, 128, 128, 128, 'relu')\n"
    )
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench_net.py"
        path.write_text(src)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "initlab", "doctor", f"{path}:net", "--input-shape", "64,128",
             "--init", "he", "--json"],
            check=True, capture_output=True, env=_env(),
        )
        return time.perf_counter() - t0


SRC = ROOT / "src"


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(SRC)}


def _phase_rows(base: str, n: int) -> list[tuple[str, float, float, float, float, float]]:
    """View 4's moves: all of them, then sliders/clicks and activation changes apart."""
    moves: dict[str, list[tuple[float, float, float]]] = {"point": [], "activation": []}
    for new_act, p in _phase_moves(n):
        w = c = t = 0.0
        if new_act:
            # what the page asks for (the old page, without the parameter, got the full map)
            a, b, r = _get(base + "/api/phase/map?" + urllib.parse.urlencode(
                {"activation": p["activation"], "correlation": "false"}))
            w, c, t = w + a, c + b, t + r
        a, b, r = _get(base + "/api/phase/point?" + urllib.parse.urlencode(p))
        moves["activation" if new_act else "point"].append((w + a, c + b, t + r))
    out = []
    for label, ms in (("4 phase: every move", moves["point"] + moves["activation"]),
                      ("4 phase: slider or click (point)", moves["point"]),
                      ("4 phase: new activation (map + point)", moves["activation"])):
        if not ms:
            continue
        wall, cpu, total = ([m[j] for m in ms] for j in range(3))
        out.append((label, statistics.median(wall), _p95(wall), statistics.median(cpu),
                    _p95(cpu), statistics.median(total)))
    return out


def main() -> None:
    global SRC
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 moves per view")
    ap.add_argument("--moves", type=int, default=40, help="control moves per view")
    ap.add_argument("--src", type=Path, default=SRC, help="the initlab source tree to serve")
    args = ap.parse_args()
    SRC = args.src.resolve()
    n = 5 if args.quick else args.moves
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "initlab", "explore", "--no-open", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/api/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(proc.communicate()[0]) from None
                time.sleep(0.2)
        startup = time.perf_counter() - t0
        print(f"initlab explore: {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; server up in "
              f"{startup:.1f} s (warm-up included); {n} moves per view, every one unseen")
        rows = []
        for view, path in (("1 variance", "/api/signal"), ("2 weights", "/api/weights"),
                           ("3 signal table", "/api/signal")):
            key = view.split()[1]
            wall, cpu, total = [], [], []
            for m in _moves(key, n):
                w, c, t = _get(base + path + "?" + urllib.parse.urlencode(m))
                wall.append(w)
                cpu.append(c)
                total.append(t)
            rows.append((view, statistics.median(wall), _p95(wall), statistics.median(cpu),
                         _p95(cpu), statistics.median(total)))
        rows += _phase_rows(base, n)
        cached = _get(base + "/api/signal")[0]  # the default position again: a cache hit
        cli = _cli_seconds()
        print(f"\n| view | p50 wall ms | p95 wall ms | p50 CPU ms | p95 CPU ms | p50 round trip ms "
              f"| p95 CPU / {TARGET_MS:.0f} ms |")
        print("|---|---|---|---|---|---|---|")
        for view, w50, w95, c50, c95, rt in rows:
            print(f"| {view} | {w50:.1f} | {w95:.1f} | {c50:.1f} | {c95:.1f} | {rt:.1f} | "
                  f"**{c95 / TARGET_MS:.2f}×** |")
        print(f"\nmoving back to a seen position (cache hit): {cached:.2f} ms")
        print(f"the same view 1 network from a fresh `initlab doctor` process: {cli * 1e3:.0f} ms "
              f"wall = {cli * 1e3 / rows[0][2]:.0f}× the explorer's p95 wall time per move")
        print(json.dumps({"rows": rows, "cache_hit_ms": cached, "cli_ms": cli * 1e3}))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
