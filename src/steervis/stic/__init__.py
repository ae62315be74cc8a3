"""STIC: self-training on image comprehension (Deng et al., "Enhancing Large Vision Language Models with
Self-Training on Image Comprehension", NeurIPS 2024), on steervis' LLaVA.

Stage 1, here: the model describes unlabelled images twice, carefully (a step-by-step prompt, the clean image)
and badly (a prompt inviting absent objects, or a corrupted copy), :mod:`.pairs`; a gate checks on training
scenes with known contents that the careful descriptions hallucinate less, :mod:`.gate`; DPO then teaches the
model to prefer them (:mod:`.train`, on :mod:`steervis.lm.preference`). The VLM is opened by name through
:func:`steervis.zoo.vlms.open_vlm`, never by importing :mod:`steervis.llava`.

Not yet here: stage 2, description-infused fine-tuning (the stage-1 model describes the images of a small
share of stage 2's instruction data, and those descriptions are put before each question as it is tuned
again; a module ``infuse.py`` beside :mod:`.train`, on the LM core's answer loss), and describe-first
inference (describe the image, then answer with the description in the prompt: an option of the verbs that
ask a VLM).

>>> from steervis.stic import PLAIN_PROMPT
>>> PLAIN_PROMPT
'Explain what is depicted in the image.'
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "SticConfig": "steervis.stic.config",
    "Pair": "steervis.stic.pairs",
    "PLAIN_PROMPT": "steervis.stic.pairs",
    "GOOD_PROMPT": "steervis.stic.pairs",
    "MISLEADING_PROMPTS": "steervis.stic.pairs",
    "make_pairs": "steervis.stic.pairs",
    "collect_pairs": "steervis.stic.pairs",
    "write_pairs": "steervis.stic.pairs",
    "read_pairs": "steervis.stic.pairs",
    "check_written_by": "steervis.stic.pairs",
    "pool_images": "steervis.stic.images",
    "training_scenes": "steervis.stic.images",
    "corrupt": "steervis.stic.images",
    "SceneTruth": "steervis.stic.gate",
    "score_description": "steervis.stic.gate",
    "gate": "steervis.stic.gate",
    "run_gate": "steervis.stic.gate",
    "train_stic": "steervis.stic.train",
    "preference_pairs": "steervis.stic.train",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
