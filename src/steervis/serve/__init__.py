"""The web page: chat about an image, classify it, describe it, open run reports (``steervis serve``).

A front floor beside the commands: it stands on the systems (LLaVA, describe-decide, REACT) through their
public APIs and the method registry. Names load lazily (no FastAPI on import).

>>> from steervis.serve import ServeConfig
>>> ServeConfig().port
8765
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "ServeConfig": "steervis.serve.config",
    "create_app": "steervis.serve.app",
    "run_server": "steervis.serve.app",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
