"""A small model zoo covering the layouts whole-model initialization must handle.

Every factory is small by default (fast tests) and takes sizes as arguments; each model has an
``example_input(batch)`` method giving an input of the right shape and dtype.

| factory | what it exercises |
|---|---|
| :func:`deep_mlp` | depth, the activation after each Linear (any ``nn`` activation) |
| :func:`plain_cnn` | Conv2d, grouped and depthwise convs, a transposed conv, BatchNorm |
| :func:`resnet` | residual blocks with BN, identity and projection shortcuts (He et al. 2016) |
| :func:`fixup_resnet` | residual blocks without BN, with Fixup's scalar biases and multiplier |
| :func:`nano_gpt` | nanoGPT (Karpathy): tied embeddings, ``c_attn``/``c_proj``, SDPA, GELU |
| :func:`tiny_llama` | RMSNorm, rotary embeddings, SDPA, SwiGLU, untied head |
| :func:`transformer_encoder` | ``nn.TransformerEncoder`` (MultiheadAttention's packed q/k/v) |
| :func:`lstm_model`, :func:`gru_model` | recurrent layers (gate-packed weights) |
| :func:`functional_net` | functional activations only (F.relu, x.sigmoid(), SwiGLU...) |
| :func:`dict_model` | a forward returning a dict |

Examples:
    >>> m = deep_mlp(depth=3, width=16)
    >>> m(m.example_input(2)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from initlab.errors import InitError


class _Zoo(nn.Module):
    input_shape: tuple[int, ...] = ()
    input_dtype: torch.dtype = torch.float32
    vocab: int = 0

    def example_input(self, batch: int = 4, *, device: str | torch.device = "cpu") -> torch.Tensor:
        """A random input of the right shape and dtype (token ids for language models)."""
        g = torch.Generator().manual_seed(0)
        shape = (batch, *self.input_shape)
        if self.input_dtype == torch.long:
            return torch.randint(0, self.vocab, shape, generator=g).to(device)
        return torch.randn(shape, generator=g).to(device)


# ------------------------------------------------------------------------------- MLP ----------
class ActivationModule(nn.Module):
    """An elementwise activation given as a function (for names torch has no module for)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], name: str) -> None:
        super().__init__()
        self.fn = fn
        self.name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return self.name


Activation = str | type[nn.Module] | nn.Module


def activation_module(activation: Activation) -> nn.Module:
    """A fresh activation module: torch's own for a registered name (``"relu"`` → ``nn.ReLU()``,
    what the doctor and ``initlab.init`` recognise), else a wrapper of the registered function;
    a class is instantiated, an instance is returned as is.

    Raises:
        InitError: an unknown activation name (the message lists the names).

    Examples:
        >>> activation_module("tanh"), activation_module(nn.ReLU)
        (Tanh(), ReLU())
    """
    if isinstance(activation, nn.Module):
        return activation
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    if not isinstance(activation, str):
        raise InitError(f"activation must be a name like 'relu', an nn.Module class or "
                        f"instance, got {type(activation).__name__}")
    from initlab.core.activations import get_activation
    from initlab.probe.hooks import ACTIVATION_TYPES

    act = get_activation(activation)  # InitError listing the names when unknown
    if act.glu:
        raise InitError(
            f"activation {act.name!r} is a gated unit φ(a)·b of two inputs (it halves the "
            "width), not an elementwise activation; the lab's models need one: use its gate "
            "(silu for swiglu, gelu for geglu) or build the gated block in your own model"
        )
    for cls, name in ACTIVATION_TYPES.items():
        if name == act.name and name != "prelu":
            return cls()
    return ActivationModule(act.torch_fn, act.name)


