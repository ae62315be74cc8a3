"""Look at a report as a person would: render it in headless Chromium, check what the browser drew.

>>> check = render_report("runs/quick/report.html", "runs/quick/report.png")  # doctest: +SKIP
>>> check["chart_width"] > 0 and check["broken_images"] == 0  # doctest: +SKIP
True
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from steervis.errors import SteervisError

# Flags for a closed network: without the background-networking ones Chromium keeps retrying Google's hosts.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--virtual-time-budget=5000"]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def render_report(report: str | Path, screenshot: str | Path | None = None, width: int = 1280,
                  height: int = 2400) -> dict[str, int]:
    """Render ``report`` headless; return what the page recorded after load (chart size, broken images,
    rows)."""
    browser = find_chromium()
    if browser is None:
        raise SteervisError("Chromium is not installed: `apt-get install chromium` (Debian) to render "
                            "reports.")
    url = Path(report).resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        base = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        if screenshot:
            subprocess.run([*base, f"--screenshot={Path(screenshot).resolve()}", url], capture_output=True,
                           timeout=120, check=False)
    found = {}
    for attr, key in (("data-chart-width", "chart_width"), ("data-broken-images", "broken_images"),
                      ("data-table-rows", "table_rows")):
        match = re.search(rf'{attr}="(\d+)"', dom)
        found[key] = int(match.group(1)) if match else -1
    return found


if __name__ == "__main__":
    print(render_report(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
