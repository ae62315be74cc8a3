"""steervis' LLaVA: vision tower → projector → causal LM, on the LM core; or a transformers Llava checkpoint.

A :class:`VLM` turns images into the objects its splicer reads (cached tower tokens for steervis' own model:
efficientnet-lite0, a CLIP or a timm model, see :mod:`steervis.llava.tower`; pixel tensors for a hub Llava), writes
prompts with a conversation template, and leaves scoring, generation and training to :mod:`steervis.lm`. Saved
as a folder: ``card.json`` (config, data, metrics), ``projector.safetensors`` and ``adapter/`` (LoRA, once stage 2
ran).

>>> from steervis.llava import VLM, VLMConfig
>>> vlm = VLM.create(VLMConfig(lm="tiny-llama"))  # doctest: +SKIP
>>> vlm.chat("What is in the photo?", image)  # doctest: +SKIP
>>> vlm.score([image], ["cat", "dog"]).shape  # doctest: +SKIP
(1, 2)
>>> tiny_hub = VLM.from_llava("tiny-llava")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from steervis.errors import SteervisError
from steervis.llava.conversation import IMAGE, encode_turns, template
from steervis.llava.splice import LlavaSplicer, ProjectorSplicer, llava_image_tokens
from steervis.lm.adapters import CARD_NAME
from steervis.lm.batch import Prompt
from steervis.lm.model import LanguageModel
from steervis.registry import looks_like_path

CLASSIFY_QUESTION = "What type of object is in the photo?"  # VLMClassifier's open question
CAPTION_QUESTION = "Describe the image briefly."
SHORT_ANSWER = "Answer the question using a single word or phrase."  # LLaVA-1.5's response-format prompt
PROJECTOR_FILE = "projector"


class PromptTooLong(SteervisError):
    """A prompt (a question, or a conversation grown turn by turn) that leaves the model no room to answer."""


def closed_question(classes: Sequence[str], question: str = CLASSIFY_QUESTION, suffix: str = SHORT_ANSWER) -> str:
    """The question with every option listed, then the response-format prompt (VLMClassifier's closed form).

    >>> closed_question(["cat", "dog"]).splitlines()
    ['What type of object is in the photo? Choose one of: cat, dog.', 'Answer the question using a single word or phrase.']
    """
    return f"{question} Choose one of: {', '.join(classes)}.\n{suffix}".rstrip()


@dataclass
class VLMConfig:
    """What a steervis LLaVA is made of (stored in its card; ``VLM.load`` rebuilds it from this)."""

    lm: str = "smollm2-135m-instruct"
    tower: str = "efficientnet-lite0"  # or clip:<hub id or tiny-clip>, timm:<model name> (see tower.py)
    layer: str = ""  # "": the tower's default, LLaVA-like (efficientnet-lite0: last MBConv block; CLIP: penultimate)
    grid: int = 4  # 4×4 = 16 visual tokens
    projector: str = "mlp2x_gelu"  # LLaVA-1.5's projector
    template: str = "chatml"
    caption_template: str = "chatml"  # "plain" after stage 1: it learnt "<image>\n" → caption, not chat
    image_token: str = "<|endoftext|>"  # a token chat text never contains; its positions are overwritten
    max_prompt_tokens: int = 2048  # prompts longer than this are refused (SmolLM2 reads 8k; CPU time does not)
    hub: str = ""  # a transformers Llava (hub id, or tiny-llava): tower, projector and LM all come from it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VLMConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class VLM:
    """A vision-language model on the LM core (build with :meth:`create`, :meth:`from_llava` or :meth:`load`)."""

    def __init__(self, config: VLMConfig, lm: LanguageModel, image_tokens: int, tower: Any = None,
                 image_processor: Any = None, card: dict[str, Any] | None = None):
        self.config = config
        self.lm = lm
        self.image_tokens = image_tokens
        self.tower = tower
        self.image_processor = image_processor
        self.card = card or {}
        self.image_id = lm.splicer.image_id

    # --- construction -------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, config: VLMConfig | None = None, seed: int = 0, tower: Any = None) -> VLM:
        """steervis' own LLaVA with a fresh, seeded projector (train it with :mod:`steervis.llava.train`)."""
        from steervis import zoo
        from steervis.llava.projector import build_projector
        from steervis.llava.tower import TowerSpec

        config = config or VLMConfig()
        if config.hub:
            return cls.from_llava(config.hub, config)
        spec = TowerSpec(config.tower, config.layer, config.grid)
        config = replace(config, layer=spec.layer)  # the card records the layer the default resolved to
        causal = zoo.load(config.lm, kind="causal-lm")
        for param in causal.model.parameters():
            param.requires_grad_(False)  # the LM is frozen; stage 2 trains LoRA on top
        image_id = causal.tokenizer.convert_tokens_to_ids(config.image_token)
        if image_id is None or image_id == causal.tokenizer.unk_token_id and config.image_token != causal.tokenizer.unk_token:
            raise SteervisError(f"The image token {config.image_token!r} is not a single token of {config.lm}.")
        torch.manual_seed(seed)  # the projector's initial weights
        width = causal.model.get_input_embeddings().embedding_dim
        splicer = ProjectorSplicer(build_projector(config.projector, spec.dim, width), image_id)
        lm = LanguageModel(causal, splicer=splicer, add_special_tokens=False, add_eos=True)
        if image_id == lm.pad_id:
            raise SteervisError(f"The image token {config.image_token!r} is the padding token; choose another.")
        return cls(config, lm, spec.tokens, tower=tower if tower is not None else _LazyTower(spec))

    @classmethod
    def from_llava(cls, name: str, config: VLMConfig | None = None) -> VLM:
        """A transformers ``LlavaForConditionalGeneration`` (``llava-hf/llava-1.5-7b-hf``, or ``tiny-llava``)."""
        from steervis import zoo
        from steervis.zoo.bundles import CausalLM
        from steervis.zoo.embedded import smollm2_tokenizer

        bundle = zoo.load(name, kind="vlm")
        tokenizer = getattr(bundle.processor, "tokenizer", None) or smollm2_tokenizer()  # tiny-llava: SmolLM2's
        chatml = "<|im_start|>" in tokenizer.get_vocab()
        config = config or VLMConfig(template="chatml" if chatml else "vicuna")
        config.hub, config.lm, config.caption_template = name, name, config.template
        config.image_token = tokenizer.convert_ids_to_tokens(bundle.model.config.image_token_id)
        lm = LanguageModel(CausalLM(bundle.model, tokenizer, name), splicer=LlavaSplicer(bundle.model),
                           add_special_tokens=False, add_eos=True)
        processor = getattr(bundle.processor, "image_processor", bundle.processor)
        return cls(config, lm, llava_image_tokens(bundle.model.config), image_processor=processor)

    @classmethod
    def load(cls, directory: str | Path) -> VLM:
        """A VLM saved by :meth:`save` (projector and, after stage 2, its LoRA adapter)."""
        from steervis.lm.adapters import ADAPTER_DIR, load_lora, read_card, read_tensors

        card = read_card(directory, required=("vlm",))
        vlm = cls.create(VLMConfig.from_dict(card["vlm"]))
        if not vlm.config.hub:
            vlm.lm.splicer.projector.load_state_dict(read_tensors(directory, PROJECTOR_FILE))
        if (Path(directory) / ADAPTER_DIR / "adapter_config.json").exists():
            vlm.lm.model = load_lora(vlm.lm.model, directory)
        vlm.card = card
        vlm.lm.model.eval()
        return vlm

    def save(self, directory: str | Path, **facts: Any) -> Path:
        """Card (config + ``facts``: data, metrics), projector safetensors and LoRA adapter, all or nothing."""
        from steervis.lm.adapters import write_adapter

        peft = self.lm.model if hasattr(self.lm.model, "peft_config") else None
        card = {**self.card, **facts, "kind": "vlm", "vlm": asdict(self.config), "lm": self.config.lm,
                "vision_tower": f"{self.config.tower}:{self.config.layer}:{self.config.grid}x{self.config.grid}"}
        tensors = {} if self.config.hub else {PROJECTOR_FILE: self.lm.splicer.projector.state_dict()}
        return write_adapter(directory, peft, card, tensors=tensors, kind="vlm")

    # --- inputs -------------------------------------------------------------------------------------------------
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

    def prompts(self, questions: Sequence[str], images: Sequence[Any], tpl: str | None = None) -> list[Prompt]:
        visuals = self.visual(images)
        return [self.conversation([(q, None)], v, tpl) for q, v in zip(questions, visuals, strict=True)]

    # --- inference ----------------------------------------------------------------------------------------------
    def ask(self, images: Sequence[Any], questions: Sequence[str], max_new_tokens: int = 32,
            batch_size: int = 8, **options: Any) -> list[str]:
        """One answer per (image, question), generated in left-padded batches."""
        from steervis.lm.generate import generate

        answers = generate(self.lm, self.prompts(questions, images), max_new_tokens=max_new_tokens,
                           batch_size=batch_size, **options)
        return [a.strip() for a in answers]

    def chat(self, message: str, image: Any = None, history: Sequence[tuple[str, str]] = (),
             max_new_tokens: int = 128, streamer: Any = None) -> str:
        """The next answer of a conversation about one image (``history``: earlier (question, answer) turns)."""
        from steervis.lm.generate import generate

        visual = self.visual([image])[0] if image is not None else None
        prompt = self.conversation([*history, (message, None)], visual)
        budget = min(max_new_tokens, self.room(prompt))  # past its context a model writes noise, forever
        return generate(self.lm, [prompt], max_new_tokens=budget, batch_size=1, streamer=streamer)[0].strip()

    def context_tokens(self) -> int | None:
        """How many tokens the LM reads at most, prompt and answer together (its position embeddings; a Llava's
        text model's); ``None`` if its config does not say."""
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
              reduction: str = "mean", prior: Sequence[float] | None = None, batch_size: int = 8) -> np.ndarray:
        """Probabilities over ``classes`` per image: the image and question once, every class over the cache."""
        from steervis.lm.scoring import score

        if any(img is None for img in images):
            raise SteervisError("Class scoring needs an image for every input; one of them is empty.")
        return score(self.lm, self.prompts([question] * len(images), images), list(classes), reduction=reduction,
                     prior=prior, batch_size=batch_size)


