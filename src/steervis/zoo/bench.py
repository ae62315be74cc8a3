"""Model load times, first (empty cache) and cached, each measured in a fresh Python process.

>>> from steervis.zoo.bench import load_times  # or: steervis bench zoo-load
>>> load_times(["minilm-l6"])  # doctest: +SKIP
[{'model': 'minilm-l6', 'first_s': 3.1, 'cached_s': 2.4}]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

EMBEDDED = ["efficientnet-lite0", "minilm-l6", "smollm2-135m-instruct"]
SNIPPET = """
import json, time
t = time.perf_counter()
from steervis import zoo
e = zoo.entry({name!r})
e.load()
print(json.dumps(time.perf_counter() - t))
"""


def _timed_load(name: str, home: str) -> float:
    env = {**os.environ, "STEERVIS_HOME": home, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", SNIPPET.format(name=name)], env=env, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def load_times(names: list[str] | None = None) -> list[dict]:
    """Seconds from a fresh interpreter to a loaded model (imports included), first into an empty cache."""
    rows = []
    for name in names or EMBEDDED:
        with tempfile.TemporaryDirectory() as home:
            first = _timed_load(name, home)
            cached = _timed_load(name, home)
        rows.append({"model": name, "first_s": round(first, 2), "cached_s": round(cached, 2)})
    return rows


def zoo_load(models: list[str] | None = None) -> list[dict]:
    """``steervis bench zoo-load --set models=[minilm-l6]``."""
    return load_times(models)


if __name__ == "__main__":
    print(json.dumps(load_times(sys.argv[1:] or None), indent=2))
