"""A per-run cache of decoded images keyed by content (sha256): decode each image once per run.

The folder check, the describer and the feature extractors all need the pixels of the same images. A run
makes one :class:`DecodedImages` and hands it to each (``load_folder(images=...)``, ``describe(images=...)``,
``MethodContext(images=...)``): the first to decode an image keeps it, the others reuse it. Bounded by bytes
and evicting the least recently used, so a large dataset costs a re-decode, never memory without limit.

>>> import tempfile
>>> from steervis.data import load_folder, make_toy_dataset
>>> images = DecodedImages()
>>> frame = load_folder(make_toy_dataset(tempfile.mkdtemp()), images=images).frame
>>> len(images) == len(frame), images.decoded
(True, 24)
>>> img = images.get(frame["sha256"][0], frame["path"][0])  # no decode: it was kept by the folder check
>>> images.decoded, images.hits
(24, 1)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.data.images import open_image

if TYPE_CHECKING:
    from PIL import Image as PILImage

# minidomains decodes to ~74 MB of RGB; 512 MB holds it several times over and bounds a big dataset's run.
MAX_BYTES = 512 * 2**20


class DecodedImages:
    """sha256 → decoded RGB ``PIL.Image`` (thread-safe, LRU, bounded by ``max_bytes`` of pixels)."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self._images: OrderedDict[str, PILImage.Image] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.decoded = 0  # images decoded through this cache (a measure of the work done)
        self.hits = 0

    def __len__(self) -> int:
        return len(self._images)

    def put(self, sha: str, image: PILImage.Image) -> None:
        size = image.width * image.height * len(image.getbands())
        with self._lock:
            if sha in self._images or size > self.max_bytes:
                return
            self._images[sha] = image
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._images.popitem(last=False)
                self._bytes -= old.width * old.height * len(old.getbands())

    def get(self, sha: str | None, path: str | Path) -> PILImage.Image:
        """The image with content ``sha``, decoded from ``path`` only if it is not kept (raises
        ``BadImage``)."""
        if sha:
            with self._lock:
                found = self._images.get(sha)
                if found is not None:
                    self._images.move_to_end(sha)
                    self.hits += 1
                    return found
        image = self.decode(path)
        if sha:
            self.put(sha, image)
        return image

    def decode(self, path: str | Path) -> PILImage.Image:
        image = open_image(path)
        with self._lock:
            self.decoded += 1
        return image