class _LazyTower:
    """Loads the tower on first use: training from cached features never needs it."""

    def __init__(self, spec: Any):
        self.spec, self._tower = spec, None

    def encode(self, images: Sequence[Any]) -> torch.Tensor:
        if self._tower is None:
            from steervis.llava.tower import build_tower

            self._tower = build_tower(self.spec)
        return self._tower.encode(images)


def trained_dir(stage: int) -> Path:
    """Where ``steervis vlm train --stage N`` saves by default: ``STEERVIS_HOME/models/vlm/stageN``."""
    from steervis.paths import cache_dir

    return cache_dir("models", "vlm") / f"stage{stage}"


def trained_models() -> list[dict[str, Any]]:
    """The VLMs trained here (``stage1``, ``stage2``), each summarised from its card; unreadable cards say so."""
    from steervis.lm.adapters import read_card

    rows = []
    for stage in (1, 2):
        folder = trained_dir(stage)
        if not (folder / "card.json").exists():
            continue
        try:
            card = read_card(folder, required=("vlm",))
        except SteervisError as err:
            rows.append({"name": f"stage{stage}", "path": str(folder), "error": str(err)})
            continue
        try:
            rows.append(_trained_row(card, stage, folder))
        except (AttributeError, TypeError):  # JSON of another shape: listed as damaged, the other stage still shown
            rows.append({"name": f"stage{stage}", "path": str(folder),
                         "error": f"{folder / 'card.json'} is not a VLM card (unexpected fields): retrain it."})
    return rows


