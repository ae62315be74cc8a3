"""Training the GLIP-style head on a COCO folder (the scenes by default): cached trunk grids, a prompt per
image of its objects' names plus sampled negatives, focal + L1 + GIoU, AdamW; resumable after a kill.

Each step's batch and prompts are drawn from generators seeded by (seed, epoch) and (seed, step), so a run
killed and started again with the same settings resumes from its last checkpoint
(:mod:`steervis.lm.checkpoint`: safetensors + JSON, written atomically) and ends with the weights an
uninterrupted run ends with.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.device import check_placement
from steervis.errors import SteervisError
from steervis.ground.coco import CocoImage, CocoSet
from steervis.ground.descriptions import Descriptions
from steervis.ground.glip import InferSettings
from steervis.ground.losses import LossWeights, image_loss, total
from steervis.ground.model import GlipConfig, GlipHead
from steervis.ground.prompts import encode_prompts, join_phrases
from steervis.ground.queries import PromptSettings, Query, QueryWriter
from steervis.ground.text_cache import TextStateCache
from steervis.lm.train import TrainResult

CHECKPOINT = "checkpoint"  # the resumable state's folder, inside the output folder until the run ends


@dataclass
class GroundTrain:
    """The optimisation loop."""

    epochs: int = 20
    batch_size: int = 16
    lr: float = 1e-3  # AdamW on a small head from scratch
    weight_decay: float = 1e-4
    warmup: float = 0.05  # fraction of steps with a linear warm-up, then cosine decay to zero
    grad_clip: float = 1.0
    max_steps: int | None = None  # stop early (smoke runs)
    max_images: int | None = None  # the first N images of the folder
    negatives: int = 8  # category names absent from the image added to its prompt (GLIP's negative phrases)
    checkpoint_every: int = 50  # optimiser steps between resumable checkpoints
    seed: int = 0


@dataclass
class GroundSettings:
    """A grounding run: data, model, loop, loss and how detections are kept; where it computes."""

    scenes: str = "train"  # a scenes split under STEERVIS_HOME/data/scenes
    coco: str = ""  # a COCO folder (images + annotations.json) read instead of the scenes when given
    part: str = "main"  # main: all but the last tenth, the validation part where settings are chosen
    model: GlipConfig = field(default_factory=GlipConfig)
    train: GroundTrain = field(default_factory=GroundTrain)
    prompts: PromptSettings = field(default_factory=PromptSettings)  # GLIP's by default; DesCo in its preset
    loss: LossWeights = field(default_factory=LossWeights)
    infer: InferSettings = field(default_factory=InferSettings)
    device: str = "auto"
    dtype: str = "float32"  # the head is small; float32 keeps the focal loss' tails exact

    def __post_init__(self) -> None:
        check_placement(self)

    def folder(self) -> Path:
        from steervis.data.scenes import scenes_root

        return Path(self.coco).expanduser() if self.coco else scenes_root(self.scenes)


def _prompt(names: list[str], vocabulary: list[str], negatives: int, rng: np.random.Generator) -> list[str]:
    """The image's names (once each) and up to ``negatives`` other names, shuffled."""
    own = list(dict.fromkeys(names))
    others = [v for v in rng.choice(vocabulary, size=min(len(vocabulary), negatives + len(own)),
                                    replace=False).tolist() if v not in own][:negatives]
    phrases = own + others
    rng.shuffle(phrases)
    return phrases


