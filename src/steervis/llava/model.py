"""steervis' LLaVA: vision tower → projector → causal LM, on the LM core; or a transformers Llava checkpoint.

A :class:`VLM` turns images into the objects its splicer reads (cached tower tokens for steervis' own model:
efficientnet-lite0, a CLIP or a timm model, see :mod:`steervis.llava.tower`; pixel tensors for a hub Llava),
writes prompts with a conversation template, and leaves scoring, generation and training to
:mod:`steervis.lm`. Saved as a folder: its model card, ``projector.safetensors``, ``adapter/`` (LoRA, stage
2). Parts: :mod:`steervis.llava.parts`; config: :mod:`steervis.llava.config`; trained here: ``.trained``.

>>> from steervis.llava import VLM, VLMConfig
>>> vlm = VLM.create(VLMConfig(lm="tiny-llama"))  # doctest: +SKIP
>>> vlm.chat("What is in the photo?", image)  # doctest: +SKIP
>>> vlm.score([image], ["cat", "dog"]).shape  # doctest: +SKIP
(1, 2)
>>> tiny_hub = VLM.from_llava("tiny-llava")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.card import ModelCard, VLMSection, read_card
from steervis.errors import SteervisError
from steervis.llava.config import VLMConfig
from steervis.llava.conversation import IMAGE, encode_turns, template
from steervis.llava.parts import hub_parts, own_parts
from steervis.llava.questions import CAPTION_QUESTION, CLASSIFY_QUESTION
from steervis.llava.questions import SHORT_ANSWER as SHORT_ANSWER  # re-exported
from steervis.llava.questions import closed_question as closed_question  # re-exported
from steervis.llava.trained import trained_dir as trained_dir  # re-exported
from steervis.llava.trained import trained_models as trained_models  # re-exported
from steervis.llava.trained import vlm_identity as vlm_identity  # re-exported
from steervis.lm.batch import Prompt
from steervis.lm.model import LanguageModel

PROJECTOR_FILE = "projector"
LM_FILE = "lm"  # the LM's own weights, saved only when stage 2 trained all of them (tune: full)


class PromptTooLong(SteervisError):
    """A prompt (a question, or a conversation grown turn by turn) that leaves the model no room to answer."""


class VLM:
    """A vision-language model on the LM core (build with :meth:`create`, :meth:`from_llava` or
    :meth:`load`)."""

    def __init__(self, config: VLMConfig, lm: LanguageModel, image_tokens: int, tower: Any = None,
                 image_processor: Any = None):
        self.config = config
        self.lm = lm
        self.image_tokens = image_tokens
        self.tower = tower
        self.image_processor = image_processor
        self.card: ModelCard | None = None  # the card it was loaded from
        self.stages: dict[str, dict[str, Any]] = {}  # each training run: settings, data, metrics, losses
        self.lm_tuned = False  # every LM weight trained (and saved), not only an adapter
        self.image_id = lm.splicer.image_id

    # --- construction ---------------------------------------------------------------------------------------
    @classmethod
    def create(cls, config: VLMConfig | None = None, seed: int = 0, tower: Any = None, device: str = "auto",
               dtype: str = "auto") -> VLM:
        """steervis' own LLaVA with a fresh, seeded projector (train it with :mod:`steervis.llava.train`), on
        ``device`` in ``dtype`` (:mod:`steervis.device` spellings)."""
        config = config or VLMConfig()
        if config.hub:
            return cls.from_llava(config.hub, config, device=device, dtype=dtype)
        return cls(*own_parts(config, seed, tower, device=device, dtype=dtype))

    @classmethod
    def from_llava(cls, name: str, config: VLMConfig | None = None, device: str = "auto",
                   dtype: str = "auto") -> VLM:
        """A transformers ``LlavaForConditionalGeneration`` (``llava-hf/llava-1.5-7b-hf``, or
        ``tiny-llava``)."""
        return cls(*hub_parts(name, config, device=device, dtype=dtype))

    @classmethod
    def load(cls, directory: str | Path, device: str = "auto", dtype: str = "auto") -> VLM:
        """A VLM saved by :meth:`save` (projector and, after stage 2, its LoRA adapter, which joins the LM on
        its device)."""
        from steervis.lm.adapters import ADAPTER_DIR, load_lora, read_tensors

        card = read_card(directory, kind="vlm")
        vlm = cls.create(VLMConfig.from_dict(card.config), device=device, dtype=dtype)
        if not vlm.config.hub:
            vlm.lm.splicer.projector.load_state_dict(read_tensors(directory, PROJECTOR_FILE))
        if (Path(directory) / f"{LM_FILE}.safetensors").exists():
            # tied weights are stored once (as the input embeddings): the head shares that tensor
            vlm.lm.model.load_state_dict(read_tensors(directory, LM_FILE), strict=False)
            vlm.lm_tuned = True
        if (Path(directory) / ADAPTER_DIR / "adapter_config.json").exists():
            vlm.lm.model = load_lora(vlm.lm.model, directory)
        vlm.card, vlm.stages = card, dict(card.vlm.stages)
        vlm.lm.model.eval()
        return vlm

    def save(self, directory: str | Path, method: str = "", options: dict[str, Any] | None = None,
             classes: Sequence[str] = ()) -> Path:
        """Card (config, training runs; ``method``, its ``options`` and ``classes`` when an evaluate method
        finetuned it), projector safetensors and LoRA adapter, all or nothing."""
        from steervis.lm.adapters import write_adapter

        peft = self.lm.model if hasattr(self.lm.model, "peft_config") else None
        grid = self.config.grid
        before = self.card.vlm if self.card is not None else VLMSection()  # a reloaded model keeps its facts
        section = VLMSection(vision_tower=f"{self.config.tower}:{self.config.layer}:{grid}x{grid}",
                             stages=dict(self.stages), method=method or before.method,
                             options=dict(options or before.options))
        data = {"classes": list(classes)} if classes else dict(self.card.data if self.card else {})
        card = ModelCard(kind="vlm", base=self.config.lm, config=asdict(self.config), data=data, vlm=section)
        tensors = {} if self.config.hub else {PROJECTOR_FILE: self.lm.splicer.projector.state_dict()}
        if self.lm_tuned:
            tensors[LM_FILE] = _untied(self.lm.model)
        return write_adapter(directory, peft, card, tensors=tensors, kind="vlm")

    def tune_lm(self) -> None:
        """Every LM weight learns from now on (LLaVA-1.5's full stage 2), and :meth:`save` writes them."""
        for param in self.lm.model.parameters():
            param.requires_grad_(True)
        self.lm_tuned = True

    # --- inputs ---------------------------------------------------------------------------------------------
    def visual(self, images: Sequence[Any]) -> list[Any]:
        """What the splicer reads, per image: a PIL image, a path, an already computed tensor, or ``None``."""
        from PIL import Image

        from steervis.data.images import open_image

        out: list[Any] = [None] * len(images)
        todo = []
        for i, img in enumerate(images):
            if img is None or torch.is_tensor(img):
                out[i] = img
            elif isinstance(img, Image.Image):
                todo.append((i, img.convert("RGB")))
            elif isinstance(img, (str, Path)):
                todo.append((i, open_image(img)))  # a non-image raises BadImage: one sentence
            else:
                raise SteervisError(f"An image must be a PIL image or a file path, not {type(img).__name__}.")
        if todo:
            pil = [img for _, img in todo]
            if self.image_processor is not None:
                encoded = self.image_processor(pil, return_tensors="pt")["pixel_values"]
            else:
                encoded = self.tower.encode(pil)
            for (i, _), enc in zip(todo, encoded, strict=True):
                out[i] = enc
        return out

    def conversation(self, turns: Sequence[tuple[str, str | None]], image: Any = None,
                     tpl: str | None = None) -> Prompt:
        """A prompt from chat turns (last answer ``None``); ``<image>`` goes before the first question."""
        turns = list(turns)
        if image is not None and not any(IMAGE in user for user, _ in turns):
            turns[0] = (f"{IMAGE}\n{turns[0][0]}", turns[0][1])
        if image is None and any(IMAGE in user for user, _ in turns):
            raise SteervisError("The prompt holds <image> but no image was given: pass one with --image.")
        ids, _ = encode_turns(self.lm.tokenizer, template(tpl or self.config.template), turns,
                              self.image_tokens, self.image_id)
        if len(ids) > self.config.max_prompt_tokens:
            raise PromptTooLong(f"The prompt has {len(ids)} tokens; this model reads at most "
                                f"{self.config.max_prompt_tokens}. Shorten it or start a new conversation.")
        return Prompt(ids, image)

    def prompts(self, questions: Sequence[str], images: Sequence[Any],
                tpl: str | None = None) -> list[Prompt]:
        visuals = self.visual(images)
        return [self.conversation([(q, None)], v, tpl) for q, v in zip(questions, visuals, strict=True)]

    # --- inference ------------------------------------------------------------------------------------------
    def ask(self, images: Sequence[Any], questions: Sequence[str], max_new_tokens: int = 32,
            batch_size: int = 8, **options: Any) -> list[str]:
        """One answer per (image, question), generated in left-padded batches."""
        from steervis.lm.generate import generate

        answers = generate(self.lm, self.prompts(questions, images), max_new_tokens=max_new_tokens,
                           batch_size=batch_size, **options)
        return [a.strip() for a in answers]

    def chat(self, message: str, image: Any = None, history: Sequence[tuple[str, str]] = (),
             max_new_tokens: int = 128, streamer: Any = None) -> str:
        """The next answer of a conversation about one image (``history``: earlier (question, answer)
        turns)."""
        from steervis.lm.generate import generate

        visual = self.visual([image])[0] if image is not None else None
        prompt = self.conversation([*history, (message, None)], visual)
        budget = min(max_new_tokens, self.room(prompt))  # past its context a model writes noise, forever
        return generate(self.lm, [prompt], max_new_tokens=budget, batch_size=1, streamer=streamer)[0].strip()

    def context_tokens(self) -> int | None:
        """How many tokens the LM reads at most, prompt and answer together (its position embeddings; a
        Llava's text model's); ``None`` if its config does not say."""
        config = self.lm.model.config
        config = getattr(config, "text_config", None) or config
        length = getattr(config, "max_position_embeddings", None)
        return int(length) if length else None

    def room(self, prompt: Prompt) -> int:
        """Tokens an answer may still take after ``prompt`` before the context is full."""
        context = self.context_tokens()
        if context is None:
            return 1 << 30  # a config without a context length: the caller's budget alone decides
        if len(prompt.ids) >= context:
            raise PromptTooLong(f"The conversation has {len(prompt.ids)} tokens and fills this model's "
                                f"{context}-token context: start a new one (/reset in chat).")
        return context - len(prompt.ids)

    def caption(self, images: Sequence[Any], beams: int = 1, samples: int = 0, max_new_tokens: int = 30,
                seed: int = 0) -> list[list[str]]:
        """Per image: a greedy (or beam) caption, then ``samples`` sampled ones (VLLaVO's BLIP recipe)."""
        from steervis.lm.generate import generate

        if any(img is None for img in images):
            raise SteervisError("A caption needs an image; one of the inputs is empty.")
        plain = self.config.caption_template == "plain"
        prompts = self.prompts(["" if plain else CAPTION_QUESTION] * len(images), images,
                               tpl=self.config.caption_template)
        out: list[list[str]] = [[] for _ in images]
        if beams > 0:
            for i, text in enumerate(generate(self.lm, prompts, beams=beams, max_new_tokens=max_new_tokens)):
                out[i].append(text.strip())
        for k in range(samples):
            for i, text in enumerate(generate(self.lm, prompts, sample=True, max_new_tokens=max_new_tokens,
                                              seed=seed + k)):
                out[i].append(text.strip())
        return out

    @torch.inference_mode()
    def last_hidden(self, images: Sequence[Any], question: str = CLASSIFY_QUESTION,
                    batch_size: int = 8) -> np.ndarray:
        """The LM's last-layer hidden state at the last prompt position (image + question, before the answer):
        ``[n, hidden]``, what VLMClassifier probes."""
        prompts = self.prompts([question] * len(images), images)
        out = []
        for start in range(0, len(prompts), batch_size):
            _, last, _ = self.lm.prompt_pass(prompts[start : start + batch_size], cache=False)
            out.append(last.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)

    def score(self, images: Sequence[Any], classes: Sequence[str], question: str = CLASSIFY_QUESTION,
              reduction: str = "mean", prior: Sequence[float] | None = None,
              batch_size: int = 8) -> np.ndarray:
        """Probabilities over ``classes`` per image: the image and question once, every class over the
        cache."""
        from steervis.lm.scoring import score

        if any(img is None for img in images):
            raise SteervisError("Class scoring needs an image for every input; one of them is empty.")
        return score(self.lm, self.prompts([question] * len(images), images), list(classes),
                     reduction=reduction, prior=prior, batch_size=batch_size)


def _untied(model: Any) -> dict[str, torch.Tensor]:
    """The LM's state dict with each shared tensor once (safetensors refuses a tensor stored twice)."""
    seen, out = set(), {}
    for name, tensor in model.state_dict().items():
        if tensor.data_ptr() not in seen:
            seen.add(tensor.data_ptr())
            out[name] = tensor
    return out
