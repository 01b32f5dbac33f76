"""Claim 4 (input-gradient sensitivity, FGSM) at a tiny size."""

import pytest

from initlab.errors import InitError
from initlab.lab.claims import run_claim
from initlab.lab.experiment import Verdict

TINY = {"depths": (2, 4), "alphas": (0.5, 1.0, 2.0), "width": 32, "seeds": 2}


def test_relu_exponent_is_exactly_half_depth_and_tanh_is_not():
    # ReLU nets with zero biases are positively homogeneous: f(x; √α W) = α^{L/2} f(x; W),
    # so the scaling law holds (up to the softmax's α-dependence of ∂ℓ/∂f) → supported
    relu = run_claim("input_gradient", activations=("relu",), fgsm=False, **TINY)
    assert relu.verdict == Verdict.SUPPORTED
    assert relu.effect("exponent relu L=4").value == pytest.approx(2.0, rel=0.1)
    # tanh saturates as α grows: the exponent falls short of L/2 → the verdict flips
    tanh = run_claim("input_gradient", activations=("tanh",), fgsm=False, **TINY)
    assert tanh.verdict == Verdict.NOT_SUPPORTED
    assert tanh.effect("exponent tanh L=4").value < 1.8


def test_fgsm_part_is_measured_at_init_and_after_training():
    r = run_claim("input_gradient", activations=("relu",), fgsm_samples=40, train_epochs=1,
                  **TINY)
    assert set(r.numbers["checks"]) == {"exponent_relu", "hot_more_fragile_init",
                                        "hot_more_fragile_trained"}
    e = r.effect("FGSM ε ratio α=2/α=1 (init)")
    assert e.n == 2 and e.value > 0


@pytest.mark.parametrize("kw", [{"alphas": (1.0,)}, {"alphas": (1.0, 1.0)},
                                {"activations": ("gelu",)}, {"depths": (1,)}])
def test_input_gradient_bad_input(kw):
    with pytest.raises(InitError):
        run_claim("input_gradient", **{**TINY, "fgsm": False, **kw})
