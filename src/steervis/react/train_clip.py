"""REACT's customization of a transformers CLIP (a hub id, or ``tiny-clip`` in tests): train only the gated
blocks.

The same objective as the offline head (:func:`steervis.react.train_head.contrastive_loss`, every same-text
pair a positive), but the new blocks sit inside the vision tower
(:class:`~steervis.react.gated_clip.GatedCLIP`), so each step runs the image tower on pixels; the locked text
tower embeds each distinct text once.

>>> from steervis.react.train_clip import customize_clip  # doctest: +SKIP
>>> model, losses = customize_clip("openai/clip-vit-base-patch32", paths, texts, ids,
...                                settings)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.device import names_batch_size, place
from steervis.errors import SteervisError
from steervis.react.gated_clip import EVERY, GatedCLIP
from steervis.react.train_head import (
    EpochCheckpoint,
    ReactSettings,
    contrastive_loss,
    run_fingerprint,
    train_epochs,
)


def _unit(x: Any) -> torch.Tensor:
    x = x if torch.is_tensor(x) else x.pooler_output  # transformers 5 wraps projected features
    return torch.nn.functional.normalize(x.float(), dim=-1)


@names_batch_size("REACT's settings.batch_size")
def customize_clip(base: str, paths: Sequence[str], texts: Sequence[str], text_ids: np.ndarray,
                   settings: ReactSettings, progress: bool = True, every: int = EVERY,
                   checkpoint: str | Path | None = None) -> tuple[GatedCLIP, list[float]]:
    """Gated blocks in ``base``'s image tower trained on pairs (image ``paths[i]`` ↔ ``texts[i]``)."""
    from steervis import zoo
    from steervis.data import open_image
    from steervis.device import beside

    if len(paths) < 2:
        raise SteervisError(f"REACT needs at least two image–text pairs to contrast; got {len(paths)}.")
    bundle = zoo.load(base, kind="clip", device=settings.device, dtype=settings.dtype)
    torch.manual_seed(settings.seed)
    model = place(GatedCLIP(bundle.model, every=every), settings.device, settings.dtype)
    optim = torch.optim.AdamW(model.blocks.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    saver = EpochCheckpoint(checkpoint, model, optim,
                            run_fingerprint(settings, np.asarray(text_ids),
                                            np.array([str(x) for x in (base, *paths, *texts)])))
    losses = saver.resume()
    max_len = getattr(model.config.text_config, "max_position_embeddings", 77)
    with torch.inference_mode():  # locked text tower: each text embedded once, no gradient
        tokens = bundle.processor.tokenizer(list(texts), padding=True, truncation=True, max_length=max_len,
                                            return_tensors="pt")
        text_emb = _unit(model.get_text_features(**{k: beside(v, model) for k, v in tokens.items()})).clone()
    text_ids = np.asarray(text_ids)
    model.train()

    def batch_loss(idx: np.ndarray) -> torch.Tensor:
        pixels = bundle.processor.image_processor([open_image(paths[i]) for i in idx],
                                                  return_tensors="pt")["pixel_values"]
        images = _unit(model.get_image_features(pixel_values=beside(pixels, model)))
        return contrastive_loss(images, text_emb[idx], text_ids[idx], settings.temperature)

    train_epochs(len(paths), batch_loss, settings, optim, losses,
                 lambda: saver.save(losses), "react (clip)", progress)
    return model.eval(), losses
