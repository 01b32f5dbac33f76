"""initlab's local web explorer: a FastAPI app (:mod:`initlab.web.app`) and a static page
(``static/``) that draws what the library computes. Start it with ``initlab explore``.
"""

from initlab.web.app import create_app

__all__ = ["create_app"]