class DeepMLP(_Zoo):
    def __init__(self, depth: int, width: int, in_features: int, out_features: int,
                 activation: Activation, head: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        d = in_features
        for _ in range(depth):
            layers += [nn.Linear(d, width), activation_module(activation)]
            d = width
        if head:
            layers.append(nn.Linear(d, out_features))
        self.net = nn.Sequential(*layers)
        self.input_shape = (in_features,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def deep_mlp(depth: int = 8, width: int = 64, in_features: int = 32, out_features: int = 10,
             activation: Activation = nn.ReLU, *, head: bool = True) -> DeepMLP:
    """``in_features → width`` then ``depth − 1`` more ``width → width`` Linear layers, each
    followed by ``activation``, and a Linear head ``width → out_features``: the lab's one MLP.

    Args:
        depth: hidden layers (≥ 1).
        width: units per hidden layer (≥ 1).
        in_features, out_features: input features and outputs of the head.
        activation: a name (``"relu"``, ``"tanh"``, any registered activation), an
            ``nn.Module`` class (a fresh instance per layer) or an instance (shared).
        head: False leaves out the head (the net ends with the last activation).

    Raises:
        InitError: a size < 1 or an unknown activation.

    Examples:
        >>> len(deep_mlp(depth=2).net)
        5
        >>> deep_mlp(3, 16, 64, 10, "tanh").net[1]
        Tanh()
        >>> len(deep_mlp(3, 8, 8, activation="relu", head=False).net)
        6
    """
    for key, v in (("depth", depth), ("width", width), ("in_features", in_features),
                   ("out_features", out_features)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InitError(f"deep_mlp: {key} must be an int ≥ 1, got {v!r}")
    return DeepMLP(depth, width, in_features, out_features, activation, head)


# ------------------------------------------------------------------------------- CNN ----------
class PlainCNN(_Zoo):
    def __init__(self, channels: int = 16, num_classes: int = 10) -> None:
        super().__init__()
        c = channels
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)
        self.grouped = nn.Conv2d(c, 2 * c, 3, padding=1, groups=4)
        self.depthwise = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.pointwise = nn.Conv2d(2 * c, c, 1)
        self.up = nn.ConvTranspose2d(c, c, 4, stride=2, padding=1)
        self.down = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.head = nn.Linear(c, num_classes)
        self.input_shape = (3, 16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.stem(x)))
        x = F.relu(self.grouped(x))
        x = F.relu(self.depthwise(x))
        x = F.relu(self.pointwise(x))
        x = F.leaky_relu(self.up(x), 0.2)
        x = torch.tanh(self.down(x))
        return self.head(x.mean(dim=(2, 3)))


def plain_cnn(channels: int = 16, num_classes: int = 10) -> PlainCNN:
    """Conv2d + BN, a grouped conv, a depthwise + pointwise pair, a strided transposed conv
    (leaky ReLU 0.2), a strided conv (tanh), global pooling and a Linear head.

    Examples:
        >>> m = plain_cnn(8)
        >>> m(m.example_input(2)).shape
        torch.Size([2, 10])
    """
    return PlainCNN(channels, num_classes)


class ConvNet(_Zoo):
    def __init__(self, depth: int, width: int, in_channels: int, out_features: int,
                 activation: Activation) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for i in range(depth):
            stride = 2 if i in (depth // 3, 2 * depth // 3) and i > 0 else 1
            layers += [nn.Conv2d(c, width, 3, stride, 1), activation_module(activation)]
            c = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_features)
        self.input_shape = (in_channels, 16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def conv_net(depth: int = 4, width: int = 16, in_channels: int = 1, out_features: int = 10,
             activation: Activation = "relu") -> ConvNet:
    """A plain CNN for the lab: ``depth`` 3×3 conv + activation layers (no normalization;
    stride 2 at a third and two thirds of the depth), global average pooling, a Linear head.

    Examples:
        >>> m = conv_net(3, 8, 1, 10, "tanh")
        >>> m(m.example_input(2)).shape
        torch.Size([2, 10])
    """
    for key, v in (("depth", depth), ("width", width), ("in_channels", in_channels),
                   ("out_features", out_features)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InitError(f"conv_net: {key} must be an int ≥ 1, got {v!r}")
    return ConvNet(depth, width, in_channels, out_features, activation)


# ---------------------------------------------------------------------------- ResNet ----------
class BasicBlock(nn.Module):
    """He et al. 2016 basic block: conv-BN-ReLU-conv-BN + shortcut, ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1, batchnorm: bool = True) -> None:
        super().__init__()

        def norm(c: int) -> nn.Module:
            return nn.BatchNorm2d(c) if batchnorm else nn.Identity()

        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = norm(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), norm(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNet(_Zoo):
    def __init__(self, blocks_per_stage: int, width: int, num_classes: int,
                 in_channels: int = 3, batchnorm: bool = True) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width) if batchnorm else nn.Identity()
        layers: list[nn.Module] = []
        cin = width
        for stage, mult in enumerate((1, 2, 4)):
            for i in range(blocks_per_stage):
                stride = 2 if (stage > 0 and i == 0) else 1
                layers.append(BasicBlock(cin, width * mult, stride, batchnorm))
                cin = width * mult
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)
        self.input_shape = (in_channels, 16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def resnet(blocks_per_stage: int = 1, width: int = 8, num_classes: int = 10, *,
           in_channels: int = 3, batchnorm: bool = True) -> ResNet:
    """CIFAR ResNet (He et al. 2016, sec. 4.2): depth 6n+2 with n = ``blocks_per_stage``;
    ``batchnorm=False`` puts identities where the BatchNorms were (a plain residual net).

    Examples:
        >>> m = resnet(1, 4)
        >>> m(m.example_input(2)).shape
        torch.Size([2, 10])
        >>> m = resnet(1, 4, in_channels=1, batchnorm=False)
        >>> m(m.example_input(2)).shape, any(isinstance(x, nn.BatchNorm2d) for x in m.modules())
        (torch.Size([2, 10]), False)
    """
    return ResNet(blocks_per_stage, width, num_classes, in_channels, batchnorm)


class FixupBlock(nn.Module):
    """Zhang et al. 2019, Fig. 1 (right): no BN; scalar biases before each conv and the
    activation, a scalar multiplier after the second conv."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.bias1a = nn.Parameter(torch.zeros(1))
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bias1b = nn.Parameter(torch.zeros(1))
        self.bias2a = nn.Parameter(torch.zeros(1))
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.scale = nn.Parameter(torch.ones(1))
        self.bias2b = nn.Parameter(torch.zeros(1))
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.conv1(x + self.bias1a) + self.bias1b)
        out = self.conv2(out + self.bias2a) * self.scale + self.bias2b
        identity = x if self.shortcut is None else self.shortcut(x + self.bias1a)
        return F.relu(out + identity)


class FixupResNet(_Zoo):
    def __init__(self, blocks_per_stage: int, width: int, num_classes: int,
                 in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bias1 = nn.Parameter(torch.zeros(1))
        layers: list[nn.Module] = []
        cin = width
        for stage, mult in enumerate((1, 2, 4)):
            for i in range(blocks_per_stage):
                stride = 2 if (stage > 0 and i == 0) else 1
                layers.append(FixupBlock(cin, width * mult, stride))
                cin = width * mult
        self.layers = nn.Sequential(*layers)
        self.bias2 = nn.Parameter(torch.zeros(1))
        self.fc = nn.Linear(cin, num_classes)
        self.input_shape = (in_channels, 16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x) + self.bias1)
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1) + self.bias2)


