"""STIC stage 1: DPO on the model's own preference pairs, on the LM core's trainer (resumable).

The model's own adapter (stage 2's LoRA), if it has one, is merged into its LM first, and a fresh adapter is
added: with that adapter off the model is exactly the one that wrote the pairs, DPO's reference. Only the new
adapter learns (the projector stays as it is, or the reference would move with it). Each pair becomes two
sequences with one prompt, :data:`~steervis.stic.pairs.PLAIN_PROMPT` on the clean image, and the two
descriptions as answers. The saved model holds its LM's merged weights (the adapter merged in), so it loads
as any steervis LLaVA.

>>> vlm, result = train_stic(open_vlm("stage2"), read_pairs("pairs.jsonl"), SticConfig(),
...                          out="stic")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from steervis.errors import SteervisError
from steervis.stic.config import SticConfig
from steervis.stic.pairs import PLAIN_PROMPT, Pair

log = logging.getLogger(__name__)
VISUAL_BATCH = 32  # images through the vision tower at once


def preference_pairs(vlm: Any, pairs: Sequence[Pair]) -> list[Any]:
    """LM-core :class:`~steervis.lm.preference.PreferencePair` s: the plain prompt on the clean image, the
    preferred and dis-preferred descriptions as answers (closing marker included)."""
    from steervis.lm.chat import answer_text, chat_format
    from steervis.lm.preference import PreferencePair

    tokenizer, fmt = vlm.lm.tokenizer, chat_format(vlm.config.template)
    paths = list(dict.fromkeys(p.path for p in pairs))
    visuals = {}
    for start in range(0, len(paths), VISUAL_BATCH):
        chunk = paths[start : start + VISUAL_BATCH]
        visuals.update(zip(chunk, vlm.visual(chunk), strict=True))

    def answer(text: str) -> list[int]:
        return tokenizer(answer_text(tokenizer, fmt, text), add_special_tokens=False).input_ids

    out = []
    for pair in pairs:
        prompt = vlm.conversation([(PLAIN_PROMPT, None)], visuals[pair.path])
        out.append(PreferencePair.from_prompt(prompt.ids, answer(pair.chosen), answer(pair.rejected),
                                              visuals[pair.path]))
    return out


def fresh_adapter(vlm: Any, cfg: SticConfig) -> None:
    """Merge any adapter into the LM, freeze everything, and add a new seeded LoRA adapter (all that
    learns)."""
    from steervis.lm.adapters import add_lora

    if hasattr(vlm.lm.model, "merge_and_unload"):
        vlm.lm.model = vlm.lm.model.merge_and_unload()
    for module in (vlm.lm.model, vlm.lm.splicer):
        for param in getattr(module, "parameters", list)():
            param.requires_grad_(False)
    vlm.lm.model = add_lora(vlm.lm.model, cfg.lora, seed=cfg.train.seed)


def train_stic(vlm: Any, pairs: Sequence[Pair], cfg: SticConfig, out: str | Path | None = None,
               checkpoint: str | Path | None = None, progress: bool = True) -> tuple[Any, Any]:
    """DPO on ``pairs`` in place; the adapter merged into the LM afterwards; saved to ``out`` if given.

    Args:
        vlm: The model that wrote the pairs (:func:`steervis.zoo.vlms.open_vlm`).
        pairs: From :func:`steervis.stic.pairs.make_pairs` (or :func:`~steervis.stic.pairs.read_pairs`).
        cfg: Optimiser, adapter and DPO settings.
        out: Folder for the trained model.
        checkpoint: Folder for resumable trainer state (default: ``<out>.checkpoint``).
        progress: Show a progress bar.

    Returns:
        ``(vlm, TrainResult)``; the result's ``metrics`` hold each step's reward accuracy and margin.
    """
    from steervis.device import place
    from steervis.lm.checkpoint import CHECKPOINT_FILE, remove_checkpoint
    from steervis.lm.preference import DPOLoss
    from steervis.lm.train import train

    usable = [p for p in pairs if p.chosen.strip() != p.rejected.strip()]  # the same text twice: no lesson
    if not usable:
        raise SteervisError("No preference pairs to train on (none, or each one's two descriptions are the "
                            "same): run `steervis stic pairs` first.")
    if vlm.config.hub:
        raise SteervisError("STIC trains steervis' own LLaVA; a hub Llava checkpoint is for inference here.")
    for part in (vlm.lm.model, vlm.lm.splicer):
        place(part, cfg.device, cfg.dtype)
    fresh_adapter(vlm, cfg)
    items = preference_pairs(vlm, usable)
    if checkpoint is None and out is not None:
        checkpoint = Path(str(out) + ".checkpoint")
    if checkpoint is not None:
        Path(checkpoint).mkdir(parents=True, exist_ok=True)
    result = train(vlm.lm, lambda epoch: items, cfg.train, progress=progress, checkpoint=checkpoint,
                   keep_checkpoint=out is not None, objective=DPOLoss(cfg.dpo))
    vlm.lm.model = vlm.lm.model.merge_and_unload().eval()
    vlm.lm_tuned = True  # the LM's weights now differ from its base: the saved model holds them
    vlm.stages["stic"] = {"settings": asdict(cfg), "data": _pairs_summary(usable, len(pairs) - len(usable)),
                          "training": result.summary(), "losses": result.losses, "metrics": result.metrics}
    if out is not None:
        vlm.save(out)
        log.info("STIC model saved to %s", out)
        if checkpoint is not None:
            remove_checkpoint(Path(checkpoint) / CHECKPOINT_FILE)
    if checkpoint is not None:
        with contextlib.suppress(OSError):  # finished: the trainer removed its state; drop an empty folder
            Path(checkpoint).rmdir()
    return vlm, result


def _pairs_summary(pairs: Sequence[Pair], identical: int) -> dict[str, Any]:
    """What the card records of the data: pairs per origin and per way the dis-preferred one was written,
    and how many were left out for having the same text twice."""
    from collections import Counter

    return {"pairs": len(pairs), "origin": dict(Counter(p.origin for p in pairs)),
            "how": dict(Counter(p.how for p in pairs)), "identical_left_out": identical}
