"""Finite-width check: run real random networks and measure what the mean-field maps predict.

Each network is h^l = W^l φ(h^{l−1}) + b^l with W_ij ~ N(0, σ_w²/N) (or σ_w times a Haar
orthogonal matrix), b_i ~ N(0, σ_b²), width N, fed two inputs h^0 of variance q⁰ = |h^0|²/N
and correlation c⁰ (set exactly). Per layer we record q^l = |h^l|²/N (mean of the two inputs)
and c^l = ⟨h₁^l, h₂^l⟩/(|h₁^l||h₂^l|); optionally the singular values of the Jacobian
J = ∂φ(h^L)/∂φ(h^0) = Π_l D^l W^l, D^l = diag φ'(h^l), of the first input.

``method="conditional"`` draws the same random process in O(N) per layer instead of O(N²): W^l
is independent of everything before it and meets the two inputs only through
W^l [φ(h₁^{l−1}), φ(h₂^{l−1})], whose N rows are i.i.d. N(0, σ_w²/N · G) given the previous
layer (G the 2 × 2 Gram matrix of φ(h₁^{l−1}), φ(h₂^{l−1})). Drawing each row from that law
(a 2 × 2 Cholesky factor times two standard normals) gives exactly the joint law of the
recorded (q^l, c^l) of the matrix networks, without forming W^l (Gaussian weights only, no
Jacobian; the random numbers differ, so single runs differ, their law does not).

Examples:
    >>> sim = simulate("tanh", 2.5, 0.05, width=256, depth=3, seed=0)
    >>> sim.q.shape, sim.c.shape
    ((1, 4), (1, 4))
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from initlab.errors import InitError
from initlab.theory.jacobian import Weights, _check_depth, _check_weights
from initlab.theory.meanfield import ActivationLike, MeanField, _activation, check_variance

if TYPE_CHECKING:  # torch loads when a simulation runs: the rest of theory/ is NumPy only
    import torch


@dataclass(frozen=True)
class Simulation:
    """Measured q^l and c^l (shape ``(n_seeds, depth + 1)``; column 0 is the input) and, when
    asked for, Jacobian singular values (shape ``(n_seeds, width)``, descending)."""

    activation: str
    sigma_w2: float
    sigma_b2: float
    width: int
    depth: int
    seed: int
    weights: str
    q0: float
    c0: float
    q: np.ndarray
    c: np.ndarray
    singular_values: np.ndarray | None = None

    @property
    def q_mean(self) -> np.ndarray:
        return self.q.mean(axis=0)

    @property
    def c_mean(self) -> np.ndarray:
        return self.c.mean(axis=0)

    def theory(self) -> tuple[np.ndarray, np.ndarray]:
        """The mean-field q^l, c^l for the same inputs (see :meth:`MeanField.trajectory`)."""
        mf = MeanField(self.activation, self.sigma_w2, self.sigma_b2, q0=self.q0)
        return mf.trajectory(self.depth, q0=self.q0, c0=self.c0)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            k: getattr(self, k)
            for k in ("activation", "sigma_w2", "sigma_b2", "width", "depth", "seed", "weights")
        }
        d.update(
            q0=self.q0,
            c0=self.c0,
            q=self.q.tolist(),
            c=self.c.tolist(),
            q_mean=self.q_mean.tolist(),
            c_mean=self.c_mean.tolist(),
        )
        if self.singular_values is not None:
            d["singular_values"] = self.singular_values.tolist()
        return d

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), **kw)


def _haar(n: int, gen: torch.Generator) -> torch.Tensor:
    import torch

    a = torch.randn(n, n, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    return q * torch.sign(torch.diagonal(r))


def simulate(
    activation: ActivationLike,
    sigma_w2: float,
    sigma_b2: float,
    width: int,
    depth: int,
    seed: int = 0,
    *,
    q0: float = 1.0,
    c0: float = 0.5,
    n_seeds: int = 1,
    weights: Weights = "gaussian",
    jacobian: bool = False,
    method: str = "matrices",
) -> Simulation:
    """Propagate two inputs through ``n_seeds`` random networks and measure q^l, c^l.

    Args:
        activation: name, callable or Activation (its torch function is what runs).
        sigma_w2, sigma_b2: weight and bias variances.
        width: N, units per layer. depth: L, number of layers.
        seed: network s uses a generator seeded with ``seed + s`` (same seed, same numbers).
        q0, c0: variance and correlation of the two inputs h^0 (set exactly).
        n_seeds: independent networks (their spread estimates the finite-width error).
        weights: ``"gaussian"`` or ``"orthogonal"`` (σ_w times a Haar orthogonal matrix).
        jacobian: also return the singular values of J = ∂φ(h^L)/∂φ(h^0) (O(L N³)).
        method: ``"matrices"`` (draw every W^l, O(L N²)) or ``"conditional"`` (draw each
            layer's pre-activations from their exact law given the previous layer, O(L N); one
            NumPy generator seeded with ``seed`` draws all ``n_seeds`` networks at once).

    Examples:
        >>> sim = simulate("relu", 2.0, 0.0, width=512, depth=1, seed=0, c0=0.0, n_seeds=4)
        >>> abs(float(sim.c_mean[1]) - 1 / math.pi) < 0.05  # c₁ = 1/π (Cho & Saul 2009)
        True
    """
    where = "simulate"
    act = _activation(activation, where)
    w2 = check_variance("sigma_w2", sigma_w2, where)
    b2 = check_variance("sigma_b2", sigma_b2, where)
    q0 = check_variance("q0", q0, where)
    L = _check_depth(depth, where)
    wk = _check_weights(weights, where)
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 2:
        raise InitError(f"{where}: width must be an integer ≥ 2, got {width!r}")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int | np.integer) or n_seeds < 1:
        raise InitError(f"{where}: n_seeds must be an integer ≥ 1, got {n_seeds!r}")
    if not -1.0 <= c0 <= 1.0:
        raise InitError(f"{where}: c0 must be a correlation in [-1, 1], got {c0!r}")
    if method not in ("matrices", "conditional"):
        raise InitError(f"{where}: method must be 'matrices' or 'conditional', got {method!r}")
    if method == "conditional":
        if wk != "gaussian" or jacobian:
            raise InitError(
                f"{where}: method='conditional' draws Gaussian weights without forming them; "
                "use method='matrices' for orthogonal weights or the Jacobian"
            )
        q, c = _conditional(act, w2, b2, int(width), L, int(seed), q0, float(c0), int(n_seeds))
        return Simulation(act.name, w2, b2, int(width), L, int(seed), wk, q0, float(c0), q, c)
    import torch  # the matrix networks only: the conditional draw is NumPy

    n = int(width)
    sw, sb = math.sqrt(w2), math.sqrt(b2)
    qs = np.empty((n_seeds, L + 1))
    cs = np.empty((n_seeds, L + 1))
    svs = np.empty((n_seeds, n)) if jacobian else None
    for s in range(n_seeds):
        gen = torch.Generator().manual_seed(int(seed) + s)
        e = torch.linalg.qr(torch.randn(n, 2, generator=gen, dtype=torch.float64))[0].T
        scale = math.sqrt(q0 * n)
        h = torch.stack([e[0], c0 * e[0] + math.sqrt(max(1.0 - c0 * c0, 0.0)) * e[1]]) * scale
        qs[s, 0], cs[s, 0] = q0, c0
        jac = torch.eye(n, dtype=torch.float64) if jacobian else None
        for layer in range(1, L + 1):
            if wk == "orthogonal":
                w = sw * _haar(n, gen)
            else:
                w = torch.randn(n, n, generator=gen, dtype=torch.float64) * (sw / math.sqrt(n))
            b = torch.randn(n, generator=gen, dtype=torch.float64) * sb
            with torch.no_grad():
                h = act.torch_fn(h) @ w.T + b
            if jac is not None:
                d = torch.from_numpy(np.asarray(act.d1(h[0].numpy()), dtype=np.float64))
                jac = d[:, None] * (w @ jac)
            sq = (h * h).sum(dim=1)
            qs[s, layer] = float(sq.mean()) / n
            cs[s, layer] = float((h[0] * h[1]).sum() / torch.sqrt(sq[0] * sq[1]))
        if jac is not None and svs is not None:
            svs[s] = torch.linalg.svdvals(jac).numpy()
    return Simulation(act.name, w2, b2, n, L, int(seed), wk, q0, float(c0), qs, cs, svs)


def _conditional(act, w2, b2, n, depth, seed, q0, c0, n_seeds):  # type: ignore[no-untyped-def]
    """``simulate(method="conditional")``: all networks at once, (S, N) arrays per input."""
    rng = np.random.default_rng(seed)
    sw, sb = math.sqrt(w2), math.sqrt(b2)
    qs = np.empty((n_seeds, depth + 1))
    cs = np.empty((n_seeds, depth + 1))
    qs[:, 0], cs[:, 0] = q0, c0
    # two inputs of variance q0 and correlation c0 exactly (an orthonormal pair, as "matrices")
    e, _ = np.linalg.qr(rng.standard_normal((n_seeds, n, 2)))
    scale = math.sqrt(q0 * n)
    h1 = e[..., 0] * scale
    h2 = (c0 * e[..., 0] + math.sqrt(max(1.0 - c0 * c0, 0.0)) * e[..., 1]) * scale
    with np.errstate(all="ignore"):
        for layer in range(1, depth + 1):
            x1, x2 = act.fn(h1), act.fn(h2)
            g11 = np.einsum("sn,sn->s", x1, x1)[:, None]
            g22 = np.einsum("sn,sn->s", x2, x2)[:, None]
            g12 = np.einsum("sn,sn->s", x1, x2)[:, None]
            a = np.sqrt(g11)
            l21 = np.where(a > 0, g12 / np.where(a > 0, a, 1.0), 0.0)
            l22 = np.sqrt(np.maximum(g22 - l21 * l21, 0.0))
            z = rng.standard_normal((2, n_seeds, n)) * (sw / math.sqrt(n))
            b = rng.standard_normal((n_seeds, n)) * sb
            h1 = a * z[0] + b
            h2 = l21 * z[0] + l22 * z[1] + b
            s1 = np.einsum("sn,sn->s", h1, h1)
            s2 = np.einsum("sn,sn->s", h2, h2)
            qs[:, layer] = 0.5 * (s1 + s2) / n
            cs[:, layer] = np.einsum("sn,sn->s", h1, h2) / np.sqrt(s1 * s2)
    return qs, cs


__all__ = ["Simulation", "simulate"]
