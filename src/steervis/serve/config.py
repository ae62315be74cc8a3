"""``steervis serve``'s settings: where it listens, which models it loads, and the limits on what it accepts.

>>> from steervis.serve.config import ServeConfig
>>> ServeConfig().host, ServeConfig().method
('127.0.0.1', 'zeroshot')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from steervis.data.images import MAX_PIXELS
from steervis.device import check_placement
from steervis.vllavo.describe.config import DescribeConfig


@dataclass
class ServeConfig:
    """The web page's settings.

    Attributes:
        host: Address to bind; ``0.0.0.0`` exposes the page to the network.
        port: TCP port (0: any free one).
        runs: The runs root: reports of finished run folders under it can be opened, nothing outside it.
        vlm: The chat model: a saved folder, stage1, stage2, tiny-vlm, tiny-llava or a hub Llava id (default:
            the latest stage trained here).
        adapter: A describe-decide adapter from ``steervis fit`` for classify (default: ``method``).
        method: The classifier that needs no fit when no adapter is given: ``zeroshot`` or ``react``.
        options: The method's options (``matcher``, ``temperature``, ...: ``steervis.methods``).
        classes: The class names zero-shot and REACT choose from (a request may name its own for zero-shot).
        describe: The describer of the describe tab (``steervis describe``'s settings).
        preload: Load every model when the server starts (else on first use).
        max_new_tokens: The most tokens one answer may take, whatever the page asks.
        max_message_chars: The longest message accepted.
        max_upload_mb: The largest image file accepted, in MB.
        max_pixels: The most pixels an image may have (a decompression-bomb guard).
        uploads_kept: Images kept in the upload folder; the oldest are deleted beyond it.
        device: Where the page's models run (``auto``, ``cpu``, ``cuda``, ``cuda:N``); a method's
            ``options.device`` or ``describe.device`` set otherwise wins for that model.
        dtype: Their precision (``auto``, ``float32``, ``bfloat16``, ``float16``), overridable the same way.
    """

    host: str = "127.0.0.1"  # loopback: the page is for the person at this machine unless --host says so
    port: int = 8765
    runs: str = "runs"  # where `steervis evaluate` writes its run folders by default
    vlm: str | None = None
    adapter: str | None = None
    method: str = "zeroshot"
    options: dict[str, Any] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    describe: DescribeConfig = field(default_factory=DescribeConfig)
    preload: bool = True
    max_new_tokens: int = 256  # a long answer of the small LLaVA; the page's slider stops here
    max_message_chars: int = 4000  # a page of text: longer is a paste by mistake, and past a small context
    max_upload_mb: int = 20  # above any photo a phone takes; bounds the upload folder with uploads_kept
    max_pixels: int = MAX_PIXELS
    uploads_kept: int = 64  # a session's worth of images; 64 × 20 MB bounds the folder at 1.3 GB
    device: str = "auto"  # auto: a CUDA card when there is one, else the CPU
    dtype: str = "auto"  # auto: bfloat16 on a card that supports it, float32 on the CPU

    def __post_init__(self) -> None:
        check_placement(self)
