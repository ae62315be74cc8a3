"""Import paths that moved in 0.2: importing an old one raises an ImportError naming the new one.

>>> import steervis
>>> import steervis.retrieval.customize
Traceback (most recent call last):
...
ImportError: steervis.retrieval moved to steervis.react in steervis 0.2 (customize → build, react → ...
>>> new_home("steervis.data.pool_text")
'steervis.data.pool.text'
>>> new_home("steervis.describe.run")
'steervis.vllavo.describe.run'

"""

from __future__ import annotations

import importlib.abc
import sys

# old module → new module; a package's entry also covers its submodules that are not listed.
MOVED = {
    "steervis.describe": "steervis.vllavo.describe",
    "steervis.describe.matchers": "steervis.matchers (ConSE, CLIP, the registry) and steervis.react.matchers",
    "steervis.describe.prompts": "steervis.matchers.prompts",
    "steervis.describe.features": "steervis.matchers.features",
    "steervis.describe.index": "steervis.matchers.index",
    "steervis.describe.gated_head": "steervis.react.gated_head",
    "steervis.describe.gated_clip": "steervis.react.gated_clip",
    "steervis.describe.neighbours": "steervis.vllavo.describe.pool_captions",
    "steervis.decide": "steervis.vllavo.decide",
    "steervis.retrieval": "steervis.react",
    "steervis.retrieval.customize": "steervis.react.build",
    "steervis.retrieval.react": "steervis.react.train_head",
    "steervis.retrieval.react_clip": "steervis.react.train_clip",
    "steervis.vlm": "steervis.llava",
    "steervis.data.pool_exclude": "steervis.data.pool.exclude",
    "steervis.data.pool_sources": "steervis.data.pool.sources",
    "steervis.data.pool_text": "steervis.data.pool.text",
    "steervis.describe.claims": "steervis.store.claims",
    "steervis.partstore": "steervis.store",
    "steervis.data.features": "steervis.store",
}


def new_home(name: str) -> str | None:
    """Where the old module ``name`` lives now, or None if it did not move."""
    if name in MOVED:
        return MOVED[name]
    package, _, member = name.rpartition(".")
    while package:
        if package in MOVED and " " not in MOVED[package]:
            return f"{MOVED[package]}.{name[len(package) + 1:]}"
        package, _, _ = package.rpartition(".")
    return None


class MovedFinder(importlib.abc.MetaPathFinder):
    """Answers an import of a moved module with an ImportError that names its new home."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        home = new_home(name)
        if home is None:
            return None
        # Python imports an old package before its module, so the package's message names its renamed modules.
        renamed = [f"{old[len(name) + 1:]} → {new.rsplit('.', 1)[-1] if new.startswith(home) else new}"
                   for old, new in MOVED.items() if old.startswith(name + ".")]
        also = f"{', '.join(renamed)}; " if renamed else ""
        raise ImportError(f"{name} moved to {home} in steervis 0.2 ({also}README, \"Moved in 0.2\").",
                          name=name)


def install() -> None:
    """Put the finder first on ``sys.meta_path`` once."""
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedFinder())
