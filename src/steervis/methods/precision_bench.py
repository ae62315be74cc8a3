"""What a precision costs in time, stage by stage: ``steervis bench precision``.

Each model stage the ``quick`` preset runs is timed on the same small inputs in float32 and in a second
precision (bfloat16 unless ``dtype`` says otherwise), each after one untimed warm-up call:

* ``image-tower``: efficientnet-lite0's forward (ConSE's image side, the imagenet tagger, linear-probe's
  backbone);
* ``text-encoder``: minilm-l6 sentence embeddings (ConSE's text side: tags, attributes, class prompts);
* ``lm-score``: the decider scoring every class after VLLaVO prompts (zeroshot-llm, describe-decide's
  predictions);
* ``lm-generate``: greedy generation (by-description's descriptors);
* ``lora-step``: one LoRA training step of the decider, gradient checkpointing on (describe-decide's fit).

With ``run=DIR`` (a finished float32 ``steervis evaluate`` run of the same rows) each row's compute time is
multiplied by the ratio of the stage that dominates it: an estimate of that row in the slower precision, to
decide what is worth running, never a result.

    steervis bench precision --set run=runs/quick --out bf16-cost.json
    steervis study summary --set source=bf16-cost.json --set rows=stages --set table=bf16-stages \\
        --set command="steervis bench precision --set run=runs/quick --out bf16-cost.json"

>>> row = time_stage(lambda: sum(range(10)), lambda: sum(range(10)), repeats=1)
>>> sorted(row)
['float32_s', 'other_s', 'ratio']
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The stage each quick-preset row spends its compute in: (stage of its fit, stage of its predictions).
ROW_STAGES = {
    "zeroshot": ("image-tower", "image-tower"),
    "linear-probe": ("image-tower", "image-tower"),
    "by-description": ("lm-generate", "image-tower"),
    "description-probe": ("image-tower", "image-tower"),  # what it costs is describing its images
    "zeroshot-llm": ("lm-score", "lm-score"),
    "describe-decide": ("lora-step", "lm-score"),
}


def _seconds(call: Callable[[], Any], repeats: int) -> float:
    call()  # warm-up: thread pools, allocator, lazily built kernels
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats


def time_stage(reference: Callable[[], Any], other: Callable[[], Any], repeats: int = 2,
               dtype: str = "other") -> dict[str, float]:
    """Seconds per call of the float32 ``reference`` and the ``other`` precision (``dtype``), their ratio."""
    ref, oth = _seconds(reference, repeats), _seconds(other, repeats)
    return {"float32_s": round(ref, 4), f"{dtype}_s": round(oth, 4), "ratio": round(oth / max(ref, 1e-9), 2)}


def stage_calls(dtype: str, model: str, images: int, prompts: int, seq: int) -> dict[str, Callable[[], Any]]:
    """One call per stage, with models loaded in ``dtype`` on the CPU."""
    import torch

    from steervis import zoo
    from steervis.data.minidomains import load_sources
    from steervis.lm.batch import Prompt
    from steervis.lm.generate import generate
    from steervis.lm.model import LanguageModel
    from steervis.lm.scoring import loglik
    from steervis.methods.bench import DESCRIPTIONS
    from steervis.vllavo.decide.template import PromptBuilder

    tower = zoo.load("efficientnet-lite0", kind="image-classifier", device="cpu", dtype=dtype)
    encoder = zoo.load("minilm-l6", kind="text-encoder", device="cpu", dtype=dtype)
    lm = LanguageModel(zoo.load(model, kind="causal-lm", device="cpu", dtype=dtype))
    size = tower.input_size
    pixels = torch.rand(images, 3, size, size, generator=torch.Generator().manual_seed(0))
    texts = [d.replace("\n", " ") for d in DESCRIPTIONS]
    classes = sorted(load_sources())
    builder = PromptBuilder(kind="vllavo", tokenizer=lm.tokenizer, max_length=4096, seed=0)
    batch = [Prompt(lm.encode(p)) for p in builder.build((DESCRIPTIONS * prompts)[:prompts], classes)]
    answers = [builder.answer(c) for c in classes]

    def text_encode() -> Any:
        encoder._memo.clear()  # embed every time: the encoder memoises texts it has seen
        return encoder.encode(texts)

    return {
        "image-tower": lambda: tower.forward_all(pixels),
        "text-encoder": text_encode,
        "lm-score": lambda: loglik(lm, batch, answers),
        "lm-generate": lambda: generate(lm, batch[:1], max_new_tokens=16, batch_size=1),
        "lora-step": lora_step(lora_model(model, dtype), prompts, seq),
    }


def lora_model(name: str, dtype: str) -> Any:
    """The decider with a fresh LoRA adapter (r 8 on q and v) in training mode, activations recomputed in
    backward, as the decide presets train it (a model of its own: the adapter must not slow scoring)."""
    from steervis import zoo
    from steervis.lm.adapters import add_lora
    from steervis.lm.config import LoraSettings

    model = add_lora(zoo.load(name, kind="causal-lm", device="cpu", dtype=dtype).model, LoraSettings())
    model.train()
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    return model


def lora_step(model: Any, batch: int, seq: int) -> Callable[[], Any]:
    """One AdamW step of ``model``'s adapter over ``batch`` random sequences of ``seq`` tokens (loss on the
    last token)."""
    import torch

    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    vocab = model.get_input_embeddings().num_embeddings
    ids = torch.randint(0, vocab, (batch, seq), generator=torch.Generator().manual_seed(0))

    def step() -> None:
        logits = model(input_ids=ids, use_cache=False, logits_to_keep=1).logits[:, -1].float()
        loss = torch.nn.functional.cross_entropy(logits, ids[:, -1])
        loss.backward()
        optim.step()
        optim.zero_grad()

    return step


def estimate_run(run: str | Path, ratios: dict[str, float],
                 dtype: str = "other") -> dict[str, dict[str, float]]:
    """Each row of a finished float32 run: its compute seconds and the estimate in ``dtype`` at the measured
    ratios."""
    metrics = json.loads((Path(run) / "metrics.json").read_text())
    rows: dict[str, dict[str, float]] = {}
    for key, info in metrics["runs"].items():  # "split/method"
        method = key.split("/", 1)[1]
        fit, predict = ROW_STAGES.get(method, ("image-tower", "image-tower"))
        fit_s, predict_s = info.get("fit_s", 0), info.get("predict_s", 0)
        row = rows.setdefault(method, {"float32_s": 0.0, f"{dtype}_estimate_s": 0.0})
        row["float32_s"] += fit_s + predict_s
        row[f"{dtype}_estimate_s"] += fit_s * ratios[fit] + predict_s * ratios[predict]
    return {m: {k: round(v, 1) for k, v in r.items()} for m, r in rows.items()}


def bench_precision(dtype: str = "bfloat16", model: str = "smollm2-135m-instruct", images: int = 8,
                    prompts: int = 2, seq: int = 256, repeats: int = 1, threads: int = 1,
                    run: str = "") -> dict[str, Any]:
    """``steervis bench precision``: per stage, float32 and ``dtype`` seconds per call and their ratio; with
    ``run``, each row of that float32 run folder estimated in ``dtype``."""
    import torch

    torch.set_num_threads(threads)  # both precisions on the same threads: the ratio is what is reported
    reference = stage_calls("float32", model, images, prompts, seq)
    other = stage_calls(dtype, model, images, prompts, seq)
    stages = {name: time_stage(reference[name], other[name], repeats, dtype) for name in reference}
    out: dict[str, Any] = {"dtype": dtype, "model": model, "threads": threads,
                           "sizes": {"images": images, "prompts": prompts, "lora_batch": prompts, "seq": seq},
                           "stages": stages}
    if run:  # a table per method: ``steervis study summary --set rows=methods``
        out["run"] = str(run)
        out["methods"] = estimate_run(run, {name: row["ratio"] for name, row in stages.items()}, dtype)
    return out
