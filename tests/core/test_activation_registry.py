"""One activation registry (issue 10, item 4): the torch module of an activation, the name of
its gated product, and whether its units can die or saturate are attributes of Activation, read
from one table in core/activations.py; the doctor's tables are derived from them."""

import pytest
import torch
from torch import nn

from initlab.core.activations import (
    ACTIVATION_MODULES,
    GLU_PRODUCTS,
    get_activation,
    glu_product_name,
)
from initlab.probe import hooks


@pytest.mark.parametrize(("cls", "name"), sorted(ACTIVATION_MODULES.items(), key=lambda kv: kv[1]))
def test_module_type_round_trips(cls, name):
    """Every activation module maps to its registry name and back; an instance of the module
    gives an Activation with that module type."""
    act = get_activation(name)
    assert act.module_type is cls
    module = cls() if cls is not nn.PReLU else nn.PReLU(init=0.25)
    assert get_activation(module).module_type is cls


def test_variants_keep_their_module_type():
    assert get_activation("gelu", approximate="tanh").module_type is nn.GELU
    assert get_activation("swiglu").module_type is None


def test_families():
    assert get_activation("relu").can_die and get_activation("relu6").can_die
    assert not get_activation("leaky_relu").can_die and not get_activation("gelu").can_die
    assert not get_activation("relu").saturates and not get_activation("prelu").saturates
    assert get_activation("tanh").saturates and get_activation("gelu").saturates


def test_glu_products():
    assert {g: get_activation(g).glu_product for g in GLU_PRODUCTS} == GLU_PRODUCTS
    assert glu_product_name("tanh") == "tanh_glu"
    for gate, product in GLU_PRODUCTS.items():
        glu, phi = get_activation(product), get_activation(gate)
        assert glu.glu  # the product is a registered GLU activation of this gate:
        # E[(φ(a) b)²] = q E[φ(a)²] with a, b ~ N(0, q) independent, so equal at q = 1
        assert float(glu.second_moment(1.0)) == pytest.approx(float(phi.second_moment(1.0)),
                                                              rel=1e-10)


def test_doctor_tables_are_derived_from_the_registry():
    """The doctor taps exactly the registry's modules and measures dead/saturated shares from
    the Activation attributes (unchanged sets: dead {relu, relu6}, no saturation
    {relu, leaky_relu, prelu})."""
    assert hooks.ACTIVATION_TYPES is ACTIVATION_MODULES
    assert hooks.DEAD_FAMILY == {"relu", "relu6"}
    assert hooks.NO_SATURATION == {"relu", "leaky_relu", "prelu"}


def test_a_registered_activation_is_one_call():
    """Adding an activation is one register_activation call: gains, theory and schemes see it."""
    import initlab
    from initlab.core import activations

    initlab.register_activation("softclip_test", lambda x: torch.tanh(x) * 1.5, overwrite=True)
    try:
        g = initlab.gain("softclip_test")
        assert g == pytest.approx(initlab.gain("tanh") / 1.5, rel=1e-6)
        w = initlab.schemes.he()(torch.empty(64, 64), activation="softclip_test")
        assert w.abs().max() > 0
    finally:
        activations._USER.pop("softclip_test", None)


def test_textbook_scheme_matches_the_auto_policy():
    """The auto policy and the doctor's reference scheme both read the registry (one table)."""
    from initlab.model import policies
    from initlab.probe.advice import reference_scheme

    for name in ("linear", "tanh", "sigmoid", "softsign", "hardtanh", "hardsigmoid"):
        assert get_activation(name).textbook_scheme == "xavier"
        assert policies._textbook_scheme(name) == "xavier"
        assert reference_scheme(name) == "xavier"
    for name in ("selu", "relu", "gelu", "silu"):
        assert policies._textbook_scheme(name) == reference_scheme(name)
    assert get_activation("selu").textbook_scheme == "lecun"
    assert get_activation("relu").textbook_scheme == "he"
    assert get_activation("gelu", approximate="tanh").textbook_scheme == "he"


def test_hardsigmoid_is_xavier_in_the_plan_and_the_doctor():
    """Hardsigmoid (a bounded, sigmoid-like φ) gets Xavier in both places: the auto plan and the
    doctor's reference std once disagreed (He in the doctor, Xavier in the plan)."""
    import torch
    from torch import nn

    import initlab
    from initlab.probe.advice import reference_scheme

    m = nn.Sequential(nn.Linear(8, 16), nn.Hardsigmoid(), nn.Linear(16, 4))
    p = initlab.plan(m, torch.randn(2, 8))
    assert p["0.weight"].scheme.kind == "xavier"
    assert reference_scheme("hardsigmoid") == "xavier"
