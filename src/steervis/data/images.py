"""Safe image opening and deterministic PNG writing.

Every image steervis reads goes through :func:`open_image`, which turns every way a file can be broken
(zero bytes, not an image, truncated, a decompression bomb) into one :class:`BadImage` with a short reason.

>>> from steervis.data.images import open_image, BadImage
>>> try:
...     open_image("/nonexistent.png")
... except BadImage as err:
...     print(err.reason)
unreadable: No such file or directory
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from steervis.errors import SteervisError

if TYPE_CHECKING:
    from PIL import Image as PILImage

# 40 MP is above any photo in PACS/Office-Home/DomainNet yet bounds a decode to ~120 MB of RGB.
MAX_PIXELS = 40_000_000
# Fixed zlib level: the same pixels always give the same PNG bytes (no timestamps, no text chunks).
PNG_COMPRESS_LEVEL = 9
WHITE = (255, 255, 255)


class BadImage(SteervisError):
    """A file that cannot be used as an image; ``reason`` says why in a few words."""

    def __init__(self, reason: str, path: str | Path | None = None):
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(f"{path}: {reason}" if path is not None else reason)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def to_rgb(img: PILImage.Image, background: tuple[int, int, int] = WHITE) -> PILImage.Image:
    """Flatten any mode to RGB, compositing transparency onto ``background`` (white by default)."""
    from PIL import Image

    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        img = img.convert("RGBA")
        canvas = Image.new("RGBA", img.size, background + (255,))
        return Image.alpha_composite(canvas, img).convert("RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        img = img.point(lambda v: v / 256).convert("L")  # 16-bit greyscale → 8 bit
    return img.convert("RGB")


def open_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> PILImage.Image:
    """Open ``path`` fully decoded as RGB (alpha composited on white, EXIF rotation applied).

    Args:
        path: Image file.
        max_pixels: Refuse images with more pixels than this (decompression-bomb guard).

    Returns:
        A loaded ``PIL.Image`` in mode RGB, detached from the file.

    Raises:
        BadImage: The file is missing, unreadable, empty, not an image, truncated or too large.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise BadImage(f"unreadable: {err.strerror or err}", path) from None
    if not path.is_file():
        raise BadImage("not a regular file", path)
    if size == 0:
        raise BadImage("zero-byte file", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                pixels = img.width * img.height
                if pixels > max_pixels:
                    raise BadImage(f"decompression bomb: {img.width}x{img.height} exceeds {max_pixels} "
                                   "pixels", path)
                img.load()  # decode now: a truncated file fails here, not later in a worker
                img = ImageOps.exif_transpose(img)
                return to_rgb(img)
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise BadImage(f"decompression bomb: {err}", path) from None
    except UnidentifiedImageError:
        raise BadImage("not an image (format not recognised)", path) from None
    except PermissionError as err:
        raise BadImage(f"unreadable: {err.strerror}", path) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise BadImage(f"truncated or corrupt: {err}", path) from None
    except Exception as err:  # a decoder bug must cost one file, never the whole scan
        raise BadImage(f"corrupt ({type(err).__name__}: {err})", path) from None


def fit(img: PILImage.Image, max_side: int = 256) -> PILImage.Image:
    """Shrink so the longest side is at most ``max_side``; never upscale."""
    from PIL import Image

    longest = max(img.size)
    if longest <= max_side:
        return img
    scale = max_side / longest
    new = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(new, Image.Resampling.LANCZOS)


def crop_to_content(img: PILImage.Image, margin: float = 0.04, threshold: int = 245) -> PILImage.Image:
    """Crop an RGB image on white to its non-white content plus a ``margin`` (fraction of the larger side).

    Clip-art often sits small in a large transparent canvas; cropping makes objects fill the frame.

    Raises:
        BadImage: Nothing but (near-)white pixels: the object would be invisible.
    """
    from PIL import ImageOps

    mask = ImageOps.invert(img.convert("L")).point(lambda v: 255 if v > 255 - threshold else 0)
    box = mask.getbbox()
    if box is None:
        raise BadImage("blank: no non-white pixels after compositing on white")
    pad = round(margin * max(box[2] - box[0], box[3] - box[1]))
    box = (max(0, box[0] - pad), max(0, box[1] - pad), min(img.width, box[2] + pad),
           min(img.height, box[3] + pad))
    return img.crop(box)


def png_bytes(img: PILImage.Image) -> bytes:
    """Encode as PNG with fixed settings and no metadata, so equal pixels give equal bytes."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL, optimize=False)
    return buf.getvalue()


def write_png(img: PILImage.Image, path: str | Path) -> str:
    """Write ``img`` as a deterministic PNG atomically (temp file + rename); returns its sha256."""
    from steervis.atomic import write_bytes

    data = png_bytes(img)
    write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()
