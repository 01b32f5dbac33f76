"""Bad inputs (issue 3, point 5): each raises initlab.errors.InitError (a ValueError, so code
written against torch.nn.init keeps catching it) with a message that names the function or
argument, what was wrong, and the fix. Every case checks both parts of the message.
"""

from __future__ import annotations

import math

import pytest
import torch

import initlab
from initlab.errors import InitError

E = torch.empty

# id: (call, [substrings that must all appear: the argument / function, and the fix])
CASES = {
    # 1-D tensors for schemes that need two fans or a matrix
    "xavier_uniform_1d": (lambda: initlab.xavier_uniform_(E(5)),
                          ["xavier_uniform_", "(5,)", "fewer than 2 dimensions", "pass fans"]),
    "xavier_normal_1d": (lambda: initlab.xavier_normal_(E(5)),
                         ["xavier_normal_", "fewer than 2 dimensions", "pass fans"]),
    "kaiming_uniform_1d": (lambda: initlab.kaiming_uniform_(E(5)),
                           ["kaiming_uniform_", "fewer than 2 dimensions", "normal_"]),
    "kaiming_normal_1d": (lambda: initlab.kaiming_normal_(E(5)),
                          ["kaiming_normal_", "fewer than 2 dimensions", "in_axes/out_axes"]),
    "xavier_uniform_empty_1d": (lambda: initlab.xavier_uniform_(E(0)),  # torch raises here too
                                ["xavier_uniform_", "(0,)", "fewer than 2 dimensions"]),
    "variance_scaling_1d": (lambda: initlab.variance_scaling_(E(5)),
                            ["variance_scaling_", "fewer than 2 dimensions", "pass fans"]),
    "orthogonal_1d": (lambda: initlab.orthogonal_(E(5)),
                      ["orthogonal_", "fewer than 2 dimensions", "pass a 2-D"]),
    # negative / non-finite std or scale
    "normal_negative_std": (lambda: initlab.normal_(E(3), std=-1.0),
                            ["normal_", "std", "≥ 0", "absolute value"]),
    "trunc_normal_negative_std": (lambda: initlab.trunc_normal_(E(3), std=-0.5),
                                  ["trunc_normal_", "std", "absolute value"]),
    "truncated_normal_negative_std": (lambda: initlab.truncated_normal_(E(3), std=-0.5),
                                      ["truncated_normal_", "std", "absolute value"]),
    "sparse_negative_std": (lambda: initlab.sparse_(E(4, 4), 0.1, std=-1.0),
                            ["sparse_", "std", "absolute value"]),
    "variance_scaling_negative_scale": (lambda: initlab.variance_scaling_(E(3, 3), -2.0),
                                        ["variance_scaling_", "scale", "absolute value"]),
    "xavier_negative_gain": (lambda: initlab.xavier_uniform_(E(3, 3), gain=-1.0),
                             ["xavier_uniform_", "gain", "≥ 0", "absolute value"]),
    "kaiming_negative_gain": (lambda: initlab.kaiming_normal_(E(3, 3), gain=-2.0),
                              ["kaiming_normal_", "gain", "absolute value"]),
    "he_negative_gain": (lambda: initlab.he_uniform_(E(3, 3), gain=-2.0),
                         ["he_", "gain", "absolute value"]),  # reported as he_normal_
    "normal_nan_std": (lambda: initlab.normal_(E(3), std=float("nan")),
                       ["normal_", "std", "finite"]),
    # reversed bounds
    "uniform_reversed": (lambda: initlab.uniform_(E(3), 1.0, 0.0),
                         ["uniform_", "a=1.0", "b=0.0", "swap"]),
    "trunc_normal_reversed": (lambda: initlab.trunc_normal_(E(3), a=1.0, b=-1.0),
                              ["trunc_normal_", "a=1.0", "b=-1.0", "swap"]),
    "truncated_normal_reversed": (lambda: initlab.truncated_normal_(E(3), lower=2.0, upper=-2.0),
                                  ["truncated_normal_", "lower", "upper", "swap"]),
    # unknown activation names
    "gain_unknown_activation": (lambda: initlab.gain("relux"),
                                ["unknown activation 'relux'", "known names", "relu",
                                 "register_activation"]),
    "he_unknown_activation": (lambda: initlab.he_normal_(E(3, 3), "relux"),
                              ["he_normal_", "unknown activation", "register_activation"]),
    "kaiming_unknown_activation": (
        lambda: initlab.kaiming_normal_(E(3, 3), nonlinearity="relux"),
        ["kaiming_normal_", "unknown activation", "Pass a callable"]),
    "calculate_gain_unknown": (lambda: initlab.calculate_gain("gelu"),
                               ["Unsupported nonlinearity gelu", "initlab.gain('gelu')"]),
    "gain_torch_kind_unknown": (lambda: initlab.gain("gelu", kind="torch"),
                                ["kind='torch'", "gelu", "kind='variance'"]),
    "activation_bad_parameter": (lambda: initlab.gain("relu", alpha=1.0),
                                 ["'relu'", "alpha", "describe_activations"]),
    # integer dtypes
    "normal_integer": (lambda: initlab.normal_(E(3, dtype=torch.int64)),
                       ["normal_", "integer dtype torch.int64", "dtype=torch.float32"]),
    "xavier_integer": (lambda: initlab.xavier_uniform_(E(3, 3, dtype=torch.int32)),
                       ["xavier_uniform_", "integer dtype", ".float()"]),
    "orthogonal_integer": (lambda: initlab.orthogonal_(E(3, 3, dtype=torch.int16)),
                           ["orthogonal_", "integer dtype", ".float()"]),
    "trunc_normal_integer": (lambda: initlab.trunc_normal_(E(3, dtype=torch.int64)),
                             ["trunc_normal_", "integer dtype", "floating-point"]),
    # bad mode / distribution
    "variance_scaling_bad_mode": (lambda: initlab.variance_scaling_(E(3, 3), mode="fan_x"),
                                  ["variance_scaling_", "mode", "'fan_x'", "fan_avg"]),
    "he_bad_mode": (lambda: initlab.he_normal_(E(3, 3), mode="fan_x"),
                    ["he_normal_", "mode", "fan_in, fan_out"]),
    "kaiming_bad_mode": (lambda: initlab.kaiming_uniform_(E(3, 3), mode="fan_x"),
                         ["Mode fan_x", "please use one of", "fan_in"]),
    "variance_scaling_bad_distribution": (
        lambda: initlab.variance_scaling_(E(3, 3), distribution="cauchy"),
        ["variance_scaling_", "distribution", "'cauchy'", "truncated_normal"]),
    "he_bad_distribution": (lambda: initlab.he_normal_(E(3, 3), distribution="cauchy"),
                            ["he_normal_", "distribution", "uniform"]),
    "gain_bad_kind": (lambda: initlab.gain("relu", kind="foo"),
                      ["kind", "'foo'", "'variance'"]),
    # delta orthogonal
    "delta_orthogonal_in_gt_out": (lambda: initlab.delta_orthogonal_(E(4, 8, 3, 3)),
                                   ["delta_orthogonal_", "in_channels (8) > out_channels (4)",
                                    "out_channels ≥ in_channels"]),
    "delta_orthogonal_linear_weight": (lambda: initlab.delta_orthogonal_(E(8, 4)),
                                       ["delta_orthogonal_", "(8, 4)", "use orthogonal_"]),
    # sparse
    "sparsity_above_one": (lambda: initlab.sparse_(E(4, 4), 1.5),
                           ["sparse_", "sparsity", "1.5", "[0, 1]"]),
    "sparsity_negative": (lambda: initlab.sparse_(E(4, 4), -0.1),
                          ["sparse_", "sparsity", "-0.1", "[0, 1]"]),
    "sparse_3d": (lambda: initlab.sparse_(E(4, 4, 4), 0.1),
                  ["sparse_", "2 dimensions", "(4, 4, 4)"]),
    # fans: groups, blocks, layout, axes, stride
    "fans_groups_zero": (lambda: initlab.fans(E(4, 4, 3), groups=0),
                         ["fans", "groups", "positive int", "got 0"]),
    "fans_groups_not_dividing": (lambda: initlab.fans(E(6, 4, 3), groups=4),
                                 ["fans", "groups=4", "not divisible", "divide"]),
    "fans_groups_not_dividing_transposed": (
        lambda: initlab.fans(E(6, 4, 3), layout="conv_transpose", groups=4),
        ["fans", "groups=4", "in_channels 6", "divide"]),
    "fans_blocks_zero": (lambda: initlab.fans(E(6, 4), blocks=0),
                         ["fans", "blocks", "positive int"]),
    "fans_blocks_not_dividing": (lambda: initlab.fans(E(6, 4), blocks=4),
                                 ["fans", "blocks=4", "not divisible", "3 for q/k/v"]),
    "orthogonal_blocks_not_dividing": (lambda: initlab.orthogonal_(E(6, 4), blocks=4),
                                       ["orthogonal_", "blocks=4", "dividing dimension 0"]),
    "fans_unknown_layout": (lambda: initlab.fans(E(6, 4), layout="nhwc"),
                            ["fans", "unknown layout 'nhwc'", "use one of", "conv_transpose"]),
    "fans_one_axis_only": (lambda: initlab.fans(E(6, 4), in_axes=0),
                           ["fans", "both in_axes and out_axes"]),
    "fans_axis_out_of_range": (lambda: initlab.fans(E(6, 4), in_axes=2, out_axes=0),
                               ["fans", "in_axes 2", "out of range"]),
    "fans_axes_overlap": (lambda: initlab.fans(E(6, 4), in_axes=0, out_axes=0),
                          ["fans", "overlap"]),
    "fans_stride_length": (
        lambda: initlab.fans(E(6, 4, 3, 3), layout="conv_transpose", stride=(2,)),
        ["fans", "stride", "1 entries", "2-d kernel"]),
    "fans_stride_zero": (lambda: initlab.fans(E(6, 4, 3, 3), layout="conv_transpose", stride=0),
                         ["fans", "stride", "≥ 1"]),
    "fans_bilinear_shape": (lambda: initlab.fans(E(6, 4), layout="bilinear"),
                            ["fans", "bilinear", "(out, in1, in2)"]),
    "fans_of_bias": (lambda: initlab.fans_of(torch.nn.Linear(3, 4), "bias"),
                     ["fans_of", "Linear.bias", "constant_/zeros_"]),
    "fans_of_missing": (lambda: initlab.fans_of(torch.nn.Linear(3, 4), "weights"),
                        ["fans_of", "'weights'", "['weight', 'bias']"]),
    # other structured schemes
    "eye_3d": (lambda: initlab.eye_(E(3, 3, 3)), ["eye_", "2-D", "use dirac_"]),
    "dirac_2d": (lambda: initlab.dirac_(E(3, 3)), ["dirac_", "3, 4, or 5", "use eye_"]),
    "dirac_groups": (lambda: initlab.dirac_(E(6, 3, 3), groups=4),
                     ["dirac_", "groups=4", "divisible"]),
    "gpt_residual_without_layers": (lambda: initlab.gpt_normal_(E(3, 3), residual=True),
                                    ["gpt_normal_", "num_layers="]),
    "fixup_one_layer": (lambda: initlab.fixup_scale(54, 1),
                        ["fixup_scale", "layers_per_branch", "≥ 2"]),
    "t_fixup_part": (lambda: initlab.t_fixup_scale(6, "middle"),
                     ["t_fixup_scale", "part", "'encoder' or 'decoder'"]),
    "critical_negative_bias_variance": (lambda: initlab.critical_point("tanh", -1.0),
                                        ["critical_point", "sigma_b2", "≥ 0"]),
    "critical_glu": (lambda: initlab.gain("swiglu", kind="critical"),
                     ["'swiglu'", "gated unit", "elementwise"]),
    "callable_with_params": (lambda: initlab.gain(torch.tanh, alpha=1),
                             ["parameters", "activation name"]),
    "not_elementwise": (lambda: initlab.gain(lambda x: x.sum()),
                        ["not elementwise", "applied to each element"]),
    "not_a_tensor": (lambda: initlab.normal_([1.0, 2.0]), ["normal_", "torch.Tensor", "list"]),
    "uniform_infinite_bound": (lambda: initlab.uniform_(E(3), -math.inf, 1.0),
                               ["uniform_", "a", "finite"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_message(case):
    call, fragments = CASES[case]
    with pytest.raises(InitError) as info:
        call()
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_errors_are_caught_as_valueerror_like_torch():
    """Code written for torch.nn.init catches ValueError: it still works with initlab."""
    try:
        initlab.xavier_uniform_(E(3))
    except ValueError as e:
        assert "xavier_uniform_" in str(e)
    else:  # pragma: no cover
        pytest.fail("no error")


def test_bad_generator_type_fails_loudly():
    """A generator on the wrong device or of the wrong type is torch's error (not swallowed)."""
    with pytest.raises((TypeError, RuntimeError)):
        initlab.normal_(E(3), generator="seed")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [["critical"], {"critical": 1}, None])
def test_gain_kind_not_a_string(kind):
    """An unhashable or missing kind is the same InitError as an unknown one, not a TypeError."""
    with pytest.raises(InitError, match="kind must be"):
        initlab.gain("tanh", kind=kind)


@pytest.mark.parametrize("values", [1.0, None])
def test_gate_constant_values_not_a_sequence(values):
    with pytest.raises(InitError, match="gate_constant_: values"):
        initlab.gate_constant_(torch.empty(4), values)
