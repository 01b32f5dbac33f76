"""How results reach the presentation layer without an upward import.

Results (an :class:`~initlab.model.plan.InitPlan`, a :class:`~initlab.probe.diagnosis.Diagnosis`)
are data in their own layer; ``report/`` owns every renderer and registers it here for the type
it draws, under a view name (``"rich"``, ``"text"``, ``"plot"``, ``"html"``). The result's
``__rich__`` / ``__str__`` / ``plot()`` / ``to_html()`` call :func:`render`, so ``probe/`` and
``model/`` never import ``report/``. The first :func:`render` loads ``initlab.report``, which
registers its renderers; like :mod:`initlab.errors`, this module sits below every layer.

Examples:
    >>> import initlab, torch
    >>> from torch import nn
    >>> p = initlab.plan(nn.Linear(4, 2), torch.randn(1, 4), policy="xavier")
    >>> "xavier" in render(p, "text")
    True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from initlab.errors import InitError

_VIEWS: dict[tuple[type, str], Callable[..., Any]] = {}


def register_view(cls: type, view: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``fn(obj, *args, **kwargs)`` the ``view`` of every ``cls`` instance (also of its
    subclasses). Called by ``report/`` modules at import; returns ``fn``.

    Examples:
        >>> class Result:
        ...     pass
        >>> _ = register_view(Result, "text", lambda r: "a result")
        >>> render(Result(), "text")
        'a result'
    """
    _VIEWS[(cls, view)] = fn
    return fn


def _lookup(cls: type, view: str) -> Callable[..., Any] | None:
    for c in cls.__mro__:
        fn = _VIEWS.get((c, view))
        if fn is not None:
            return fn
    return None


def render(obj: Any, view: str, *args: Any, **kwargs: Any) -> Any:
    """The ``view`` of ``obj`` drawn by its registered renderer.

    Raises:
        InitError: no renderer registered for this type and view.

    Examples:
        >>> render(3, "html")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        initlab.errors.InitError: no 'html' view of int is registered (known: none)...
    """
    fn = _lookup(type(obj), view)
    if fn is None:  # `import initlab` is lazy: load the renderers on first use
        importlib.import_module("initlab.report")
        fn = _lookup(type(obj), view)
    if fn is not None:
        return fn(obj, *args, **kwargs)
    known = sorted(v for c, v in _VIEWS if isinstance(obj, c))
    raise InitError(
        f"no {view!r} view of {type(obj).__name__} is registered (known: {known or 'none'}); "
        "import initlab.report, which registers the renderers"
    )


class Rendered:
    """Mixin for a result whose ``__rich__`` and ``__str__`` are its ``"rich"`` and ``"text"``
    views (``rich.print(result)``, ``print(result)``), drawn by report/."""

    def __rich__(self) -> Any:
        return render(self, "rich")

    def __str__(self) -> str:
        return str(render(self, "text"))


__all__ = ["Rendered", "register_view", "render"]
