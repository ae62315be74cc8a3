"""A steervis LLaVA's config: which LM, vision tower, layer, grid, projector and templates it is made of.

Stored in the model card (its ``config``); :meth:`steervis.llava.model.VLM.load` rebuilds the
model from it. ``hub`` names a transformers Llava instead, whose tower, projector and LM all come from
the hub.

>>> VLMConfig.from_dict({"lm": "tiny-llama"}).lm
'tiny-llama'
>>> VLMConfig.from_dict({"lm": "tiny-llama", "gird": 2})
Traceback (most recent call last):
...
steervis.errors.SteervisError: Unknown config key 'vlm.gird'. Did you mean 'grid'?
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from steervis.config import from_dict


@dataclass
class VLMConfig:
    """What a steervis LLaVA is made of (stored in its card; ``VLM.load`` rebuilds it from this)."""

    lm: str = "smollm2-135m-instruct"
    tower: str = "efficientnet-lite0"  # or clip:<hub id or tiny-clip>, timm:<model name> (see tower.py)
    # "": the tower's default, LLaVA-like (efficientnet-lite0: last MBConv block; CLIP: penultimate)
    layer: str = ""
    grid: int = 4  # 4×4 = 16 visual tokens
    projector: str = "mlp2x_gelu"  # LLaVA-1.5's projector
    template: str = "chatml"
    caption_template: str = "chatml"  # "plain" after stage 1: it learnt "<image>\n" → caption, not chat
    image_token: str = "<|endoftext|>"  # a token chat text never contains; its positions are overwritten
    # Prompts longer than this are refused (SmolLM2 reads 8k; CPU time does not).
    max_prompt_tokens: int = 2048
    hub: str = ""  # a transformers Llava (hub id, or tiny-llava): tower, projector and LM all come from it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VLMConfig:
        """A saved VLM's config, read back strictly (an unknown key is an error with a did-you-mean)."""
        return from_dict(cls, data, "vlm.")


@dataclass
class CaptionConfig:
    """``steervis caption``: which images, which model, how many captions.

    Attributes:
        paths: image files or folders.
        model: saved folder, stage1, stage2, tiny-llava or a hub Llava (default: the latest trained here).
        samples: sampled captions after the greedy one (0: the greedy caption only).
        limit: at most this many images per folder (files named on the command line always count).
        batch_size: images per generation batch (larger: faster, more memory).
    """

    paths: list[str] = field(default_factory=list)
    model: str | None = None
    samples: int = 0
    limit: int = 50  # a folder's first 50 images: a look at a folder, not a whole-dataset job
    batch_size: int = 8


@dataclass
class ChatConfig:
    """``steervis chat``: the image, the model and how long an answer may be.

    Attributes:
        image: the image to talk about (none: text-only chat).
        model: saved folder, stage1, stage2, tiny-llava or a hub Llava (default: the latest trained here).
        max_new_tokens: longest answer, in tokens; an answer also stops where the model's context ends.
        timing: print first-token latency to stderr.
    """

    image: str | None = None
    model: str | None = None
    max_new_tokens: int = 96  # a few sentences: the small LLaVA's answers are short
    timing: bool = False


@dataclass
class EngineRunConfig:
    """``steervis vlm engine``: the data engine writes stage-2 instructions from pool texts.

    Attributes:
        items: pool items to write for (three kinds each).
        lm: the writer (a causal LM name or hub id).
        max_new_tokens: longest answer, in tokens.
        min_overlap: share of an answer's content words the text must contain (else it is dropped).
        batch_size: prompts per generation batch.
        seed: the same seed as stage 2's, so stage 2 reuses these answers.
        show: example conversations printed (0: none).
    """

    items: int = 200
    lm: str = "smollm2-135m-instruct"
    max_new_tokens: int = 64  # stage 2's answer budget
    min_overlap: float = 0.5  # half of an answer's content words must come from the text
    batch_size: int = 8
    seed: int = 0
    show: int = 5


@dataclass
class VLMEvalConfig:
    """``steervis vlm eval``: easy-vqa greedy exact match on a split, per question kind, 95 % intervals.

    Attributes:
        model: a saved folder, stage1, stage2, tiny-llava or a hub Llava id (default: the latest trained
            here).
        split: val (500 training images no recipe trains on: choose settings here), diagnosis (a fixed
            1,000-question subset of val), or test (score a final model once).
        images: seeded images of the split (0: every image).
        per_image: questions per image (0: every question).
        text_only: ask without the image (the language-prior baseline).
        format_prompt: end each question with LLaVA-1.5's 'Answer the question using a single word or phrase.'
        stated_yes_no: ask each yes/no question for the shape's colour and shape first and score the reply's
            last yes or no (a model trained with vqa_stated answers so).
        device: where the model runs (auto, cpu, cuda, cuda:N).
        dtype: its precision (auto, float32, bfloat16, float16).
    """

    model: str | None = None
    split: str = "test"
    images: int = 100
    per_image: int = 3  # a few questions from each of many images: more images for the same compute
    text_only: bool = False
    format_prompt: bool = True
    stated_yes_no: bool = False
    device: str = "auto"
    dtype: str = "auto"

    def __post_init__(self) -> None:
        from steervis.errors import SteervisError

        if self.split not in ("val", "diagnosis", "test"):
            raise SteervisError(f"split must be val, diagnosis or test, not {self.split!r}.")


@dataclass
class VLMScenesConfig:
    """``steervis vlm scenes``: the scenes' questions per type and POPE per setting, 95 % intervals.

    Attributes:
        model: a saved folder, stage1, stage2, tiny-llava or a hub Llava id (default: the latest trained
            here).
        split: train, test-seen, test-unseen or test-styles.
        part: val (each split's last tenth: choose settings here) or main (score a final model once).
        questions: a seeded subset of the part's questions (0: every one).
        seed: which subset.
        device: where the model runs (auto, cpu, cuda, cuda:N).
        dtype: its precision (auto, float32, bfloat16, float16).
    """

    model: str | None = None
    split: str = "test-unseen"
    part: str = "val"  # the main part is a final model's test: pick settings on val
    questions: int = 0
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"

    def __post_init__(self) -> None:
        from steervis.errors import SteervisError
        from steervis.llava.scenes_eval import PARTS

        if self.part not in PARTS:
            raise SteervisError(f"part must be val or main, not {self.part!r}.")