def fixup_resnet(blocks_per_stage: int = 1, width: int = 8, num_classes: int = 10, *,
                 in_channels: int = 3) -> FixupResNet:
    """A Fixup ResNet (Zhang et al. 2019): no normalization, scalar biases and multipliers.

    Examples:
        >>> m = fixup_resnet(1, 4)
        >>> m(m.example_input(2)).shape
        torch.Size([2, 10])
    """
    return FixupResNet(blocks_per_stage, width, num_classes, in_channels)


# --------------------------------------------------------------------------- nanoGPT ----------
@dataclass
class GPTConfig:
    """nanoGPT's config (Karpathy, model.py)."""

    block_size: int = 64
    vocab_size: int = 256
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 32
    dropout: float = 0.0
    bias: bool = True


class LayerNorm(nn.Module):
    """nanoGPT's LayerNorm with an optional bias (a custom module calling F.layer_norm)."""

    def __init__(self, ndim: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.attn_dropout = cfg.dropout
        self.resid_dropout = nn.Dropout(cfg.dropout)
        self.n_head, self.n_embd = cfg.n_head, cfg.n_embd

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_dropout if self.training else 0.0, is_causal=True
        )
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(_Zoo):
    """nanoGPT's GPT. ``init_weights=True`` runs nanoGPT's own ``_init_weights`` (the reference
    the ``"gpt2"`` policy reproduces); the default leaves torch's module defaults."""

    def __init__(self, cfg: GPTConfig, init_weights: bool = False) -> None:
        super().__init__()
        self.config = cfg
        self.transformer = nn.ModuleDict(
            {
                "wte": nn.Embedding(cfg.vocab_size, cfg.n_embd),
                "wpe": nn.Embedding(cfg.block_size, cfg.n_embd),
                "drop": nn.Dropout(cfg.dropout),
                "h": nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)]),
                "ln_f": LayerNorm(cfg.n_embd, bias=cfg.bias),
            }
        )
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.input_shape = (cfg.block_size,)
        self.input_dtype = torch.long
        self.vocab = cfg.vocab_size
        if init_weights:
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def nano_gpt(n_layer: int = 2, n_embd: int = 32, n_head: int = 2, vocab_size: int = 256,
             block_size: int = 64, *, bias: bool = True, init_weights: bool = False) -> GPT:
    """nanoGPT (Karpathy's ``model.py``), tied token embedding and LM head.

    Examples:
        >>> m = nano_gpt()
        >>> m(m.example_input(2)).shape
        torch.Size([2, 64, 256])
    """
    cfg = GPTConfig(block_size, vocab_size, n_layer, n_head, n_embd, 0.0, bias)
    return GPT(cfg, init_weights)


