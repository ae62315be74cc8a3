"""Run by tests/lm/test_lm_ddp.py, alone or under `accelerate launch --cpu --num_processes 2`: train the
tiny model on fixed examples and write this process's view (rank, world, shard, losses) as JSON."""

import json
import sys
from pathlib import Path

import torch

from steervis import zoo
from steervis.lm.adapters import add_lora
from steervis.lm.batch import Example
from steervis.lm.config import LoraSettings, TrainSettings
from steervis.lm.model import LanguageModel
from steervis.lm.train import train

WORDS = ["cat", "dog", "car", "ice cream", "t-shirt", "banana", "guitar", "owl", "tree", "moon", "bus"]


def main(out: Path) -> None:
    torch.set_num_threads(1)  # two processes on two cores
    lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
    lm.model = add_lora(lm.model, LoraSettings(dropout=0.0), seed=0)  # no dropout: the curves can match
    data = [Example.from_prompt_answer(lm.encode(f"item {i}: {w} " * (1 + i % 3) + "\n### Answer:"),
                                       lm.encode_answer(f" {w}")) for i, w in enumerate(WORDS * 2)]
    result = train(lm, lambda epoch: data, TrainSettings(epochs=2, batch_size=4, lr=5e-3), progress=False)
    from accelerate import PartialState

    state = PartialState()
    lora = {n: p.detach().sum().item() for n, p in lm.model.named_parameters() if p.requires_grad}
    (out / f"rank{state.process_index}.json").write_text(json.dumps(
        {"rank": state.process_index, "world": state.num_processes, "shard": result.shard,
         "losses": result.losses, "lora_sum": sum(lora.values())}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
