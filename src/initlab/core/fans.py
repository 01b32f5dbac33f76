"""Fans: how many inputs feed one output unit (fan_in) and how many outputs one input feeds
(fan_out), for every layer layout.

``torch.nn.init._calculate_fan_in_and_fan_out`` assumes the layout ``(out, in, *kernel)`` and no
groups, which is wrong for transposed convs (their weight is ``(in, out/groups, *kernel)``,
pytorch#7865), grouped and depthwise convs (fan_out inflated by ``groups``, pytorch#23854), and
packed weights (MultiheadAttention ``in_proj_weight`` holds q, k, v stacked, pytorch#166378; LSTM
``weight_ih`` holds 4 gates). :func:`fans` takes the layout explicitly and gets all of these right;
:func:`fans_of` reads the layout off a module.

Examples:
    >>> import torch
    >>> fans(torch.empty(8, 16, 3, 3), layout="conv_transpose")
    Fans(fan_in=72, fan_out=144, blocks=1)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from initlab.core.lazy_torch import is_tensor
from initlab.errors import InitError

if TYPE_CHECKING:  # torch loads when a module's fans are asked for (fans_of), not at import
    import torch
    from torch import nn

Layout = Literal["auto", "linear", "conv", "conv_transpose", "embedding", "bilinear"]
_LAYOUTS = ("auto", "linear", "conv", "conv_transpose", "embedding", "bilinear")


@dataclass(frozen=True)
class Fans:
    """fan_in and fan_out of one weight (of one block, for packed weights).

    Attributes:
        fan_in: inputs summed into one output unit (may be fractional: a strided transposed
            conv's effective fan_in is in/g · Π k_i/s_i).
        fan_out: output units one input feeds.
        blocks: number of equal row blocks the weight packs (3 for MultiheadAttention's
            ``in_proj_weight``, 4 for LSTM gates, 3 for GRU); fans are per block.

    Unpacks like ``torch.nn.init._calculate_fan_in_and_fan_out``'s tuple: ``fan_in, fan_out =
    fans_of(module)`` (``blocks`` stays an attribute; ``len`` is 2, indexing gives the two fans).

    Examples:
        >>> Fans(4, 8).fan_avg
        6.0
        >>> fan_in, fan_out = Fans(4, 8)
        >>> fan_in, fan_out
        (4, 8)
    """

    fan_in: float
    fan_out: float
    blocks: int = 1

    def __iter__(self) -> Iterator[float]:
        return iter((self.fan_in, self.fan_out))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int | slice) -> Any:
        return (self.fan_in, self.fan_out)[i]

    @property
    def fan_avg(self) -> float:
        """(fan_in + fan_out) / 2, Glorot & Bengio 2010 eq. 12's denominator / 2."""
        return (self.fan_in + self.fan_out) / 2.0

    @property
    def fan_geo_avg(self) -> float:
        """√(fan_in · fan_out)."""
        return math.sqrt(self.fan_in * self.fan_out)

    def of(self, mode: str) -> float:
        """The fan a ``mode`` names: fan_in, fan_out, fan_avg or fan_geo_avg."""
        if mode == "fan_in":
            return self.fan_in
        if mode == "fan_out":
            return self.fan_out
        if mode == "fan_avg":
            return self.fan_avg
        if mode == "fan_geo_avg":
            return self.fan_geo_avg
        raise InitError(
            f"mode must be 'fan_in', 'fan_out', 'fan_avg' or 'fan_geo_avg', got {mode!r}"
        )

    def to_dict(self) -> dict[str, float]:
        return {"fan_in": self.fan_in, "fan_out": self.fan_out, "blocks": self.blocks}


def _shape_of(t: torch.Tensor | Sequence[int]) -> tuple[int, ...]:
    if is_tensor(t):
        return tuple(t.shape)
    try:
        return tuple(int(s) for s in t)
    except TypeError as e:
        raise InitError(
            f"fans: expected a tensor or a shape (sequence of ints), got {type(t).__name__}"
        ) from e


def _num(x: float) -> float:
    """Keep integral fans as int (so that they print and compare like torch's)."""
    return int(x) if float(x).is_integer() else x


def fans(
    tensor: torch.Tensor | Sequence[int],
    layout: Layout = "auto",
    groups: int = 1,
    stride: int | Sequence[int] | None = None,
    in_axes: int | Sequence[int] | None = None,
    out_axes: int | Sequence[int] | None = None,
    *,
    blocks: int = 1,
) -> Fans:
    """fan_in and fan_out of a weight of a given layout.

    Args:
        tensor: the weight, or its shape.
        layout: ``"auto"``/``"linear"``/``"conv"``: ``(out, in/groups, *kernel)`` (Linear,
            Conv1/2/3d); ``"conv_transpose"``: ``(in, out/groups, *kernel)``;
            ``"embedding"``: ``(num_embeddings, dim)`` (a lookup reads one row: fan_in 1,
            fan_out dim); ``"bilinear"``: ``(out, in1, in2)`` (fan_in in1·in2, fan_out out·in2,
            the fan_out seen from the first input).
        groups: conv groups (``groups = in_channels`` for depthwise).
        stride: transposed conv stride; the effective fan_in of one output unit is then
            in/g · Π k_i/s_i (on average over output positions).
        in_axes, out_axes: for any custom layout, the axes that index inputs and outputs; the
            remaining axes form the receptive field (JAX ``variance_scaling`` semantics).
        blocks: number of equal row blocks packed in the weight (3 for q/k/v, 4 for LSTM gates);
            fans are per block.

    Raises:
        InitError: fewer than 2 dimensions, groups that do not divide the channels, bad axes.

    Examples:
        >>> import torch
        >>> fans(torch.empty(4, 1, 3, 3), groups=4)  # depthwise Conv2d(4, 4, 3, groups=4)
        Fans(fan_in=9, fan_out=9, blocks=1)
        >>> fans((3 * 16, 16), blocks=3)  # MultiheadAttention(16).in_proj_weight
        Fans(fan_in=16, fan_out=16, blocks=3)
    """
    shape = _shape_of(tensor)
    if layout not in _LAYOUTS:
        raise InitError(f"fans: unknown layout {layout!r}; use one of {', '.join(_LAYOUTS)}")
    if not isinstance(groups, int) or groups < 1:
        raise InitError(f"fans: groups must be a positive int, got {groups!r}")
    if not isinstance(blocks, int) or blocks < 1:
        raise InitError(f"fans: blocks must be a positive int, got {blocks!r}")
    if in_axes is not None or out_axes is not None:
        return _fans_from_axes(shape, in_axes, out_axes, blocks)
    if len(shape) < 2:
        raise InitError(
            f"fans: a tensor of shape {shape} has fewer than 2 dimensions, so it has no "
            "fan_in/fan_out; pass fans explicitly, give in_axes/out_axes, or use a scheme that "
            "needs no fans (normal_, uniform_, constant_)"
        )
    if blocks > 1:
        if shape[0] % blocks:
            raise InitError(
                f"fans: dimension 0 of shape {shape} ({shape[0]}) is not divisible by "
                f"blocks={blocks}; pass the number of packed row blocks (3 for q/k/v, 4 for LSTM "
                "gates, 3 for GRU) or blocks=1"
            )
        shape = (shape[0] // blocks, *shape[1:])
    receptive = math.prod(shape[2:])
    if layout in ("auto", "linear", "conv"):
        if shape[0] % groups:
            raise InitError(
                f"fans: out_channels {shape[0]} of weight shape {shape} is not divisible by "
                f"groups={groups}; pass the conv's groups, which divide both channel counts"
            )
        return Fans(
            _num(shape[1] * receptive), _num(shape[0] // groups * receptive), blocks=blocks
        )
    if layout == "conv_transpose":
        if shape[0] % groups:
            raise InitError(
                f"fans: in_channels {shape[0]} of transposed-conv weight shape {shape} is not "
                f"divisible by groups={groups}; pass the conv's groups, which divide both "
                "channel counts"
            )
        kernel = shape[2:]
        fan_in: float = shape[0] // groups * receptive
        if stride is not None:
            strides = _expand(stride, len(kernel), "stride")
            ratios = (k / s for k, s in zip(kernel, strides, strict=True))
            fan_in = shape[0] // groups * math.prod(ratios)
        return Fans(_num(fan_in), _num(shape[1] * receptive), blocks=blocks)
    if layout == "embedding":
        return Fans(1, _num(shape[1] * receptive), blocks=blocks)
    # bilinear: (out, in1, in2)
    if len(shape) != 3:
        raise InitError(f"fans: a bilinear weight is (out, in1, in2), got shape {shape}")
    return Fans(_num(shape[1] * shape[2]), _num(shape[0] * shape[2]), blocks=blocks)


def _expand(v: int | Sequence[int], n: int, what: str) -> tuple[int, ...]:
    t = (v,) * n if isinstance(v, int) else tuple(int(x) for x in v)
    if len(t) != n:
        raise InitError(f"fans: {what} has {len(t)} entries for a {n}-d kernel")
    if any(x < 1 for x in t):
        raise InitError(f"fans: {what} entries must be ≥ 1, got {t}")
    return t


def _fans_from_axes(
    shape: tuple[int, ...],
    in_axes: int | Sequence[int] | None,
    out_axes: int | Sequence[int] | None,
    blocks: int,
) -> Fans:
    if in_axes is None or out_axes is None:
        raise InitError("fans: give both in_axes and out_axes for a custom layout")
    nd = len(shape)

    def norm(axes: int | Sequence[int], name: str) -> tuple[int, ...]:
        ax = (axes,) if isinstance(axes, int) else tuple(axes)
        out = []
        for a in ax:
            if not -nd <= a < nd:
                raise InitError(f"fans: {name} {a} is out of range for shape {shape}")
            out.append(a % nd)
        return tuple(out)

    ins, outs = norm(in_axes, "in_axes"), norm(out_axes, "out_axes")
    if set(ins) & set(outs):
        raise InitError(f"fans: in_axes {ins} and out_axes {outs} overlap")
    receptive = math.prod(s for i, s in enumerate(shape) if i not in ins and i not in outs)
    n_out = math.prod(shape[i] for i in outs)
    if n_out % blocks:
        raise InitError(f"fans: output size {n_out} is not divisible by blocks={blocks}")
    return Fans(
        _num(math.prod(shape[i] for i in ins) * receptive),
        _num(n_out // blocks * receptive),
        blocks=blocks,
    )


def fans_of(module: nn.Module, name: str = "weight") -> Fans:
    """Fans of a module's parameter, with the layout read off the module type.

    Handles Linear, Conv1/2/3d (groups), ConvTranspose1/2/3d (groups, stride-aware effective
    fan_in), Embedding, Bilinear, MultiheadAttention (``in_proj_weight``: 3 blocks;
    ``out_proj.weight`` via ``module.out_proj``), LSTM/GRU/RNN (``weight_ih_l*``/``weight_hh_l*``:
    4/3/1 gate blocks, per gate).

    Examples:
        >>> from torch import nn
        >>> fans_of(nn.LSTM(10, 20), "weight_ih_l0")
        Fans(fan_in=10, fan_out=20, blocks=4)
    """
    import torch
    from torch import nn

    param = getattr(module, name, None)
    if not isinstance(param, torch.Tensor):
        raise InitError(
            f"fans_of: {type(module).__name__} has no tensor attribute {name!r}; "
            f"its parameters are {[n for n, _ in module.named_parameters(recurse=False)]}"
        )
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return fans(param, "conv_transpose", groups=module.groups, stride=module.stride)
    if isinstance(module, nn.modules.conv._ConvNd):
        return fans(param, "conv", groups=module.groups)
    if isinstance(module, nn.Embedding | nn.EmbeddingBag):
        return fans(param, "embedding")
    if isinstance(module, nn.Bilinear):
        return fans(param, "bilinear")
    if isinstance(module, nn.MultiheadAttention) and name == "in_proj_weight":
        return fans(param, blocks=3)
    rnn_gates = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1, nn.LSTMCell: 4, nn.GRUCell: 3, nn.RNNCell: 1}
    for cls, gates in rnn_gates.items():
        if isinstance(module, cls) and name.startswith(("weight_ih", "weight_hh")):
            return fans(param, blocks=gates)
    if param.dim() < 2:
        raise InitError(
            f"fans_of: {type(module).__name__}.{name} has shape {tuple(param.shape)}: a vector "
            "(bias or norm scale) has no fan_in/fan_out; initialize it with constant_/zeros_"
        )
    return fans(param)


def _calculate_fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    """``torch.nn.init._calculate_fan_in_and_fan_out``: layout (out, in, *kernel), no groups.

    Kept for compatibility (torch's own tests call it); use :func:`fans` for correct values.
    """
    if tensor.dim() < 2:
        raise InitError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    f = fans(tensor)
    return int(f.fan_in), int(f.fan_out)


def _calculate_correct_fan(tensor: torch.Tensor, mode: str) -> int:
    """``torch.nn.init._calculate_correct_fan``: fan_in or fan_out of the torch layout."""
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise InitError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


__all__ = ["Fans", "Layout", "fans", "fans_of"]
