"""The upload folder: images a person gave the page, checked, re-encoded as PNG, and never more than a few.

An upload is read with a byte limit (the rest is never read), decoded with
:func:`steervis.data.images.open_image` (zero bytes, not an image, truncated, too many pixels: one sentence
each), and kept as a PNG named by its content, so the same picture twice is one file and the describe store's
cache answers the second. The folder keeps the newest ``kept`` images and is deleted when the server stops.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from steervis.data.images import BadImage, open_image, png_bytes
from steervis.serve.problems import RequestError


class Uploads:
    """Checked images by id, on disk in a private folder (``path``), oldest dropped beyond ``kept``."""

    def __init__(self, max_bytes: int, max_pixels: int, kept: int, root: str | Path | None = None):
        self.max_bytes, self.max_pixels, self.kept = max_bytes, max_pixels, kept
        self.folder = Path(tempfile.mkdtemp(prefix="steervis-serve-", dir=root))
        self._images: OrderedDict[str, Any] = OrderedDict()  # id → decoded RGB image, oldest first
        self._lock = threading.Lock()

    def too_large(self) -> RequestError:
        return RequestError(f"The file is larger than the {self.max_bytes >> 20} MB this page accepts.", 413)

    def add(self, data: bytes, name: str = "") -> dict[str, Any]:
        """Check ``data`` and keep it; returns ``{"id", "width", "height"}``."""
        if not data:
            raise RequestError("The upload is empty (zero bytes): choose an image file.")
        if len(data) > self.max_bytes:
            raise self.too_large()
        staged = self.folder / f"incoming-{threading.get_ident()}"
        staged.write_bytes(data)
        try:
            image = open_image(staged, max_pixels=self.max_pixels)
        except BadImage as err:
            what, reason = name or "The upload", err.reason.rstrip(".")
            if reason.startswith("decompression bomb"):
                raise RequestError(f"{what} has too many pixels (this page decodes at most "
                                   f"{self.max_pixels:,}): {reason.removeprefix('decompression bomb: ')}.",
                                   413) from None
            raise RequestError(f"{what} is not a usable image: {reason}.", 400) from None
        finally:
            staged.unlink(missing_ok=True)
        png = png_bytes(image)
        key = hashlib.sha256(png).hexdigest()[:16]
        with self._lock:
            (self.folder / f"{key}.png").write_bytes(png)
            self._images[key] = image
            self._images.move_to_end(key)
            while len(self._images) > self.kept:
                old, _ = self._images.popitem(last=False)
                (self.folder / f"{old}.png").unlink(missing_ok=True)
        return {"id": key, "width": image.width, "height": image.height}

    def get(self, key: str) -> tuple[Any, Path]:
        """The decoded image and its PNG file, or a 404 :class:`RequestError`."""
        with self._lock:
            image = self._images.get(key)
        if image is None:
            raise RequestError("That image is no longer on the server: upload it again.", 404)
        return image, self.folder / f"{key}.png"

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.png"))

    def clean(self) -> None:
        """Delete the folder and everything in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
