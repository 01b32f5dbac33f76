"""Output files done safely: check a path before any work, write it atomically.

Every command that writes a file (figures, HTML, JSON, weights, stores) checks the path *before*
it starts the work — so a typo costs a red line, not a minute of computation and a traceback —
and writes through :func:`atomic_output`, so an interrupted write never leaves a file that looks
complete: the bytes go to a temporary file beside the target, which is renamed over it only when
complete. Files get the usual permissions (0666 minus the umask, like ``open()``), not the 0600 of
``tempfile``. Every file :func:`atomic_output` completes is recorded (:func:`written_since`), so an
interrupted command can say truthfully what it had already written.

Examples:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = check_output_path(d / "fig.png", (".png", ".svg"), option="--out")
    >>> with atomic_output(p) as tmp:
    ...     _ = tmp.write_bytes(b"png bytes")
    >>> p.read_bytes()
    b'png bytes'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from initlab.errors import InitError


def check_output_path(
    path: str | os.PathLike[str],
    suffixes: Sequence[str] | None = None,
    *,
    option: str = "--out",
    directory: bool = False,
    create: bool = True,
) -> Path:
    """Validate an output path before any work is done; return it as a :class:`Path`.

    Args:
        path: where the output will be written.
        suffixes: the extensions the writer supports (``(".png", ".svg", ".pdf")``); the path's
            extension must be one of them (case-insensitive). ``None`` accepts any.
        option: the command-line option or argument name, used in the messages.
        directory: the output is a directory (created if missing) rather than a file.
        create: create the missing folders now (default); ``False`` only checks that they can
            be created (the nearest existing ancestor is a writable directory), so a command
            that fails later leaves nothing behind; the writer creates them
            (:func:`atomic_output` does).

    Raises:
        InitError: the path is an existing directory where a file is wanted (or a file where a
            directory is wanted), has no or an unsupported extension, or its parent cannot be
            created or written (a parent that is a file, no permission).

    Examples:
        >>> check_output_path("out/report.txt", (".html",), option="--html")
        Traceback (most recent call last):
        ...
        initlab.errors.InitError: --html: 'out/report.txt' has extension '.txt'; use one of .html
    """
    p = Path(os.fspath(path)).expanduser()
    if str(p) in ("", "."):
        raise InitError(f"{option}: empty path; give a file name like out/figure.png")
    if directory:
        if p.exists() and not p.is_dir():
            raise InitError(f"{option}: {str(p)!r} is a file; give a directory (it is created)")
        _prepare_dir(p, option, create)
        return p
    if p.is_dir():
        hint = f" such as {str(p / ('output' + suffixes[0]))!r}" if suffixes else ""
        raise InitError(f"{option}: {str(p)!r} is a directory; give a file name{hint}")
    if suffixes is not None:
        allowed = tuple(s.lower() for s in suffixes)
        ext = p.suffix.lower()
        if not ext:
            raise InitError(
                f"{option}: {str(p)!r} has no extension; use one of {', '.join(allowed)} "
                f"(e.g. {str(p) + allowed[0]!r})"
            )
        if ext not in allowed:
            raise InitError(
                f"{option}: {str(p)!r} has extension {ext!r}; use one of {', '.join(allowed)}"
            )
    _prepare_dir(p.parent, option, create)
    return p


def _prepare_dir(d: Path, option: str, create: bool) -> None:
    if create:
        _ensure_dir(d, option)
        _check_writable(d, option)
        return
    existing = next(a for a in (d, *d.parents) if a.exists() or a == Path(a.anchor or "."))
    if existing.exists() and not existing.is_dir():
        raise InitError(
            f"{option}: cannot create {str(d)!r}: {str(existing)!r} is a file, not a "
            "directory; choose another location"
        )
    _check_writable(existing if str(existing) else Path("."), option)


def _ensure_dir(d: Path, option: str) -> None:
    for parent in (d, *d.parents):  # the first existing ancestor must be a directory
        if parent.exists():
            if not parent.is_dir():
                raise InitError(
                    f"{option}: cannot create {str(d)!r}: {str(parent)!r} is a file, not a "
                    "directory; choose another location"
                )
            break
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InitError(f"{option}: cannot create directory {str(d)!r} ({e.strerror})") from None


def _check_writable(d: Path, option: str) -> None:
    if not os.access(d, os.W_OK | os.X_OK):
        raise InitError(f"{option}: directory {str(d)!r} is not writable; choose another location")


def _umask() -> int:
    """The process umask. Linux shows it in /proc; elsewhere it can only be read by setting it,
    and setting it to 0 while another thread (the explorer's server) creates files would give
    those files mode 0666, so /proc comes first."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Every file :func:`atomic_output` completed in this process, in order (see :func:`written_since`).
_WRITTEN: list[Path] = []


def _forget(tmp: Path) -> None:
    _WRITTEN[:] = [p for p in _WRITTEN if p != tmp]


def write_mark() -> int:
    """A mark for :func:`written_since`: how many files this process has completed so far."""
    return len(_WRITTEN)


def written_since(mark: int = 0) -> tuple[Path, ...]:
    """The files :func:`atomic_output` completed (renamed to their final name) since ``mark``
    (:func:`write_mark`), each once, in the order they were first written.

    Examples:
        >>> import tempfile, pathlib
        >>> mark = write_mark()
        >>> p = write_text_atomic(pathlib.Path(tempfile.mkdtemp()) / "a.txt", "hi")
        >>> written_since(mark) == (p,)
        True
    """
    return tuple(dict.fromkeys(_WRITTEN[mark:]))


def interrupt_note(mark: int = 0) -> str:
    """The line an interrupted command prints: ``interrupted: nothing was written``, or the
    files it had already completed since ``mark`` (the first three named, then a count).

    Examples:
        >>> interrupt_note(write_mark())
        'interrupted: nothing was written'
    """
    done = written_since(mark)
    if not done:
        return "interrupted: nothing was written"
    names = ", ".join(str(p) for p in done[:3])
    more = f" and {len(done) - 3} more" if len(done) > 3 else ""
    return f"interrupted: only {names}{more} had been written"


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On an exception (``KeyboardInterrupt`` included) the temporary file is removed and ``path``
    is left as it was: no half-written file ever carries the final name.

    The temporary name ends in ``.part`` + the target's extension (writers that pick a format by
    extension accept it); ``suffix`` replaces that ending, e.g. ``".part"`` where readers glob
    the extension (sharded-checkpoint readers list every ``*.safetensors`` in a directory).

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
        >>> with atomic_output(p) as tmp:
        ...     _ = tmp.write_text("{}")
        >>> p.read_text()
        '{}'
    """
    target = Path(os.fspath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.",
        suffix=".part" + target.suffix if suffix is None else suffix,
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
        _forget(tmp)  # a writer that itself wrote atomically into ``tmp`` recorded it
        _WRITTEN.append(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _forget(tmp)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path.

    Examples:
        >>> import tempfile, pathlib
        >>> write_text_atomic(pathlib.Path(tempfile.mkdtemp()) / "a.txt", "hi").read_text()
        'hi'
    """
    target = Path(os.fspath(path))
    with atomic_output(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


__all__ = ["atomic_output", "check_output_path", "interrupt_note", "write_mark",
           "write_text_atomic", "written_since"]
