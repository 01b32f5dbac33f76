"""Tiny builds of third-party architectures, for the real-model tests and benchmark.

Every ``transformers`` model is constructed from a config object (no download; the tests set
``HF_HUB_OFFLINE=1``), small enough that plan + init + doctor take well under a second each.
The hand-written models are the CNNs/RNNs practitioners write themselves.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

V = 96  # vocabulary of the language models
T = 8  # sequence length


@dataclass
class RealModel:
    """A built model, an input for it, and how to read a scalar loss from its output."""

    name: str
    model: nn.Module
    example: Any
    loss: Callable[[Any], torch.Tensor]
    classes: int
    hf: bool


def _quiet() -> None:
    import transformers

    transformers.logging.set_verbosity_error()


def _tokens(seed: int = 0, batch: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, V, (batch, T), generator=g)


def _lm_loss(ids: torch.Tensor) -> Callable[[Any], torch.Tensor]:
    def loss(out: Any) -> torch.Tensor:
        logits = out.logits if hasattr(out, "logits") else out
        return nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                           ids[:, 1:].reshape(-1))
    return loss


def _cls_loss(labels: torch.Tensor) -> Callable[[Any], torch.Tensor]:
    def loss(out: Any) -> torch.Tensor:
        logits = out.logits if hasattr(out, "logits") else out
        if logits.dim() > 2:
            logits = logits.flatten(2).mean(-1)
        return nn.functional.cross_entropy(logits, labels)
    return loss


def _small() -> dict[str, Any]:
    return dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=64, vocab_size=V, max_position_embeddings=32)


def _causal_lms(tf: Any) -> dict[str, Callable[[], nn.Module]]:
    kv = dict(num_key_value_heads=2)
    return {
        "gpt2": lambda: tf.GPT2LMHeadModel(tf.GPT2Config(
            n_embd=32, n_layer=2, n_head=4, vocab_size=V, n_positions=32, bos_token_id=0,
            eos_token_id=0)),
        "llama": lambda: tf.LlamaForCausalLM(tf.LlamaConfig(**_small(), **kv)),
        "mistral": lambda: tf.MistralForCausalLM(tf.MistralConfig(**_small(), **kv)),
        "qwen2": lambda: tf.Qwen2ForCausalLM(tf.Qwen2Config(**_small(), **kv)),
        "mixtral": lambda: tf.MixtralForCausalLM(tf.MixtralConfig(
            **_small(), **kv, num_local_experts=4, num_experts_per_tok=2)),
        "gpt_neox": lambda: tf.GPTNeoXForCausalLM(tf.GPTNeoXConfig(**_small())),
        "opt": lambda: tf.OPTForCausalLM(tf.OPTConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64,
            vocab_size=V, max_position_embeddings=32, word_embed_proj_dim=32)),
        "phi": lambda: tf.PhiForCausalLM(tf.PhiConfig(**_small())),
        "bert": lambda: tf.BertForMaskedLM(tf.BertConfig(**_small())),
        "distilbert": lambda: tf.DistilBertForMaskedLM(tf.DistilBertConfig(
            dim=32, n_layers=2, n_heads=4, hidden_dim=64, vocab_size=V,
            max_position_embeddings=32)),
        "roberta": lambda: tf.RobertaForMaskedLM(tf.RobertaConfig(**_small())),
        "mamba": lambda: tf.MambaForCausalLM(tf.MambaConfig(
            hidden_size=32, num_hidden_layers=2, vocab_size=V, state_size=8, expand=2)),
    }  # fmt: skip


def _vision(tf: Any, name: str) -> RealModel:
    size = 16 if name == "vit" else 32
    x = torch.randn(4, 3, size, size, generator=torch.Generator().manual_seed(0))
    if name == "vit":
        m = tf.ViTForImageClassification(tf.ViTConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            image_size=16, patch_size=4, num_labels=10))
    elif name == "convnext":
        m = tf.ConvNextForImageClassification(tf.ConvNextConfig(
            num_stages=2, hidden_sizes=[8, 16], depths=[1, 1], num_labels=10, image_size=32))
    else:
        m = tf.ResNetForImageClassification(tf.ResNetConfig(
            embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], num_labels=10,
            layer_type="basic"))
    return RealModel(name, m, x, _cls_loss(torch.arange(4) % 10), 10, True)


def _seq2seq(tf: Any, name: str) -> RealModel:
    ids = _tokens()
    if name == "t5":
        m = tf.T5ForConditionalGeneration(tf.T5Config(
            d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, vocab_size=V,
            decoder_start_token_id=0))
        return RealModel(name, m, {"input_ids": ids, "decoder_input_ids": ids},
                         _lm_loss(ids), V, True)
    m = tf.WhisperForConditionalGeneration(tf.WhisperConfig(
        d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=V,
        num_mel_bins=8, max_source_positions=16, max_target_positions=32,
        decoder_start_token_id=0, pad_token_id=0))
    feats = torch.randn(2, 8, 32, generator=torch.Generator().manual_seed(0))
    return RealModel(name, m, {"input_features": feats, "decoder_input_ids": ids[:2]},
                     _lm_loss(ids[:2]), V, True)


def _hf(name: str) -> RealModel:
    import transformers as tf

    _quiet()
    torch.manual_seed(0)
    if name in ("vit", "convnext", "resnet"):
        return _vision(tf, name)
    if name in ("t5", "whisper"):
        return _seq2seq(tf, name)
    ids = _tokens()
    return RealModel(name, _causal_lms(tf)[name](), ids, _lm_loss(ids), V, True)


HF_NAMES = ("gpt2", "llama", "mistral", "qwen2", "mixtral", "gpt_neox", "opt", "phi", "bert",
            "distilbert", "roberta", "t5", "mamba", "vit", "convnext", "resnet", "whisper")


# ------------------------------------------------------------------ hand-written models ----
class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    def __init__(self, width: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        blocks, c = [], width
        for i, n in enumerate((2, 2, 2, 2)):
            out = width * 2 ** i
            for j in range(n):
                blocks.append(BasicBlock(c, out, 2 if (j == 0 and i > 0) else 1))
                c = out
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.layers(self.stem(x)).mean((2, 3)))


class UNet(nn.Module):
    def __init__(self, c: int = 8, classes: int = 3) -> None:
        super().__init__()

        def block(a: int, b: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(),
                                 nn.Conv2d(b, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU())

        self.down1, self.down2 = block(3, c), block(c, 2 * c)
        self.mid = block(2 * c, 4 * c)
        self.up2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, 2)
        self.dec2 = block(4 * c, 2 * c)
        self.up1 = nn.ConvTranspose2d(2 * c, c, 2, 2)
        self.dec1 = block(2 * c, c)
        self.head = nn.Conv2d(c, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1 = self.down1(x)
        d2 = self.down2(nn.functional.max_pool2d(d1, 2))
        m = self.mid(nn.functional.max_pool2d(d2, 2))
        u2 = self.dec2(torch.cat([self.up2(m), d2], 1))
        u1 = self.dec1(torch.cat([self.up1(u2), d1], 1))
        return self.head(u1)


class LSTMLM(nn.Module):
    def __init__(self, vocab: int = V, d: int = 32) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.rnn = nn.LSTM(d, d, num_layers=2, batch_first=True)
        self.out = nn.Linear(d, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(self.emb(ids))[0])


class InvertedResidual(nn.Module):
    def __init__(self, c: int, expand: int = 4) -> None:
        super().__init__()
        h = c * expand
        self.block = nn.Sequential(
            nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class MobileNetish(nn.Module):
    def __init__(self, c: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c),
                                  nn.ReLU6())
        self.blocks = nn.Sequential(*[InvertedResidual(c) for _ in range(3)])
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


class TorchEncoderClassifier(nn.Module):
    def __init__(self, vocab: int = V, d: int = 32, classes: int = 10) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = nn.Linear(d, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.enc(self.emb(ids)).mean(1))


def _hand(name: str) -> RealModel:
    torch.manual_seed(0)
    img = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(8) % 10
    if name == "resnet18":
        return RealModel(name, ResNet18(), img, _cls_loss(labels), 10, False)
    if name == "unet":
        m = UNet()
        y = torch.arange(8 * 16 * 16).reshape(8, 16, 16) % 3

        def seg_loss(out: torch.Tensor) -> torch.Tensor:
            return nn.functional.cross_entropy(out, y)
        return RealModel(name, m, img, seg_loss, 3, False)
    if name == "lstm_lm":
        ids = _tokens()
        return RealModel(name, LSTMLM(), ids, _lm_loss(ids), V, False)
    if name == "mobilenet":
        return RealModel(name, MobileNetish(), img, _cls_loss(labels), 10, False)
    if name == "torch_encoder":
        ids = _tokens()
        return RealModel(name, TorchEncoderClassifier(), ids, _cls_loss(torch.arange(4) % 10),
                         10, False)
    raise KeyError(name)


HAND_NAMES = ("resnet18", "unet", "lstm_lm", "mobilenet", "torch_encoder")
ALL_NAMES = HF_NAMES + HAND_NAMES


def build(name: str) -> RealModel:
    """Build model ``name`` (one of :data:`ALL_NAMES`) with its input and loss, seed 0."""
    return _hand(name) if name in HAND_NAMES else _hf(name)
