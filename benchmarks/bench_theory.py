"""Benchmark: initlab.theory vs a straightforward scipy ``integrate.quad`` reference.

1. A 200 × 200 tanh phase diagram (σ_w² ∈ [0.5, 4], σ_b² ∈ [0, 0.3]): q*, χ₁, c*, ξ_c.
   Reference, per grid point: q* by ``brentq`` on σ_w² M(q) + σ_b² − q with M(q) by ``quad``;
   χ₁ by ``quad``; in the chaotic phase c* by ``brentq`` on the correlation map with
   E[φ(u₁)φ(u₂)] by ``dblquad``, then χ_c by ``dblquad``. The reference is far too slow for
   40 000 points, so it runs on a random subsample (``--sample``, default 24 points, half of
   them chaotic) and its time is EXTRAPOLATED linearly to the full grid (per-point cost × 40 000).
2. The tanh critical line at 101 values of σ_b² ∈ [0, 1]: ``critical_line`` vs ``brentq`` on
   σ_b²(q) = q − M(q)/D(q) with ``quad`` moments (run in full, no extrapolation).

Prints the times (CPU seconds of this process, and wall), their ratio and the largest relative
difference between the two methods.

    python benchmarks/bench_theory.py [--sample 24] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import integrate, optimize

from initlab import theory

SQ2PI = math.sqrt(2 * math.pi)


def pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / SQ2PI


def d1(x: float) -> float:
    return 1.0 - math.tanh(x) ** 2


def m_quad(q: float) -> float:
    s = math.sqrt(q)
    return integrate.quad(
        lambda z: math.tanh(s * z) ** 2 * pdf(z), -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12
    )[0]


def d_quad(q: float) -> float:
    s = math.sqrt(q)
    return integrate.quad(
        lambda z: d1(s * z) ** 2 * pdf(z), -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12
    )[0]


def k_dblquad(f, q: float, c: float) -> float:  # type: ignore[no-untyped-def]
    s, r = math.sqrt(q), math.sqrt(max(1 - c * c, 0.0))

    def integrand(z2: float, z1: float) -> float:
        return f(s * z1) * f(s * (c * z1 + r * z2)) * pdf(z1) * pdf(z2)

    return integrate.dblquad(integrand, -10, 10, -10, 10, epsabs=1e-11, epsrel=1e-10)[0]


def reference_point(w2: float, b2: float) -> dict[str, float]:
    def g(q: float) -> float:
        return w2 * m_quad(q) + b2 - q

    lo = 1e-10
    q = 0.0 if g(lo) <= 0 else optimize.brentq(g, lo, w2 + b2 + 1.0, xtol=1e-14, rtol=1e-13)
    chi1 = w2 * (d_quad(q) if q > 0 else 1.0)
    c, chi_c = 1.0, chi1
    if chi1 > 1 + 1e-5:

        def h(c: float) -> float:
            return (w2 * k_dblquad(math.tanh, q, c) + b2) / q - c

        c = 0.0 if b2 == 0 else optimize.brentq(h, 0.0, 1 - 1e-7, xtol=1e-12, rtol=1e-12)
        chi_c = w2 * k_dblquad(d1, q, c)
    xi_c = math.inf if abs(chi_c - 1) < 1e-12 else -1 / math.log(chi_c)
    return {"q_star": q, "chi1": chi1, "c_star": c, "xi_c": xi_c}


def timed(fn):  # type: ignore[no-untyped-def]
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    w = np.linspace(0.5, 4.0, 200)
    b = np.linspace(0.0, 0.3, 200)

    theory.phase_diagram("tanh", w[:5], b[:5])  # warm caches (quadrature nodes)
    runs = [timed(lambda: theory.phase_diagram("tanh", w, b)) for _ in range(3)]
    pd = runs[0][0]
    cpu = min(r[1] for r in runs)
    wall = min(r[2] for r in runs)

    rng = np.random.default_rng(args.seed)
    chaotic = np.argwhere(pd.phase == 2)
    ordered = np.argwhere(pd.phase == 0)
    half = args.sample // 2
    picks = np.concatenate(
        [
            chaotic[rng.choice(len(chaotic), half, replace=False)],
            ordered[rng.choice(len(ordered), args.sample - half, replace=False)],
        ]
    )
    worst = {"q_star": 0.0, "chi1": 0.0, "c_star": 0.0, "xi_c": 0.0}
    c0, w0 = time.process_time(), time.perf_counter()
    for i, j in picks:
        ref = reference_point(float(w[j]), float(b[i]))
        ours = {
            "q_star": pd.q_star[i, j],
            "chi1": pd.chi1[i, j],
            "c_star": pd.c_star[i, j],
            "xi_c": pd.xi_c[i, j],
        }
        for k in worst:
            if math.isfinite(ref[k]) and ref[k] != 0:
                worst[k] = max(worst[k], abs(ours[k] - ref[k]) / abs(ref[k]))
            elif ref[k] == 0:
                worst[k] = max(worst[k], abs(ours[k]))
    ref_cpu = (time.process_time() - c0) / len(picks) * w.size * b.size
    ref_wall = (time.perf_counter() - w0) / len(picks) * w.size * b.size

    print("== 200 x 200 tanh phase diagram ==")
    print(f"initlab.theory.phase_diagram : {cpu:8.3f} s CPU  {wall:8.3f} s wall (best of 3)")
    print(
        f"scipy quad/dblquad reference : {ref_cpu:8.0f} s CPU  {ref_wall:8.0f} s wall "
        f"(EXTRAPOLATED from {len(picks)} points, {half} chaotic)"
    )
    print(f"speed-up (CPU)               : {ref_cpu / cpu:8.0f} x")
    print(
        "max relative difference on the sample: "
        + ", ".join(f"{k} {v:.1e}" for k, v in worst.items())
    )

    bl = np.linspace(0.0, 1.0, 101)
    theory.critical_line("tanh", sigma_b2=bl[:3])
    runs = [timed(lambda: theory.critical_line("tanh", sigma_b2=bl)) for _ in range(3)]
    line = runs[0][0]
    cpu = min(r[1] for r in runs)
    wall = min(r[2] for r in runs)

    def ref_line():  # type: ignore[no-untyped-def]
        out = []
        for bb in bl:
            if bb == 0:
                out.append(1.0)
                continue
            q = optimize.brentq(
                lambda q, bb=bb: q - m_quad(q) / d_quad(q) - bb, 1e-8, 100.0, xtol=1e-14, rtol=1e-13
            )
            out.append(1 / d_quad(q))
        return np.array(out)

    ref, rcpu, rwall = timed(ref_line)
    diff = np.max(np.abs(line.sigma_w2 - ref) / ref)
    print("== tanh critical line, 101 values of sigma_b2 in [0, 1] ==")
    print(f"initlab.theory.critical_line : {cpu:8.3f} s CPU  {wall:8.3f} s wall (best of 3)")
    print(f"scipy quad + brentq          : {rcpu:8.3f} s CPU  {rwall:8.3f} s wall (full run)")
    print(f"speed-up (CPU)               : {rcpu / cpu:8.1f} x")
    print(f"max relative difference of critical sigma_w2: {diff:.1e}")


if __name__ == "__main__":
    main()
