"""OpenVLThinker's first half: reasoning chains a text LM writes from captions, kept only when verified.

OpenVLThinker ("an early exploration to complex vision-language reasoning via iterative self-improvement")
distils reasoning into a VLM from a text model that reads image captions, keeps the chains whose answer is
right, then alternates SFT on them with RL (GRPO) on a verifiable reward. Here:

* :mod:`.questions`: multi-step questions (counting among kinds, comparing counts, positions between two
  named objects, sizes) from the ``train`` split's scene objects, each with its truth, steps and chance rate;
* :mod:`.answers`: the ``<think>…</think><answer>…</answer>`` format, parsed strictly, and answers verified;
* :mod:`.chains`: writers (a zoo LM sampling ``n`` chains, or the template teacher) reading a caption (the
  reference caption: ``oracle``; or one the caller passes: ``faithful``), the verified chains as SFT items in
  a resumable run folder;
* :mod:`.yield_`: the yield per question type against its chance rate, with 95 % intervals;
* ``steervis think chains`` (:mod:`steervis.commands.think`) runs it from a :class:`ThinkChainsConfig`.

Still to come: SFT of steervis' LLaVA on the chains (``thinker/sft.py``, on the LM core's trainer through the
llava registry name, as ``steervis think sft``), GRPO with the verification as the reward
(``thinker/grpo.py``, its policy-gradient loss in :mod:`steervis.lm`), the iterations between them, and
``steervis chat --think`` (the chat verb asking for the format and showing the think part apart).

>>> from steervis.thinker import parse
>>> parse("<think>1 cat, 2 dogs.</think><answer>no</answer>").answer
'no'
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "TYPES": "steervis.thinker.questions",
    "thinker_questions": "steervis.thinker.questions",
    "scene_questions": "steervis.thinker.questions",
    "parse": "steervis.thinker.answers",
    "verified": "steervis.thinker.answers",
    "chain_text": "steervis.thinker.answers",
    "Writer": "steervis.thinker.chains",
    "LMWriter": "steervis.thinker.chains",
    "TemplateTeacher": "steervis.thinker.chains",
    "open_writer": "steervis.thinker.chains",
    "write_chains": "steervis.thinker.chains",
    "read_records": "steervis.thinker.chains",
    "chain_items": "steervis.thinker.chains",
    "chain_yield": "steervis.thinker.yield_",
    "compare_writers": "steervis.thinker.yield_",
    "ThinkChainsConfig": "steervis.thinker.config",
    "run_chains": "steervis.thinker.run",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
