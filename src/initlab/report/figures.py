"""What every figure of the report layer shares: matplotlib with the Agg backend, saving a
figure as a PNG file (parent folders created) or as PNG bytes (for HTML pages).

Examples:
    >>> plt = pyplot()
    >>> fig = plt.figure(figsize=(2, 1))
    >>> png_bytes(fig)[:4] == b"\\x89PNG"
    True
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display needed), imported on first use.

    Examples:
        >>> pyplot().get_backend().lower()
        'agg'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: The file formats a figure can be saved in (the extension decides).
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def save_png(fig: Any, path: str | Path, dpi: int = 100) -> Path:
    """Save ``fig`` as a PNG at ``path`` (parent folders created), close it, return the path.

    Written through :func:`initlab.files.atomic_output`: an interrupted save leaves no partial
    file under the final name. The format follows the extension (``.svg``, ``.pdf`` work too;
    none: PNG).

    Examples:
        >>> import tempfile
        >>> p = save_png(pyplot().figure(figsize=(1, 1)), Path(tempfile.mkdtemp()) / "a" / "f.png")
        >>> p.read_bytes()[:4] == b"\\x89PNG"
        True
    """
    from initlab.files import atomic_output

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:].lower() or "png", dpi=dpi,
                        bbox_inches="tight")
    finally:
        pyplot().close(fig)
    return path


def png_bytes(fig: Any, dpi: int = 90) -> bytes:
    """``fig`` as PNG bytes (closed afterwards), for embedding in HTML as base64.

    Examples:
        >>> png_bytes(pyplot().figure(figsize=(1, 1)))[:4] == b"\\x89PNG"
        True
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return buf.getvalue()


__all__ = ["FIGURE_SUFFIXES", "png_bytes", "pyplot", "save_png"]


def layer_axis(ax: Any, label: str = "layer") -> None:
    """Label ``ax``'s x axis as a layer index with whole-number ticks only (a 3-layer net gets
    1, 2, 3, not 1.0, 1.5, 2.0...).

    Examples:
        >>> fig = pyplot().figure()
        >>> ax = fig.add_subplot()
        >>> _ = ax.plot([1, 2, 3], [1.0, 0.5, 0.25])
        >>> layer_axis(ax)
        >>> fig.canvas.draw()
        >>> [t for t in ax.get_xticks() if 1 <= t <= 3 and t != int(t)]
        []
    """
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
