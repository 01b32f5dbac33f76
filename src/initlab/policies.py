"""Policies with options, as values: ``initlab.init(model, x, policy=initlab.policies.critical(
sigma_b2=0.05))``.

A policy is a name (``policy="critical"``) or, when it takes options, a :class:`Policy` built
here; the string form ``"critical(sigma_b2=0.05)"`` (what ``str()`` of the value prints, what
``InitPlan.policy`` records and what ``initlab plan --policy`` takes) is the same policy. Each
policy and its source: :mod:`initlab.model.policies` and docs/model_init.md.

Examples:
    >>> import initlab
    >>> str(initlab.policies.critical(sigma_b2=0.05))
    'critical(sigma_b2=0.05)'
    >>> initlab.policies.parse("critical(q_star=1)") == initlab.policies.critical(q_star=1.0)
    True
"""

from __future__ import annotations

from initlab.model.policies import (
    LSTM_FORGET_BIAS,
    POLICIES,
    POLICY_OPTIONS,
    Policy,
    make_policy,
)


def parse(spec: str | Policy) -> Policy:
    """A :class:`Policy` from ``"name"`` or ``"name(key=value, ...)"`` (validated).

    Examples:
        >>> parse("auto(lstm_forget_bias=0)").get("lstm_forget_bias")
        0.0
    """
    return make_policy(spec)


def auto(lstm_forget_bias: float | None = None) -> Policy:
    """The guideline table; ``lstm_forget_bias`` (default 1, Jozefowicz et al. 2015) is the
    LSTM forget-gate bias (0: all biases 0).

    Examples:
        >>> str(auto(lstm_forget_bias=0.0))
        'auto(lstm_forget_bias=0)'
    """
    return make_policy("auto", lstm_forget_bias=lstm_forget_bias)


def zero_residual(lstm_forget_bias: float | None = None) -> Policy:
    """``auto`` + zero-γ on each residual branch (Goyal et al. 2017); options as :func:`auto`.

    Examples:
        >>> str(zero_residual())
        'zero_residual'
    """
    return make_policy("zero_residual", lstm_forget_bias=lstm_forget_bias)


def critical(sigma_b2: float | None = None, q_star: float | None = None) -> Policy:
    """Edge of chaos (Poole et al. 2016; Schoenholz et al. 2017): weights N(0, σ_w²/fan_in),
    biases N(0, σ_b²), the point of each layer's activation's critical line χ₁ = 1 chosen by
    :func:`initlab.theory.critical_init`: at bias variance ``sigma_b2``, or at fixed point
    ``q_star`` (Xiao et al. 2018), or (neither) σ_b = 0 where that point is stable (tanh, ReLU),
    else the smallest q* ≥ 1 whose fixed point attracts (GELU q* ≈ 5.1). A layer whose
    activation has no critical point at the given option (e.g. a linear output layer with
    σ_b² > 0) gets the default point, and its plan row says so.

    Examples:
        >>> critical(sigma_b2=0.05).get("sigma_b2")
        0.05
    """
    return make_policy("critical", sigma_b2=sigma_b2, q_star=q_star)


__all__ = [
    "LSTM_FORGET_BIAS",
    "POLICIES",
    "POLICY_OPTIONS",
    "Policy",
    "auto",
    "critical",
    "parse",
    "zero_residual",
]
