"""``initlab.core`` loads its names on first use (PEP 562) and its torch-free modules import no
torch (the start-up of ``initlab scale``, issue 15): the lazy name table must give exactly what
the eager imports gave, and the torch-dependent tables must be the same objects as before."""

from __future__ import annotations

import importlib

import pytest
import torch
from torch import nn

import initlab
import initlab.core as core
from initlab.core import activations, formulas, lazy_torch, samplers, scales, schemes


def test_every_exported_name_is_its_submodules_object():
    for name in core.__all__:
        module = importlib.import_module(f"initlab.core.{core._LAZY[name]}")
        assert getattr(core, name) is getattr(module, name), name


def test_schemes_exports_are_schemes_all():
    """Adding an initializer to ``schemes.__all__`` must add it to ``initlab.core`` (and so to
    ``initlab``): the lazy table lists the names, so it has to be kept equal."""
    assert sorted(core._EXPORTS["schemes"]) == sorted(schemes.__all__)
    for mod in ("activations", "gains", "scales"):
        module = importlib.import_module(f"initlab.core.{mod}")
        assert set(core._EXPORTS[mod]) <= set(module.__all__), mod


def test_star_import_dir_and_missing_names():
    ns: dict = {}
    exec("from initlab.core import *", ns)
    assert set(core.__all__) <= set(ns)
    assert ns["xavier_normal_"] is schemes.xavier_normal_ and ns["gain"] is core.gain
    assert set(core.__all__) <= set(dir(core)) and "schemes" in dir(core)
    assert set(core.__all__) <= set(dir(initlab))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        core.nope  # noqa: B018
    assert not hasattr(core, "__wrapped__")


def test_fans_is_the_function_not_the_submodule():
    """``fans`` names both ``initlab.core.fans`` (module) and its function: the package and
    ``initlab`` give the function, whatever was imported first."""
    module = importlib.import_module("initlab.core.fans")
    assert core.fans is module.fans and initlab.fans is module.fans
    assert core.fans((8, 4)).fan_in == 4


def test_moved_formulas_are_reexported_where_they_were():
    assert schemes.PRESETS is formulas.PRESETS and schemes.scheme_std is formulas.scheme_std
    assert schemes.uniform_bound is formulas.uniform_bound and schemes.Preset is formulas.Preset
    assert samplers.truncated_std is formulas.truncated_std
    assert scales.PRESETS is formulas.PRESETS


def test_activation_modules_built_once_with_torch():
    from initlab.core.activations import ACTIVATION_MODULES

    assert ACTIVATION_MODULES is activations.ACTIVATION_MODULES  # cached after first access
    assert ACTIVATION_MODULES[nn.GELU] == "gelu" and nn.Identity not in ACTIVATION_MODULES
    assert activations.get_activation(nn.Identity()).name == "linear"
    with pytest.raises(AttributeError):
        activations.NOT_A_TABLE  # noqa: B018


def test_type_checks_without_importing_torch():
    assert lazy_torch.is_tensor(torch.zeros(1)) and not lazy_torch.is_tensor([0.0])
    assert lazy_torch.is_module(nn.Tanh()) and not lazy_torch.is_module(torch.tanh)
    # (that torch stays unloaded on the torch-free paths is tests/cli/test_cli_startup.py's)


def test_builtin_torch_functions_still_run_on_tensors():
    """The built-ins' torch functions are built lazily but are the same φ as before."""
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    expected = {"tanh": torch.tanh(x), "sigmoid": torch.sigmoid(x), "erf": torch.erf(x),
                "relu6": nn.functional.relu6(x), "swish": x * torch.sigmoid(2.0 * x)}  # fmt: skip
    for name, y in expected.items():
        act = activations.get_activation(name, **({"beta": 2.0} if name == "swish" else {}))
        torch.testing.assert_close(act.torch_fn(x), y, rtol=0, atol=0)
        torch.testing.assert_close(act(x), y, rtol=0, atol=0)
