"""Verified fixes: every fix the doctor suggests is tried on a copy of the model first.

:func:`verify_fixes` re-initializes a deep copy of the model with each candidate policy
(``initlab.init(copy, x, policy=...)``), runs the doctor on the copy and keeps the before/after
verdicts, so a finding can say what its fix changed ("after ``initlab.init(model, x,
policy='he')``: verdict healthy") and ``initlab doctor ... --fix`` can apply the best one. The
model itself is never changed here.

Examples:
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(*[m for _ in range(8) for m in (nn.Linear(32, 32), nn.Tanh())])
    >>> with torch.no_grad():
    ...     for m in net[::2]:
    ...         _ = m.weight.mul_(0.05)
    >>> best = verify_fixes(net, torch.randn(16, 32), policies=("auto",))[0]
    >>> best.policy, best.verdict_before, best.verdict_after
    ('auto', 'vanishing', 'healthy')
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from torch import nn

from initlab.errors import InitError
from initlab.probe.diagnosis import STATUSES, Diagnosis

_POLICY_IN_FIX = re.compile(r"policy='([a-z_]+)'")


@dataclass(frozen=True)
class VerifiedFix:
    """One candidate fix tried on a copy of the model.

    Attributes:
        policy: the :func:`initlab.init` policy tried.
        call: the call, as the user would type it.
        verdict_before, verdict_after: the doctor's verdict without and with it.
        problems_before, problems_after: non-healthy layers without and with it.
        error: why the policy could not be applied to this model ("" when it was).
    """

    policy: str
    call: str
    verdict_before: str
    verdict_after: str
    problems_before: int
    problems_after: int
    error: str = ""

    @property
    def improves(self) -> bool:
        """The verdict got less severe, or the same verdict on fewer layers."""
        if self.error:
            return False
        b, a = _severity(self.verdict_before), _severity(self.verdict_after)
        return a > b or (a == b and self.problems_after < self.problems_before)

    def summary(self) -> str:
        if self.error:
            return f"{self.call}: not applicable ({self.error})"
        return (f"after {self.call}: verdict {self.verdict_after} ({self.problems_after} "
                f"layer(s) flagged; before: {self.verdict_before}, {self.problems_before})")

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "call": self.call, "verdict_before": self.verdict_before,
                "verdict_after": self.verdict_after, "problems_before": self.problems_before,
                "problems_after": self.problems_after, "error": self.error,
                "improves": self.improves}  # fmt: skip

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _severity(verdict: str) -> int:
    """Higher is better: healthy is the last of STATUSES (most severe first)."""
    return STATUSES.index(verdict) if verdict in STATUSES else -1


def _problems(d: Diagnosis) -> int:
    return sum(1 for r in d.layers if r.status != "healthy")


def suggested_policies(d: Diagnosis) -> tuple[str, ...]:
    """The policies the findings' fixes name, then ``auto`` (always a candidate)."""
    out: list[str] = []
    for f in d.findings:
        for p in _POLICY_IN_FIX.findall(f.fix):
            if p not in out:
                out.append(p)
    if "auto" not in out:
        out.append("auto")
    return tuple(out)


def verify_fixes(
    model: nn.Module,
    example_input: Any,
    *,
    before: Diagnosis | None = None,
    policies: Sequence[str] | None = None,
    seed: int = 0,
    doctor_fn: Callable[..., Diagnosis] | None = None,
    **doctor_kwargs: Any,
) -> list[VerifiedFix]:
    """Try each policy on a deep copy of ``model``; best first (improving, least severe after).

    Args:
        model: the model (not changed).
        example_input: what ``model(...)`` takes.
        before: the diagnosis of ``model`` as it is (computed when not given).
        policies: the policies to try (default: those the findings suggest, plus ``auto``).
        seed: the seed of ``initlab.init`` on the copies.
        doctor_fn: the doctor to run (``initlab.doctor``); ``doctor_kwargs`` go to it.

    Raises:
        InitError: the model cannot be copied (``copy.deepcopy`` failed).
    """
    from initlab.model.apply import init
    from initlab.probe.doctor import doctor

    run = doctor_fn or doctor
    before = before if before is not None else run(model, example_input, **doctor_kwargs)
    tried: list[VerifiedFix] = []
    for policy in policies if policies is not None else suggested_policies(before):
        try:
            twin = copy.deepcopy(model)
        except Exception as e:  # a model holding uncopyable state (open handles, locks)
            raise InitError(
                f"verify_fixes: cannot copy {type(model).__name__} to try a fix on it "
                f"({type(e).__name__}: {e}); apply a fix yourself and re-run the doctor"
            ) from e
        call = f"initlab.init(model, x, policy={policy!r})"
        try:
            init(twin, example_input, policy=policy, seed=seed)
        except InitError as e:
            tried.append(VerifiedFix(policy, call, before.verdict, before.verdict,
                                     _problems(before), _problems(before), str(e)))  # fmt: skip
            continue
        after = run(twin, example_input, **doctor_kwargs)
        tried.append(VerifiedFix(policy, call, before.verdict, after.verdict, _problems(before),
                                 _problems(after)))  # fmt: skip
        del twin
    tried.sort(key=lambda f: (not f.improves, -_severity(f.verdict_after), f.problems_after))
    return tried


def with_verified_fixes(d: Diagnosis, fixes: Sequence[VerifiedFix]) -> Diagnosis:
    """``d`` whose findings say what their suggested policy changed (tried on a copy)."""
    by_policy = {f.policy: f for f in fixes}
    findings = []
    for f in d.findings:
        named = _POLICY_IN_FIX.findall(f.fix)
        v = by_policy.get(named[0]) if named else None
        if v is None:
            findings.append(f)
            continue
        evidence = {**dict(f.evidence), "verified": v.to_dict()}
        findings.append(replace(f, fix=f"{f.fix}  [{v.summary()}]", evidence=evidence))
    return replace(d, findings=tuple(findings))


def best_fix(fixes: Sequence[VerifiedFix]) -> VerifiedFix | None:
    """The first fix that improves the verdict, or None."""
    return next((f for f in fixes if f.improves), None)


def apply_fix(model: nn.Module, example_input: Any, fix: VerifiedFix, seed: int = 0) -> Any:
    """Apply ``fix`` to ``model`` in place (the same call that was verified on the copy)."""
    from initlab.model.apply import init

    return init(model, example_input, policy=fix.policy, seed=seed)


__all__ = ["VerifiedFix", "apply_fix", "best_fix", "suggested_policies", "verify_fixes",
           "with_verified_fixes"]  # fmt: skip
