"""``steervis think chains``: which writer, how many questions and chains, which captions.

>>> ThinkChainsConfig().writer
'smollm2-135m-instruct'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from steervis.thinker.questions import TYPES


@dataclass
class ThinkChainsConfig:
    """Reasoning chains written from captions for training scenes, verified against their truth.

    Attributes:
        writer: the text LM that writes chains (a zoo name: smollm2-135m-instruct, gemma3-270m, tiny-llama),
            or template (the template teacher: every chain right, the upper bound).
        questions: questions drawn in turn over the types (0: every question of the split's main part).
        samples: chains sampled per question.
        temperature: sampling temperature.
        max_new_tokens: longest chain, in tokens.
        prefill: start the LM's reply with <think> (it must still close it and write the answer).
        seed: seeds the draw of questions and each question's sampling.
        types: question types (count_among, more_than, how_many_more, left_of, above, bigger).
        scenes: the train split's folder (empty: STEERVIS_HOME/data/scenes/train).
        captions: a JSON file of scene index → caption the writer reads instead of the reference caption
            (empty: the reference captions, the oracle setting).
        setting: the label of the captions read: oracle (reference captions) or e.g. faithful (the VLM's own).
        folder: the run folder (empty: STEERVIS_HOME/thinker/chains/<writer>-<setting>-<settings hash>).
    """

    writer: str = "smollm2-135m-instruct"
    questions: int = 200  # a 95 % interval of about ±7 points overall on a yield near one half
    samples: int = 4
    temperature: float = 0.7  # below 1: fewer broken tags from a 135M model, still varied chains
    max_new_tokens: int = 192  # a few short steps and the answer; longer chains from small LMs ramble
    prefill: bool = True  # without it SmolLM2-135M opened no chain with <think> in a smoke run
    seed: int = 0
    types: list[str] = field(default_factory=lambda: list(TYPES))
    scenes: str = ""
    captions: str = ""
    setting: str = "oracle"
    folder: str = ""
