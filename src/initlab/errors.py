"""The library's own exception types.

Every error that initlab raises on purpose is an :class:`InitError`. It is a ``ValueError`` so
that code written against ``torch.nn.init`` (which raises ``ValueError``) keeps working, and its
message always says what was wrong, where, and what to do instead.
"""

from __future__ import annotations


class InitError(ValueError):
    """Bad input to an initlab function: the message names the argument and the fix.

    Examples:
        >>> import torch, initlab
        >>> try:
        ...     initlab.xavier_normal_(torch.empty(5))
        ... except initlab.errors.InitError as e:
        ...     print("xavier_normal_" in str(e))
        True
    """


__all__ = ["InitError"]
