"""Two-stage training of steervis' LLaVA on the LM core's trainer (accelerate, answer-only loss, resumable).

Stage 1, feature alignment: only the projector learns (the LM is frozen), on pool image–caption pairs in the
``plain`` template. Stage 2, visual instruction tuning: the projector and a LoRA adapter
on the LM learn from classification instructions, short captions and easy-vqa conversations in the chat
template, loss on the answers only. Each stage saves a :class:`~steervis.llava.model.VLM` folder whose card
holds the data (counts and a hash), the settings and the training summary.

>>> from steervis.llava.train import StageSettings, build_items
>>> from steervis.config import load_config
>>> load_config(StageSettings, preset="llava-stage2").train.lr  # the reported stage 2's rate
0.0003
>>> items = build_items(StageSettings(stage=1, pool_items=20))  # doctest: +SKIP
>>> vlm, result = train_stage(VLM.create(), items, StageSettings(stage=1), out="runs/s1")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from steervis.device import check_placement, names_batch_size, place
from steervis.errors import SteervisError
from steervis.llava.data import Item
from steervis.llava.model import CAPTION_QUESTION, CLASSIFY_QUESTION, SHORT_ANSWER, VLM
from steervis.lm.checkpoint import CHECKPOINT_FILE, remove_checkpoint
from steervis.lm.config import LoraSettings, TrainSettings, check_ranges

log = logging.getLogger(__name__)
COUNTS = ("pool_items", "describe_items", "vqa_images", "vqa_per_image", "engine_items", "vqa_captions",
          "scene_captions", "scene_questions")
STAGE1_DATA = ("pool_items", "vqa_captions", "scene_captions")
STAGE2_LORA = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


# The trainer's knobs, once in TrainSettings: a flat key of the older spelling is named with its new place.
TRAIN_KEYS = ("epochs", "batch_size", "lr", "max_steps", "checkpoint_every", "gradient_checkpointing", "seed")


def _stage_train() -> TrainSettings:
    # LLaVA-1.5's projector rate and 3 % warm-up; a checkpoint every 20 steps (a stage-2 step is ~10-20 s)
    return TrainSettings(epochs=1, batch_size=16, lr=1e-3, warmup=0.03, checkpoint_every=20)


def _stage_lora() -> LoraSettings:
    # stage 2's adapter: r=16 on every linear kind of the LM (attention and MLP), alpha 2r
    return LoraSettings(r=16, alpha=32, target_modules=list(STAGE2_LORA))


@dataclass
class StageSettings:
    """One stage of training: its data, the model it builds or starts from, the optimiser and the adapter.

    Defaults are a quick stage 1 that fits two shared cores; the recipes behind the reported models are the
    presets ``llava-stage1`` and ``llava-stage2`` (``steervis vlm train --preset llava-stage2``).

    Attributes:
        stage: 1 (only the projector learns, pool captions) or 2 (projector + LoRA on instructions).
        pool_items: stage 1: caption pairs; stage 2: pool items for classification instructions.
        describe_items: stage 2: caption instructions, so chat captions still name the object.
        vqa_images: stage 2: easy-vqa train images, every question of each in a conversation of its own.
        vqa_per_image: stage 2: that many seeded questions of each of those images (0: every question);
            more images at the same budget taught colour better than every question of fewer.
        vqa_redraw_yes_no: stage 2: its yes/no questions asked about what is present half the time, in
            their own wording (easy-vqa's wording alone answers four in five, so the model never looks).
        vqa_stated: stage 2: its yes/no questions answered after saying what the image shows ("a red
            circle, so no."); a model trained so is scored with ``steervis vlm eval --set
            stated_yes_no=true``.
        vqa_captions: stage 1: easy-vqa train images captioned with what their questions state.
        scene_captions: stage 1: training scenes with their reference captions (colours, counts).
        scene_questions: stage 2: questions about training scenes (count, colour, position, existence).
        engine_items: stage 2: pool items the data engine writes instructions for (0: off until measured).
        lm: stage 1: the causal LM (a zoo name or hub id).
        tower: stage 1: the vision tower: efficientnet-lite0, clip:<hub id> or timm:<model name>.
        projector: stage 1: linear, mlp2x_gelu or mlpNx_gelu.
        init: stage 2: the model it starts from: stage1, stage2 or a saved folder written as a path (./DIR).
        train: the optimiser and its budget (``train.seed`` also seeds the data sample and the new weights).
        lora: stage 2: the adapter on the LM (``tune: lora``).
        tune: stage 2: ``lora`` (an adapter learns, the LM stays frozen) or ``full`` (every LM weight learns,
            as LLaVA-1.5's stage 2; the saved model then holds the LM's weights too).
    """

    stage: int = 1
    pool_items: int = 3000
    describe_items: int = 300
    vqa_images: int = 300
    vqa_per_image: int = 0
    vqa_redraw_yes_no: bool = False
    vqa_stated: bool = False
    engine_items: int = 0
    vqa_captions: int = 0
    scene_captions: int = 0
    scene_questions: int = 0
    lm: str = "smollm2-135m-instruct"
    tower: str = "efficientnet-lite0"
    projector: str = "mlp2x_gelu"
    init: str = "stage1"
    train: TrainSettings = field(default_factory=_stage_train)
    lora: LoraSettings = field(default_factory=_stage_lora)
    tune: str = "lora"
    device: str = "auto"  # auto: a CUDA card when there is one, else the CPU
    dtype: str = "auto"  # auto: bfloat16 on a card that supports it, float32 on the CPU

    def __post_init__(self) -> None:
        check_placement(self)
        if self.stage not in (1, 2):
            raise SteervisError(f"stage must be 1 or 2, not {self.stage}.")
        check_ranges(self, dict.fromkeys(COUNTS, 0))
        if self.stage == 1 and not any(getattr(self, k) for k in STAGE1_DATA):
            raise SteervisError("Stage 1 has no data: set pool_items, vqa_captions or scene_captions above "
                                "0.")
        if self.tune not in ("lora", "full"):
            raise SteervisError(f"tune must be lora (an adapter) or full (every LM weight), not "
                                f"{self.tune!r}.")

    @staticmethod
    def reject_old_spelling(data: dict[str, Any], where: str = "") -> None:
        """The trainer's knobs sit under ``train`` (as in ``DecideConfig``), not beside the stage's data."""
        for key in TRAIN_KEYS:
            if key in data:
                raise SteervisError(f"{where}{key} is now {where}train.{key} (the optimiser's settings sit "
                                    f"under train), e.g. --set train.{key}={data[key]}.")


def build_items(settings: StageSettings, pool_root: str | Path | None = None) -> list[Item]:
    """The stage's conversations: pool captions, easy-vqa captions and scene captions (stage 1); pool
    classification and caption instructions, easy-vqa and scene questions, the data engine's (stage 2)."""
    from steervis.llava import data

    seed = settings.train.seed
    items: list[Item] = []
    if settings.stage == 1:
        if settings.pool_items:
            items += data.caption_items(data.pool_frame(settings.pool_items, seed=seed, root=pool_root))
        if settings.vqa_captions:
            items += data.vqa_caption_items(settings.vqa_captions, seed=seed)
        if settings.scene_captions:
            items += data.scene_items(settings.scene_captions, "caption", seed=seed)
        return items
    if settings.pool_items:
        items += data.classify_items(data.pool_frame(settings.pool_items, seed=seed, root=pool_root),
                                     CLASSIFY_QUESTION)
    if settings.describe_items:
        described = data.pool_frame(settings.describe_items, seed=seed + 1, root=pool_root)
        items += data.describe_items(described, CAPTION_QUESTION)
    if settings.vqa_images:
        items += data.vqa_items(settings.vqa_images, SHORT_ANSWER, seed=seed,
                                per_image=settings.vqa_per_image or None,
                                redraw_yes_no=settings.vqa_redraw_yes_no, stated=settings.vqa_stated)
    if settings.scene_questions:
        items += data.scene_items(settings.scene_questions, "questions", SHORT_ANSWER, seed=seed)
    if settings.engine_items:
        from steervis.llava.engine import EngineSettings, engine_frame, write_instructions

        written, stats = write_instructions(engine_frame(settings.engine_items, seed, pool_root),
                                            EngineSettings(seed=seed), progress=True)
        log.info("data engine: %d conversations (%s)", len(written), stats)
        items += written
    return items


def items_hash(items: Sequence[Item]) -> str:
    """Names the training data in the card: sha256 over every image hash and conversation, in order."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps([item.sha256, item.turns]).encode())
    return digest.hexdigest()[:16]


@names_batch_size("the stage's batch_size")
def train_stage(vlm: VLM, items: Sequence[Item], settings: StageSettings, out: str | Path | None = None,
                features: Any = None, checkpoint: str | Path | None = None, progress: bool = True,
                label: str | None = None) -> tuple[VLM, Any]:
    """Train one stage in place, save to ``out`` (if given); returns ``(vlm, TrainResult)``.

    Args:
        vlm: A fresh model (stage 1) or a stage-1 model (stage 2).
        items: Conversations from :func:`build_items` (or any others).
        settings: Budget and optimiser.
        out: Folder for the trained model.
        features: A :class:`~steervis.llava.tower.FeatureCache` (default: the tower's cache in STEERVIS_HOME).
        checkpoint: Folder for resumable trainer state (default: ``<out>.checkpoint``).
        label: Key of this run in the card's ``stages`` (default: the stage number).
    """
    from steervis.llava.data import to_examples
    from steervis.llava.tower import FeatureCache
    from steervis.lm.adapters import add_lora, continue_lora
    from steervis.lm.train import train

    if vlm.config.hub:
        raise SteervisError("Training runs on steervis' own LLaVA; a hub Llava checkpoint is for inference "
                            "here.")
    if not items:
        raise SteervisError("No training conversations: the pool sample and easy-vqa gave nothing.")
    for part in (vlm.lm.model, vlm.lm.splicer):  # the LM and the projector, on the stage's placement
        place(part, settings.device, settings.dtype)
    features = features if features is not None else FeatureCache(vlm.tower)
    tpl = "plain" if settings.stage == 1 else vlm.config.template
    clock = time.perf_counter()
    examples, usable = to_examples(items, vlm, tpl, features, progress=progress)
    feature_seconds = time.perf_counter() - clock
    if settings.stage == 2 and settings.tune == "full":
        vlm.tune_lm()
    elif settings.stage == 2 and not hasattr(vlm.lm.model, "peft_config"):
        vlm.lm.model = add_lora(vlm.lm.model, settings.lora, seed=settings.train.seed)
    elif settings.stage == 2:
        continue_lora(vlm.lm.model)
    if checkpoint is None and out is not None:
        checkpoint = Path(str(out) + ".checkpoint")
    if checkpoint is not None:
        Path(checkpoint).mkdir(parents=True, exist_ok=True)
    result = train(vlm.lm, lambda epoch: examples, settings.train, progress=progress,
                   checkpoint=checkpoint, keep_checkpoint=out is not None)  # kept until the model is saved
    vlm.lm.model.eval()
    vlm.config.caption_template = "plain" if settings.stage == 1 else vlm.config.template
    summary = {**result.summary(), "feature_seconds": round(feature_seconds, 1), "skipped_images":
               len(items) - len(usable), "answer_tokens": sum(e.answer_tokens for e in examples)}
    vlm.stages[label or str(settings.stage)] = {
        "settings": asdict(settings), "data": {"conversations": len(usable), "hash": items_hash(usable)},
        "training": summary, "losses": result.losses}
    if out is not None:
        vlm.save(out)
        log.info("stage %d saved to %s", settings.stage, out)
        if checkpoint is not None:
            remove_checkpoint(Path(checkpoint) / CHECKPOINT_FILE)
    if checkpoint is not None:
        # finished: the trainer removed its state; drop the folder if empty
        with contextlib.suppress(OSError):
            Path(checkpoint).rmdir()
    return vlm, result