# --------------------------------------------------------------- nn.TransformerEncoder -------
class EncoderClassifier(_Zoo):
    def __init__(self, d_model: int, nhead: int, num_layers: int, vocab: int, classes: int,
                 seq: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)
        self.input_shape = (seq,)
        self.input_dtype = torch.long
        self.vocab = vocab

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(idx)).mean(dim=1))


def transformer_encoder(d_model: int = 32, nhead: int = 4, num_layers: int = 2, vocab: int = 100,
                        classes: int = 5, seq: int = 12) -> EncoderClassifier:
    """Embedding → ``nn.TransformerEncoder`` (post-norm, ReLU FFN) → mean pool → Linear.

    Examples:
        >>> m = transformer_encoder()
        >>> m(m.example_input(2)).shape
        torch.Size([2, 5])
    """
    return EncoderClassifier(d_model, nhead, num_layers, vocab, classes, seq)


# ------------------------------------------------------------------------ recurrent ----------
class RecurrentClassifier(_Zoo):
    def __init__(self, cell: type[nn.RNNBase], in_features: int, hidden: int, layers: int,
                 classes: int, seq: int) -> None:
        super().__init__()
        self.rnn = cell(in_features, hidden, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(hidden, classes)
        self.input_shape = (seq, in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


def lstm_model(in_features: int = 8, hidden: int = 32, layers: int = 2, classes: int = 4,
               seq: int = 10) -> RecurrentClassifier:
    """A 2-layer LSTM and a Linear head on the last step.

    Examples:
        >>> m = lstm_model()
        >>> m(m.example_input(2)).shape
        torch.Size([2, 4])
    """
    return RecurrentClassifier(nn.LSTM, in_features, hidden, layers, classes, seq)


def gru_model(in_features: int = 8, hidden: int = 32, layers: int = 1, classes: int = 4,
              seq: int = 10) -> RecurrentClassifier:
    """A GRU and a Linear head on the last step.

    Examples:
        >>> m = gru_model()
        >>> m(m.example_input(2)).shape
        torch.Size([2, 4])
    """
    return RecurrentClassifier(nn.GRU, in_features, hidden, layers, classes, seq)


# ------------------------------------------------------------------------- Llama-style ------
class LlamaAttention(nn.Module):
    """q/k/v/o projections without bias, rotary position embedding, SDPA."""

    def __init__(self, d: int, heads: int, max_len: int) -> None:
        super().__init__()
        self.heads = heads
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        hd = d // heads
        freqs = 1.0 / 10000 ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd)
        angles = torch.arange(max_len, dtype=torch.float32)[:, None] * freqs[None]
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def rope(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x[..., ::2], x[..., 1::2]
        c, s = self.cos[: x.shape[2]], self.sin[: x.shape[2]]
        return torch.stack([x1 * c - x2 * s, x1 * s + x2 * c], dim=-1).flatten(-2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape

        def heads(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, self.heads, -1).transpose(1, 2)

        q, k, v = self.rope(heads(self.wq(x))), self.rope(heads(self.wk(x))), heads(self.wv(x))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(y.transpose(1, 2).reshape(b, t, d))


class LlamaBlock(nn.Module):
    def __init__(self, d: int, heads: int, max_len: int) -> None:
        super().__init__()
        self.attn_norm = nn.RMSNorm(d)
        self.attn = LlamaAttention(d, heads, max_len)
        self.mlp_norm = nn.RMSNorm(d)
        self.w1 = nn.Linear(d, 4 * d, bias=False)
        self.w3 = nn.Linear(d, 4 * d, bias=False)
        self.w2 = nn.Linear(4 * d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x))
        h = self.mlp_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class TinyLlama(_Zoo):
    def __init__(self, vocab: int, d: int, heads: int, layers: int, seq: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([LlamaBlock(d, heads, seq) for _ in range(layers)])
        self.norm = nn.RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.input_shape = (seq,)
        self.input_dtype = torch.long
        self.vocab = vocab

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embed(idx)
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x))


def tiny_llama(vocab: int = 128, d: int = 32, heads: int = 4, layers: int = 2,
               seq: int = 16) -> TinyLlama:
    """A Llama-style decoder: RMSNorm, rotary embeddings, SDPA, SwiGLU MLP, untied head.

    Examples:
        >>> m = tiny_llama()
        >>> m(m.example_input(2)).shape
        torch.Size([2, 16, 128])
    """
    return TinyLlama(vocab, d, heads, layers, seq)


# ---------------------------------------------------------------- functional-only ------------
class FunctionalNet(_Zoo):
    """Activations only as functions/methods: a forward hook sees none of them."""

    def __init__(self, width: int = 32, in_features: int = 16, classes: int = 3) -> None:
        super().__init__()
        self.fc_relu = nn.Linear(in_features, width)
        self.fc_tanh = nn.Linear(width, width)
        self.fc_sigmoid = nn.Linear(width, width)
        self.fc_gelu = nn.Linear(width, width)
        self.w_gate = nn.Linear(width, 2 * width, bias=False)
        self.w_up = nn.Linear(width, 2 * width, bias=False)
        self.w_down = nn.Linear(2 * width, width, bias=False)
        self.out = nn.Linear(width, classes)
        self.input_shape = (in_features,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc_relu(x))
        h = torch.tanh(self.fc_tanh(h))
        if h.dim() == 2:  # Python control flow: fine for a trace, breaks torch.fx
            h = self.fc_sigmoid(h).sigmoid()
        h = F.gelu(self.fc_gelu(h), approximate="tanh")
        h = h + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))  # SwiGLU residual MLP
        return self.out(h)


