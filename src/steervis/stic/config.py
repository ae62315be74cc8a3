"""STIC's settings: which model self-trains, on how many unlabelled images, and how (``steervis stic``).

>>> from steervis.config import load_config
>>> load_config(SticConfig, preset="stic-stage1").dpo.beta
0.1
"""

from __future__ import annotations

from dataclasses import dataclass, field

from steervis.device import check_placement
from steervis.lm.config import DPOSettings, LoraSettings, TrainSettings, check_ranges

STIC_LORA = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _stic_train() -> TrainSettings:
    # one pass over the pairs; a rate well under stage 2's 2e-4, as DPO moves a tuned model further per step
    # (not yet chosen on validation); a checkpoint every 20 steps
    return TrainSettings(epochs=1, batch_size=8, lr=5e-5, warmup=0.03, checkpoint_every=20)


def _stic_lora() -> LoraSettings:
    # a fresh adapter on every linear kind of the LM, as stage 2's; alpha 2r
    return LoraSettings(r=16, alpha=32, target_modules=list(STIC_LORA))


@dataclass
class SticConfig:
    """STIC stage 1: preference pairs from the model's own descriptions, a gate, then DPO.

    Attributes:
        model: the VLM to self-train: stage2, stage1, a saved folder or tiny-vlm (tests).
        pool_images: unlabelled pool images described for pairs (never a held-out concept).
        scene_images: unlabelled training scenes described for pairs (the train split's main part).
        gate_scenes: training scenes the gate describes and checks against their known objects and colours.
        max_new_tokens: longest description, in tokens.
        temperature: sampling temperature of the descriptions (0: greedy).
        batch_size: images per generation batch.
        seed: which images, which half gets a misleading prompt, the corruptions and the sampling.
        train: the optimiser and its budget (``train.seed`` also seeds the new adapter).
        lora: the adapter DPO trains; the model's own adapter, if any, is merged into it first.
        dpo: beta (the rewards' scale) and alpha (weight of the chosen answers' likelihood).
        device: where the model runs (auto, cpu, cuda, cuda:N).
        dtype: its precision (auto, float32, bfloat16, float16).
    """

    model: str = "stage2"
    pool_images: int = 300
    scene_images: int = 300
    gate_scenes: int = 100
    max_new_tokens: int = 96  # a few sentences: the small LLaVA's descriptions are short
    temperature: float = 0.2  # STIC's sampling temperature for both descriptions
    batch_size: int = 8
    seed: int = 0
    train: TrainSettings = field(default_factory=_stic_train)
    lora: LoraSettings = field(default_factory=_stic_lora)
    dpo: DPOSettings = field(default_factory=DPOSettings)
    device: str = "auto"
    dtype: str = "auto"

    def __post_init__(self) -> None:
        check_placement(self)
        check_ranges(self, {"pool_images": 0, "scene_images": 0, "gate_scenes": 1, "max_new_tokens": 1,
                            "temperature": 0, "batch_size": 1})
