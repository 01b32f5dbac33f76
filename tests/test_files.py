"""initlab.files: output paths checked before work, atomic writes."""

import os
import stat

import pytest

from initlab.errors import InitError
from initlab.files import atomic_output, check_output_path, write_text_atomic


def test_good_path_creates_parent(tmp_path):
    p = check_output_path(tmp_path / "a" / "b" / "fig.png", (".png",))
    assert p.parent.is_dir() and not p.exists()


@pytest.mark.parametrize(
    ("name", "match"),
    [("fig.txt", "extension '.txt'"), ("fig", "no extension"), ("", "empty path")],
)
def test_bad_extension(tmp_path, name, match):
    with pytest.raises(InitError, match=match):
        check_output_path(tmp_path / name if name else "", (".png", ".svg"), option="--out")


def test_directory_where_file_wanted(tmp_path):
    with pytest.raises(InitError, match="is a directory"):
        check_output_path(tmp_path, (".html",), option="--html")


def test_parent_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InitError, match="is a file"):
        check_output_path(f / "sub" / "fig.png", (".png",))
    with pytest.raises(InitError, match="is a file"):
        check_output_path(f, directory=True)


def test_suffix_case_insensitive(tmp_path):
    assert check_output_path(tmp_path / "F.PNG", (".png",)).name == "F.PNG"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_unwritable_parent(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(InitError, match="not writable"):
            check_output_path(d / "x.png", (".png",))
    finally:
        d.chmod(0o700)


def test_atomic_output_renames_and_uses_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_text_atomic(tmp_path / "x.json", "{}")
    finally:
        os.umask(old)
    assert p.read_text() == "{}"
    assert stat.S_IMODE(p.stat().st_mode) == 0o644  # not tempfile's 0600
    assert sorted(os.listdir(tmp_path)) == ["x.json"]


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_output(p) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert p.read_text() == "old"
    assert os.listdir(tmp_path) == ["x.json"]


def test_atomic_output_suffix_hides_the_extension_while_writing(tmp_path):
    """suffix=".part": while written, the temporary file does not end in the target's extension
    (readers that list every *.safetensors in a directory must not see a half-written shard)."""
    target = tmp_path / "model-00001-of-00001.safetensors"
    with atomic_output(target, suffix=".part") as tmp:
        assert tmp.name.endswith(".part") and tmp.parent == tmp_path
        assert list(tmp_path.glob("*.safetensors")) == []
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x" and sorted(tmp_path.iterdir()) == [target]
    with atomic_output(tmp_path / "fig.png") as tmp:  # default: keeps the extension
        assert tmp.name.endswith(".part.png")
        tmp.write_bytes(b"png")