def functional_net(width: int = 32, in_features: int = 16, classes: int = 3) -> FunctionalNet:
    """Linear layers followed by ``F.relu``, ``torch.tanh``, ``x.sigmoid()``,
    ``F.gelu(approximate="tanh")`` and a residual SwiGLU MLP.

    Examples:
        >>> m = functional_net()
        >>> m(m.example_input(2)).shape
        torch.Size([2, 3])
    """
    return FunctionalNet(width, in_features, classes)


class DictModel(_Zoo):
    def __init__(self, in_features: int = 16, width: int = 32, classes: int = 4) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_features, width), nn.SiLU(),
                                  nn.Linear(width, width), nn.SELU())
        self.cls = nn.Linear(width, classes)
        self.reg = nn.Linear(width, 1)
        self.input_shape = (in_features,)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.body(x)
        return {"logits": self.cls(h), "value": self.reg(h).squeeze(-1)}


def dict_model(in_features: int = 16, width: int = 32, classes: int = 4) -> DictModel:
    """A body (SiLU, SELU) and two heads returned in a dict.

    Examples:
        >>> m = dict_model()
        >>> sorted(m(m.example_input(2)))
        ['logits', 'value']
    """
    return DictModel(in_features, width, classes)


# ------------------------------------------------------------------ models for the lab -------
#: Model names of :func:`build_model` (what ``initlab compare --model`` and sweeps take).
LAB_MODELS: dict[str, str] = {
    "mlp": "deep MLP: depth × (Linear(width) + activation), Linear head",
    "cnn": "plain CNN: depth × (3×3 conv(width) + activation), no normalization, avg pool",
    "resnet": "CIFAR ResNet with BatchNorm (He et al. 2016), depth = blocks per stage",
    "resnet_nobn": "the same ResNet without BatchNorm (identities in its place)",
    "fixup_resnet": "Fixup ResNet (Zhang et al. 2019): no normalization, scalar biases",
    "lstm": "LSTM of depth layers (hidden width) reading the input row by row, Linear head",
    "gpt": "nanoGPT (char-level: the text data set), depth blocks, width = n_embd",
}


class _Unflatten(nn.Module):
    """Flat rows → the model's input shape (the lab keeps every split flattened)."""

    def __init__(self, shape: tuple[int, ...], model: nn.Module) -> None:
        super().__init__()
        self.shape = shape
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.reshape(x.shape[0], *self.shape))


