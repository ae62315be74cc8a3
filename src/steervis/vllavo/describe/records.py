"""What both describe engines (local threads, Ray actors) share: one image → model inputs, one result → a
record.

>>> record_of("00ff", None, "zero-byte file")["status"]
'failed'
"""

from __future__ import annotations

from typing import Any

from steervis.vllavo.describe.description import Description


def record_of(sha: str, description: Description | None, error: str | None = None) -> dict[str, Any]:
    """The store row of one image: its description, or why it has none."""
    return {"sha256": sha, "status": "ok" if error is None else "failed", "error": error,
            "description": description.to_json() if description is not None else None}


def prepare_image(describer: Any, path: str, sha: str | None = None,
                  images: Any = None) -> tuple[dict[str, Any] | None, str | None]:
    """``(describer.prepare(image), None)``, or ``(None, reason)`` if the image cannot be used.

    With ``images`` (the run's :class:`~steervis.data.decoded.DecodedImages`), an image already decoded in
    this run is reused rather than decoded again.
    """
    from steervis.data.images import BadImage, open_image

    try:
        image = images.get(sha, path) if images is not None else open_image(path)
    except BadImage as err:
        return None, err.reason
    try:
        return describer.prepare(image), None
    except Exception as err:  # a preprocessing bug must cost one image, never the run
        return None, f"preprocess failed ({type(err).__name__}: {err})"
