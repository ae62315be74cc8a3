"""VRL's VLM half: a VLM shown both images of a pair writes the criteria (the verbalizer), and a VLM answers
each criterion's question about an image (the mapping), as in Yang et al.'s VRL.

* :class:`VLMVerbalizer`: one prompt holds the pair's two images, ``Image 1: <image>`` and ``Image 2:
  <image>``, each image's visual tokens spliced at its own placeholder. steervis' LLaVA is trained on one
  image per prompt, so two images per prompt lie outside its training distribution: what it says of "image
  2" is a test of that, not of what the paper's VLMs do. A transformers Llava's splicer reads one image per
  prompt, so this verbalizer takes steervis' LLaVA only.
* :class:`VLMMapper`: image × criterion → log P("yes") − log P("no") as the reply to the criterion's question
  (:meth:`~steervis.vrl.criteria.Criterion.question`), each answer in either case
  (:func:`steervis.llava.likelihood.reply_logprobs`, the prompt read once over the LM core's KV cache). Its
  scores are cached per image × question under ``STEERVIS_HOME`` (:class:`steervis.vrl.cache.CachedScores`,
  keyed by the VLM's identity, precision and the code's behaviour versions): a refit or a second prediction
  asks the VLM nothing it has answered.

The ``vrl`` method picks them with ``verbalizer=vlm`` and ``mapping=vlm``; the VRL system never imports the
VLM (systems stand side by side), this floor joins them.

>>> VLMVerbalizer(vlm=None, shots=None, context=None).kind
'vlm'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from steervis.errors import SteervisError
from steervis.llava.conversation import IMAGE, template
from steervis.vrl.verbalize import ANSWER_PREFIX

if TYPE_CHECKING:
    from steervis.vrl.cache import CachedScores

PAIR_DIFFERENCE = (f"Image 1: {IMAGE}\nImage 2: {IMAGE}\nList the visual differences between image 1 and "
                   "image 2, one per line, each written as 'what image 1 has | what image 2 has'. Name "
                   "parts, colours, shapes and textures, not what the objects are.")
PAIR_COMMONALITY = (f"Image 1: {IMAGE}\nImage 2: {IMAGE}\nBoth images show the same kind of thing. List "
                    "the visual features both images share, one per line, each a short phrase. Name parts, "
                    "colours, shapes and textures, not what the objects are.")
YES_NO = ("yes", "no")


def pair_prompt(vlm: Any, question: str, first: Any, second: Any) -> Any:
    """One prompt showing two images: their visual tokens, concatenated, fill the question's two
    placeholders in order (steervis' LLaVA: the projector reads token by token); the reply is started as a
    bullet list, as the text LM's is."""
    import torch

    from steervis.lm.batch import Prompt

    if vlm.image_processor is not None:
        raise SteervisError("The VLM verbalizer shows two images in one prompt, which a transformers Llava's "
                            "splicer cannot read: use steervis' LLaVA (stage2, a saved folder, tiny-vlm).")
    prompt = vlm.conversation([(question, None)], torch.cat([first, second]))
    opening = (" " if template(vlm.config.template).answer_space else "") + ANSWER_PREFIX
    return Prompt(prompt.ids + vlm.lm.tokenizer(opening, add_special_tokens=False).input_ids, prompt.image)


@dataclass
class VLMVerbalizer:
    """Answers pairs of shots with a VLM that sees both images.

    Args:
        vlm: a callable giving the VLM (called on the verbalization cache's first miss only).
        shots: the shots' rows (``sha256``, ``path``), as the pairs' row positions index them.
        context: the run's :class:`~steervis.methods.context.MethodContext` (images and their features).
        max_new_tokens / batch_size: generation budget and prompts per ``generate`` call.
    """

    vlm: Callable[[], Any] | None
    shots: pd.DataFrame | None
    context: Any
    max_new_tokens: int = 48
    batch_size: int = 8
    kind = "vlm"

    def _question(self, pair: Any) -> str:
        return PAIR_DIFFERENCE if pair.kind == "difference" else PAIR_COMMONALITY

    def shown(self, pairs: Sequence[Any]) -> list[str]:
        """Each pair's question and its two images' hashes: what the VLM is shown."""
        sha = self.shots["sha256"].tolist()
        return [f"{self._question(p)}\n{sha[p.first]}\n{sha[p.second]}" for p in pairs]

    def answer(self, pairs: Sequence[Any]) -> list[str]:
        from steervis.lm.generate import generate
        from steervis.methods.vlm import image_inputs

        vlm = self.vlm()
        visuals = image_inputs(vlm, self.shots.reset_index(drop=True), self.context)
        prompts = [pair_prompt(vlm, self._question(p), visuals[p.first], visuals[p.second]) for p in pairs]
        answers = generate(vlm.lm, prompts, max_new_tokens=self.max_new_tokens, batch_size=self.batch_size)
        return [ANSWER_PREFIX + a for a in answers]


def score_cache(name: str, precision: str, batch_size: int) -> CachedScores:
    """The cache of the VLM mapping's scores for the VLM opened as ``name`` in ``precision``: keyed by the
    VLM's identity (a model trained here by the hash of its files), the answers compared and the batch size
    (padding moves a likelihood a little), and per cell by the criterion's question and the image's hash."""
    from steervis.llava.likelihood import READINGS
    from steervis.llava.trained import vlm_identity
    from steervis.vrl.cache import CachedScores

    settings = {"vlm": name, "precision": precision, "mapping": "log P(yes) - log P(no)",
                "answers": list(YES_NO), "readings": list(READINGS), "batch_size": batch_size}
    return CachedScores(name, settings, [vlm_identity(name)])


class VLMMapper:
    """Scores images on criteria by a VLM's yes/no likelihood.

    Each cell's log-odds are read both ways (:data:`~steervis.llava.likelihood.READINGS`) from one pass; with
    a ``name`` both are cached (:class:`~steervis.vrl.cache.CachedScores`), so a refit, another classifier or
    a second prediction over the same images asks the VLM only about criteria and images it has not seen.

    Args:
        vlm: the VLM (steervis' LLaVA or a transformers Llava).
        context: the run's method context (images and their tower features).
        whole: ``yes``/``no`` as the whole reply (closing marker in, as answers are learnt) or its opening.
        batch_size: prompts per forward pass.
        name: the name the VLM was opened by (:func:`~steervis.llava.vlms.open_vlm`), which keys the cache;
            ``None``: nothing is cached (a VLM without a name, or changed in memory, has no identity).
        precision: the precision it computes in (:func:`~steervis.device.precision_identity`), with ``name``.
    """

    def __init__(self, vlm: Any, context: Any, whole: bool = True, batch_size: int = 16,
                 name: str | None = None, precision: str | None = None):
        if name is not None and precision is None:
            raise SteervisError("A cached VLM mapping needs the precision its VLM computes in (precision=).")
        self.vlm, self.context, self.whole, self.batch_size = vlm, context, whole, batch_size
        self.cache = None if name is None else score_cache(name, precision, batch_size)

    def scores(self, items: pd.DataFrame, criteria: Sequence[Any]) -> np.ndarray:
        """[images, criteria] of log P(yes) − log P(no)."""
        from steervis.llava.likelihood import READINGS, reply_logprobs
        from steervis.methods.vlm import image_inputs

        if not criteria:
            raise SteervisError("There are no criteria to score images on.")
        items = items.reset_index(drop=True)
        if not len(items):
            return np.zeros((0, len(criteria)), np.float32)
        visuals: list[Any] = []  # the images' inputs, read on the first cell the cache lacks

        def log_odds(rows: list[int], question: str) -> np.ndarray:
            if not visuals:
                visuals.extend(image_inputs(self.vlm, items, self.context))
            logp = reply_logprobs(self.vlm, [visuals[i] for i in rows], [question] * len(rows), list(YES_NO),
                                  self.batch_size)
            return np.stack([logp[r][:, 0] - logp[r][:, 1] for r in READINGS], axis=1)

        questions = [c.question() for c in criteria]
        if self.cache is None:
            cells = np.stack([log_odds(list(range(len(items))), q) for q in questions], axis=1)
        else:
            cells = self.cache.scores(items["sha256"].tolist(), questions, log_odds)
        return cells[:, :, READINGS.index("whole" if self.whole else "opening")].astype(np.float32)