def build_model(name: str, input_shape: tuple[int, ...], out_features: int, *, depth: int = 3,
                width: int = 64, activation: Activation = "relu") -> nn.Module:
    """A zoo model for flattened inputs of ``input_shape`` (see :data:`LAB_MODELS`).

    ``mlp`` takes any shape; ``cnn`` and the ResNets need images (C, H, W); ``lstm`` reads
    (C, H, W) images as H steps of C·W features, (C, L) signals as L steps of C features and
    flat (d,) vectors as d steps of 1 feature; ``gpt`` (nanoGPT, heads of 16 dimensions) reads
    token ids: the ``text`` data set. The ResNets and GPT keep their own activations.

    Raises:
        InitError: an unknown name (the message lists them), a shape the model cannot take,
            a bad size or activation.

    Examples:
        >>> m = build_model("cnn", (1, 8, 8), 10, depth=2, width=4)
        >>> m(torch.zeros(3, 64)).shape
        torch.Size([3, 10])
        >>> build_model("lstm", (1, 28, 28), 10, depth=1, width=8)(torch.zeros(2, 784)).shape
        torch.Size([2, 10])
    """
    if name not in LAB_MODELS:
        raise InitError(f"unknown model {name!r}; choose from {', '.join(LAB_MODELS)}")
    for key, v in (("depth", depth), ("width", width), ("out_features", out_features)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InitError(f"build_model: {key} must be an int ≥ 1, got {v!r}")
    shape = tuple(int(d) for d in input_shape)
    n_in = int(math.prod(shape))
    if name == "gpt":
        if len(shape) != 1:
            raise InitError(f"model 'gpt' reads token sequences (the text data set); this data "
                            f"set's examples have shape {shape}")
        heads = max(1, width // 16)
        if width % heads:
            raise InitError(f"model 'gpt': width {width} must be a multiple of 16 (heads of 16)")
        return nano_gpt(n_layer=depth, n_embd=width, n_head=heads, vocab_size=out_features,
                        block_size=shape[0])
    if name == "mlp":
        return deep_mlp(depth, width, n_in, out_features, activation)
    if name == "lstm":
        steps, feats = (shape[1], shape[0] * shape[2]) if len(shape) == 3 else (
            (shape[1], shape[0]) if len(shape) == 2 else (n_in, 1))
        rnn = RecurrentClassifier(nn.LSTM, feats, width, depth, out_features, steps)
        if len(shape) in (2, 3):  # (C, H, W) → (H, C·W); (C, L) → (L, C)
            return _Permuted(rnn, shape)
        return _Unflatten((steps, feats), rnn)
    if len(shape) != 3:
        raise InitError(f"model {name!r} needs images of shape (C, H, W); this data set's "
                        f"examples have shape {shape}; use --model mlp or lstm")
    if name == "cnn":
        net: nn.Module = conv_net(depth, width, shape[0], out_features, activation)
    elif name == "fixup_resnet":
        net = fixup_resnet(depth, width, out_features, in_channels=shape[0])
    else:
        net = resnet(depth, width, out_features, in_channels=shape[0],
                     batchnorm=name == "resnet")
    return _Unflatten(shape, net)


class _Permuted(nn.Module):
    """(C, H, W) → (H, C·W) and (C, L) → (L, C): the sequence axis first."""

    def __init__(self, model: nn.Module, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.model = model
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        x = x.reshape(b, *self.shape)
        if x.dim() == 4:
            x = x.permute(0, 2, 1, 3).reshape(b, self.shape[1], -1)
        else:
            x = x.transpose(1, 2)
        return self.model(x)


ZOO = {
    "deep_mlp": deep_mlp,
    "plain_cnn": plain_cnn,
    "resnet": resnet,
    "fixup_resnet": fixup_resnet,
    "nano_gpt": nano_gpt,
    "tiny_llama": tiny_llama,
    "transformer_encoder": transformer_encoder,
    "lstm_model": lstm_model,
    "gru_model": gru_model,
    "functional_net": functional_net,
    "dict_model": dict_model,
}
"""Name → factory of every zoo model (each callable with no arguments)."""

__all__ = [
    "LAB_MODELS",
    "ZOO",
    "ActivationModule",
    "GPTConfig",
    "activation_module",
    "build_model",
    "conv_net",
    "deep_mlp",
    "dict_model",
    "fixup_resnet",
    "functional_net",
    "gru_model",
    "lstm_model",
    "nano_gpt",
    "plain_cnn",
    "resnet",
    "tiny_llama",
    "transformer_encoder",
]