def _trained_row(card: dict[str, Any], stage: int, folder: Path) -> dict[str, Any]:
    runs = card.get("stages", {})
    last = runs.get(str(stage), {})
    return {"name": f"stage{stage}", "path": str(folder), "lm": card.get("lm", ""),
            "vision_tower": card.get("vision_tower", ""), "projector": card["vlm"].get("projector", ""),
            "stages": sorted(map(str, runs)), "conversations": last.get("data", {}).get("conversations"),
            "steps": last.get("training", {}).get("steps"),
            "loss_last": last.get("training", {}).get("loss_last")}


TINY = "tiny-vlm"  # steervis' own LLaVA on tiny-llama with a fresh, seeded projector: for tests


def vlm_identity(name: str) -> str:
    """``name``, plus the hash of the model's files when it is one trained here (``stage1``, ``stage2``, a saved
    folder): every cache keyed on it treats a retrained model as a new model. Other names come back unchanged."""
    from steervis.data.hashes import file_identity

    folder = trained_dir(int(name[-1])) if name in ("stage1", "stage2") else Path(name).expanduser()
    if not (folder / "card.json").is_file():
        return name
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "checkpoint" not in p.as_posix())
    return f"{name}@{file_identity(*files)}"


def open_vlm(name: str | Path | None = None) -> VLM:
    """A VLM by name: a saved folder, ``stage1`` / ``stage2`` (trained here), ``tiny-vlm`` (untrained, tests), or
    a Llava (``tiny-llava``, a hub id); ``None``: the latest stage trained here."""
    if name is None:
        for stage in (2, 1):
            if (trained_dir(stage) / "card.json").exists():
                return VLM.load(trained_dir(stage))
        raise SteervisError("No LLaVA is trained here yet: run `steervis vlm train --stage 1` (then --stage 2), "
                            "or pass --model tiny-llava / a hub Llava id.")
    if str(name) in ("stage1", "stage2"):
        if not (trained_dir(int(str(name)[-1])) / "card.json").exists():
            raise SteervisError(f"No {name} model is trained here: run `steervis vlm train --stage {str(name)[-1]}`, "
                                "or pass a saved folder, tiny-llava or a hub Llava id.")
        return VLM.load(trained_dir(int(str(name)[-1])))
    if str(name) == TINY:
        return VLM.create(VLMConfig(lm="tiny-llama"))
    folder = Path(name).expanduser()
    if (folder / CARD_NAME).is_file():  # a saved VLM is marked by its card, wherever it lives
        return VLM.load(folder)
    if looks_like_path(str(name)):
        raise SteervisError(f"{name} {_not_a_vlm(folder)}: give a folder written by `steervis vlm train`, stage1, "
                            "stage2, tiny-llava or a hub Llava id (org/name).")
    return VLM.from_llava(str(name))  # a hub id by its grammar (dots and all), or a zoo name: did-you-mean


def _not_a_vlm(folder: Path) -> str:
    """Why a path is no saved VLM, in a few words."""
    if not folder.exists():
        return "does not exist"
    return f"holds no saved VLM (no {CARD_NAME})" if folder.is_dir() else "is a file, not a folder holding a saved VLM"