class Trainer:
    """One run's state: data on the host, the head, its optimiser and schedule."""

    def __init__(self, settings: GroundSettings, coco: CocoSet, grids: torch.Tensor, text: Any,
                 text_cache: TextStateCache | None = None, descriptions: Descriptions | None = None):
        from steervis.device import place

        self.settings, self.coco, self.grids, self.text = settings, coco, grids, text
        self.text_cache = text_cache
        torch.manual_seed(settings.train.seed)
        self.head = place(GlipHead(settings.model), settings.device, settings.dtype).train()
        cfg = settings.train
        self.per_epoch = max(1, math.ceil(len(coco.images) / cfg.batch_size))
        self.total = cfg.max_steps or cfg.epochs * self.per_epoch
        self.optim = torch.optim.AdamW(self.head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        warm = max(1, int(cfg.warmup * self.total))
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.optim, self.rate(warm))
        self.vocabulary = coco.names
        self.writer = None if settings.prompts.is_glip else QueryWriter(
            settings.prompts, self.vocabulary, cfg.negatives, descriptions, text)

    def queries(self, images: list[CocoImage], rng: np.random.Generator) -> list[Query]:
        """Each image's prompt: GLIP's (names and random absent names) unless DesCo's settings are given."""
        if self.writer is None:
            negatives = self.settings.train.negatives
            prompts = [_prompt(i.phrases, self.vocabulary, negatives, rng) for i in images]
            return [Query(p, [p.index(n) for n in i.phrases], "names") for p, i in zip(prompts, images,
                                                                                       strict=True)]
        return [self.writer.write(list(image.phrases), rng) for image in images]

    def rate(self, warm: int) -> Callable[[int], float]:
        """Linear warm-up over ``warm`` steps, then cosine decay to zero at the last step."""

        def factor(step: int) -> float:
            return min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / self.total)))

        return factor

    def batch(self, step: int) -> list[int]:
        epoch, position = divmod(step, self.per_epoch)
        order = np.random.default_rng((self.settings.train.seed, epoch)).permutation(len(self.coco.images))
        size = self.settings.train.batch_size
        return order[position * size : (position + 1) * size].tolist()

    def states(self, prompts: list[list[str]], ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The frozen encoder's token states of the batch's prompts, from the cache when one is given."""
        if self.text_cache is None:
            return self.text.states(ids, mask)
        # keyed by the whole step, not per prompt: prompts are drawn anew per (seed, step), only a step recurs
        return self.text_cache.states(self.text, [join_phrases(p)[0] for p in prompts], ids, mask)

    def step(self, step: int) -> dict[str, float]:
        """One optimiser step: the batch's prompts encoded together, one forward pass over its grids."""
        from steervis.device import beside

        cfg, rng = self.settings.train, np.random.default_rng((self.settings.train.seed, 1_000_003, step))
        rows = self.batch(step)
        images = [self.coco.images[i] for i in rows]
        queries = self.queries(images, rng)
        prompts = [q.phrases for q in queries]
        encoded = encode_prompts(self.text.tokenizer, prompts)
        ids = torch.cat([e.input_ids for e in encoded])
        mask = torch.cat([e.attention_mask for e in encoded])
        states = self.states(prompts, ids, mask)
        boxes, logits = self.head(beside(self.grids[rows], self.head), beside(states, self.head),
                                  beside(mask, self.head))
        parts = []
        for k, (image, query, enc) in enumerate(zip(images, queries, encoded, strict=True)):
            side = float(max(image.width, image.height))
            answering = [j for j, a in enumerate(query.answers) if a is not None]  # unprompted: background
            gt = torch.from_numpy(image.boxes[answering] / side).to(boxes).reshape(-1, 4)
            index = torch.tensor([query.answers[j] for j in answering], dtype=torch.long)
            parts.append(image_loss(boxes[k], logits[k].float(), beside(mask[k], self.head),
                                    enc.positive.to(boxes.device), gt, index.to(boxes.device),
                                    self.settings.loss))
        loss, terms = total(parts, self.settings.loss)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.head.parameters(), cfg.grad_clip)
        self.optim.step()
        self.sched.step()
        return {"loss": float(loss.detach()), **terms}


def fingerprint(settings: GroundSettings, keys: list[str], descriptions: str = "") -> str:
    """Names a run by its settings (inference settings aside), its images and its descriptions' key; GLIP's
    prompt settings leave the name a run had before DesCo's settings existed (its checkpoints resume)."""
    blob = {k: v for k, v in asdict(settings).items() if k != "infer"}
    if settings.prompts.is_glip:
        del blob["prompts"]
    else:
        blob["descriptions"] = descriptions
    digest = hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode())
    digest.update("\n".join(keys).encode())
    return digest.hexdigest()[:16]


def train_head(settings: GroundSettings, coco: CocoSet, grids: torch.Tensor, text: Any, out: Path,
               keys: list[str], on_step: Callable[[int, dict[str, float]], None] | None = None,
               progress: bool = False, text_cache: TextStateCache | None = None,
               descriptions: Descriptions | None = None) -> tuple[GlipHead, TrainResult]:
    """Train (or resume) a head on cached grids (and token states, with ``text_cache``; DesCo's prompts read
    ``descriptions``); saves it to ``out`` and returns it with the run's record."""
    from tqdm.auto import tqdm

    from steervis.lm.checkpoint import CHECKPOINT_FILE, remove_checkpoint, save_checkpoint
    from steervis.lm.resume import resume_run

    if not coco.images:
        raise SteervisError(f"{coco.folder} has no images to train on.")
    trainer, result = Trainer(settings, coco, grids, text, text_cache, descriptions), TrainResult()
    state = out / CHECKPOINT / CHECKPOINT_FILE
    state.parent.mkdir(parents=True, exist_ok=True)
    run = fingerprint(settings, keys, descriptions.key if descriptions else "")
    rng = np.random.default_rng(settings.train.seed)  # the checkpoint format keeps one; batches use their own
    resume_run(state, run, trainer.head, trainer.optim, trainer.sched, rng, result)
    start = time.perf_counter()
    for step in tqdm(range(result.steps, trainer.total), desc="grounding", disable=not progress):
        terms = trainer.step(step)
        result.losses.append(terms["loss"])
        result.steps += 1
        result.examples_seen += len(trainer.batch(step))
        if result.steps % settings.train.checkpoint_every == 0 and result.steps < trainer.total:
            save_checkpoint(state, trainer.head, trainer.optim, trainer.sched, result,
                            rng.bit_generator.state, step // trainer.per_epoch, run)
        if on_step is not None:
            on_step(result.steps, terms)
    result.seconds = time.perf_counter() - start
    trainer.head.eval().save(out)
    remove_checkpoint(state)
    return trainer.head, result
