"""report/figures.save_png writes like every other output (initlab.files): an interrupted save
leaves no file with the final name, and the old file stays as it was."""

from __future__ import annotations

import pytest

from initlab.report.figures import pyplot, save_png


def test_interrupted_save_leaves_the_old_file(tmp_path, monkeypatch):
    plt = pyplot()
    out = tmp_path / "fig.png"
    out.write_bytes(b"old")
    fig = plt.figure(figsize=(1, 1))
    real = fig.savefig

    def partial(fname, **kw):  # type: ignore[no-untyped-def]
        real(fname, **kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(fig, "savefig", partial)
    with pytest.raises(KeyboardInterrupt):
        save_png(fig, out)
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
    fig2 = plt.figure(figsize=(1, 1))
    assert save_png(fig2, tmp_path / "sub" / "g.svg").read_bytes().lstrip().startswith(b"<?xml")
