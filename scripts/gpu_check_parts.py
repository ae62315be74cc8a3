"""The parts of scripts/gpu-check, each a function of the run (its device, precision, scratch folder and
shared models) returning a JSON-ready dict. Random models at the real shapes, built on the card."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# 235 s of parts, about five seconds of the four minutes for imports and the card's start: no part has been
# timed on a card yet, so none was cut to make room for ground (a small head, seconds of work on a card)
BUDGET_S = {"tests": 45, "scoring": 40, "generate": 30, "lora": 50, "describe": 55, "ground": 15}
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12}  # dense tensor-core FLOP/s
SHAPES = {  # (hidden, layers, heads, kv heads, intermediate, vocab): LLaVA-1.5-7B's / a 7B decider's LM
    False: (4096, 32, 32, 32, 11008, 32064),
    True: (64, 2, 4, 2, 128, 512),
}
SIZES = {False: {"image": 576, "classes": 1000, "subset": 100, "batches": (1, 32), "new": 32, "seq": 1024,
                 "lora_batch": 4, "matmul": 8192, "images": 2000, "pixels": 224},
         True: {"image": 16, "classes": 60, "subset": 12, "batches": (1, 4), "new": 4, "seq": 64,
                "lora_batch": 2, "matmul": 256, "images": 24, "pixels": 32}}



def clock(fn, device) -> tuple[float, object]:
    """Seconds ``fn()`` takes, the card synchronised before and after; and its result."""
    import torch

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - start, out


def word_tokenizer(folder: Path, words: int):
    """A BERT word-piece tokenizer over ``words`` made-up words ("w0" ...), saved to ``folder``."""
    from transformers import BertTokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[IMG]", *(f"w{i}" for i in range(words))]
    tok = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
    tok.eos_token = "[SEP]"
    tok.save_pretrained(folder)
    return tok


def build_lm(run, name: str):
    """A random Llama at the run's shape on its device and precision, wrapped as steervis' LanguageModel."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from steervis.lm.model import LanguageModel
    from steervis.zoo.bundles import CausalLM

    hidden, layers, heads, kv, inter, vocab = SHAPES[run.tiny]
    tok = word_tokenizer(run.tmp / "tok", vocab - 6)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv, intermediate_size=inter,
                         max_position_embeddings=4096, pad_token_id=0, eos_token_id=tok.eos_token_id,
                         attn_implementation="sdpa")
    torch.manual_seed(0)
    with torch.device(run.device):  # built on the card: a 7B random init on the host takes minutes
        model = LlamaForCausalLM._from_config(config, dtype=run.dtype).eval()
    return LanguageModel(CausalLM(model, tok, name), add_special_tokens=False)


def class_names(n: int, words: int) -> list[str]:
    """``n`` distinct class names of 1 to 4 words sharing first words, as ImageNet's names share tokens."""
    import random

    rng, names = random.Random(0), set()
    while len(names) < n:
        names.add(" " + " ".join(f"w{rng.randrange(words)}" for _ in range(rng.choice((1, 2, 2, 3, 4)))))
    return sorted(names)


def part_tests(run) -> dict:
    """The gpu-marked tests and the device tests, on this machine's torch."""
    tests = ["tests/core/test_device.py", "tests/core/test_gpu.py", "-m", "gpu or not slow"]
    if not run.tiny:  # these read the embedded tokenizers: a machine without them reports it here
        tests += ["tests/core/test_device_gpu_path.py"]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=BUDGET_S["tests"] - 5,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return {"returncode": done.returncode, "summary": done.stdout.strip().splitlines()[-1:]}


def full_forward_logprobs(lm, prompt, answers, device) -> list[float]:
    """lmms-eval's way: prompt + answer through the whole model, per answer (batched by 25)."""
    import torch

    from steervis.lm.batch import left_pad

    out = []
    for start in range(0, len(answers), 25):
        seqs = [prompt.ids + lm.encode_answer(a) for a in answers[start : start + 25]]
        ids, mask = left_pad(seqs, lm.pad_id, device=device)
        with torch.inference_mode():
            logits = lm.model(input_ids=ids, attention_mask=mask).logits.float().log_softmax(-1)
        for row, answer in enumerate(answers[start : start + 25]):
            n = len(lm.encode_answer(answer))
            picked = logits[row, -n - 1 : -1].gather(1, ids[row, -n:, None])
            out.append(float(picked.sum()))
    return out


def prefix_cache_logprobs(lm, prompt, answers, device) -> list[float]:
    """VLMClassifier's way: the prompt cached once, each class fed over it one at a time."""
    import torch

    from steervis.lm.model import cache_keyword

    out = []
    with torch.inference_mode():
        cache, last, _ = lm.prompt_pass([prompt])
        first = lm.head_logprobs(last)[0]
        for answer in answers:
            ids = torch.tensor([lm.encode_answer(answer)], device=device)
            step = lm.model(input_ids=ids[:, :-1], use_cache=True, **{cache_keyword(lm.model): cache})
            logp = step.logits.float().log_softmax(-1)[0].gather(1, ids[0, 1:, None]).sum()
            out.append(float(first[ids[0, 0]] + logp))
            if ids.shape[1] > 1:
                cache.crop(-(ids.shape[1] - 1))  # back to the prompt alone
    return out


def part_scoring(run) -> dict:
    """Class scoring four ways on one prompt; the per-class peers timed on a subset and scaled to all."""
    import torch

    from steervis.lm.scoring import _groups, loglik

    size, lm = SIZES[run.tiny], run.model("lm")
    words = len(lm.tokenizer) - 6
    answers = class_names(size["classes"], words)
    # image placeholders cost what image embeddings cost: one position each
    prompt = lm.prompt(" ".join(["w0"] * size["image"]) + " w1 w2 w3 w4 w5 w6 w7 w8 w9 w10")
    clock(lambda: loglik(lm, [prompt], answers[:4]), run.device)  # warm-up: kernels, allocator
    tree_s, (sums, _) = clock(lambda: loglik(lm, [prompt], answers), run.device)
    bare_s, _ = clock(lambda: lm.prompt_pass([prompt], cache=False), run.device)
    tree_tokens = sum(t.size for _, t in _groups([lm.encode_answer(a) for a in answers], 4096))
    dense = torch.randint(6, len(lm.tokenizer), (1, len(prompt.ids) + tree_tokens), device=run.device)
    with torch.inference_mode():
        dense_s, _ = clock(lambda: lm.decoder()(input_ids=dense), run.device)
    subset, scale = answers[: size["subset"]], len(answers) / size["subset"]
    full_s, full = clock(lambda: full_forward_logprobs(lm, prompt, subset, run.device), run.device)
    cached_s, cached = clock(lambda: prefix_cache_logprobs(lm, prompt, subset, run.device), run.device)
    ours = sums[0, : len(subset)]
    return {"prompt_tokens": len(prompt.ids), "tree_tokens": tree_tokens, "classes": len(answers),
            "steervis_s": tree_s, "dense_forward_s": dense_s, "ratio_to_dense": tree_s / dense_s,
            "bare_prompt_pass_s": bare_s, "full_forward_per_class_s": full_s * scale,
            "prefix_cache_per_class_s": cached_s * scale, "peer_classes_timed": len(subset),
            "full_forward_tokens": sum(len(prompt.ids) + len(lm.encode_answer(a)) for a in answers),
            "max_abs_logprob_diff_vs_full": max(abs(a - b) for a, b in zip(ours, full, strict=True)),
            "max_abs_logprob_diff_prefix_cache": max(abs(a - b) for a, b in zip(cached, full, strict=True)),
            "goal": "ratio_to_dense <= 1.3, diff <= 2e-2 in bfloat16"}


def part_generate(run) -> dict:
    """New tokens per second, steervis' generate against transformers' on the same model and prompts."""
    import torch

    from steervis.lm.batch import left_pad
    from steervis.lm.generate import generate

    size, lm = SIZES[run.tiny], run.model("lm")
    out = {}
    for batch in size["batches"]:
        prompts = [lm.prompt(" ".join(f"w{(i * 7 + j) % 90}" for j in range(32))) for i in range(batch)]
        ids, mask = left_pad([p.ids for p in prompts], lm.pad_id, device=run.device)
        options = {"max_new_tokens": size["new"], "min_new_tokens": size["new"], "do_sample": False,
                   "pad_token_id": lm.pad_id}
        with torch.inference_mode():
            lm.model.generate(input_ids=ids, attention_mask=mask, **options)  # warm-up
            theirs, _ = clock(lambda ids=ids, mask=mask, options=options: lm.model.generate(
                input_ids=ids, attention_mask=mask, **options), run.device)
        ours, _ = clock(lambda prompts=prompts, batch=batch: generate(
            lm, prompts, max_new_tokens=size["new"], batch_size=batch), run.device)
        tokens = batch * size["new"]
        out[f"batch_{batch}"] = {"steervis_tokens_per_s": tokens / ours,
                                 "transformers_tokens_per_s": tokens / theirs, "ratio": theirs / ours}
    return {**out, "goal": "ratio >= 0.9 (steervis may stop early at EOS: a ratio above 1 can be that)"}


def matmul_rate(run) -> float:
    """FLOP/s of an n^3 matmul in the run's precision (n = 8192 on a card)."""
    import torch

    n = SIZES[run.tiny]["matmul"]
    a, b = (torch.randn(n, n, device=run.device, dtype=run.dtype) for _ in range(2))
    a @ b
    seconds, _ = clock(lambda: [a @ b for _ in range(10)], run.device)
    return 10 * 2 * n**3 / seconds


def part_lora(run) -> dict:
    """Optimiser steps of a LoRA on a 7B-shaped decider, its model-FLOPs utilisation, the matmul rate."""
    from steervis.lm.adapters import add_lora
    from steervis.lm.batch import Example
    from steervis.lm.config import LoraSettings, TrainSettings
    from steervis.lm.train import train

    size = SIZES[run.tiny]
    run.models.pop("lm", None)  # the scoring model's memory goes back first
    lm = build_lm(run, "decider")
    lm.model = add_lora(lm.model, LoraSettings(dropout=0.0), seed=0)
    seq, batch = size["seq"], size["lora_batch"]
    example = Example.from_prompt_answer([7 + i % 90 for i in range(seq - 4)], lm.encode_answer(" w1 w2")[:4])
    settings = TrainSettings(epochs=1, batch_size=batch, max_steps=1, gradient_checkpointing=True)
    train(lm, lambda epoch: [example] * batch, settings, progress=False)  # warm-up step
    steps = 3
    settings = TrainSettings(epochs=1, batch_size=batch, max_steps=steps, gradient_checkpointing=True)
    seconds, _ = clock(lambda: train(lm, lambda epoch: [example] * (batch * steps), settings, progress=False),
                       run.device)
    trainable = sum(p.numel() for p in lm.model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in lm.model.parameters()) - trainable
    hidden, layers = SHAPES[run.tiny][:2]
    per_token = 4 * frozen + 6 * trainable + 12 * layers * seq * hidden  # attention: fwd 4·s·d, bwd 8·s·d
    flops = per_token * seq * batch * steps / seconds
    peak = next((v for k, v in PEAK_BF16.items() if k in run.card), None)
    return {"sequence": seq, "batch": batch, "gradient_checkpointing": True, "steps": steps,
            "step_s": seconds / steps, "model_flops_per_s": flops, "card_peak_bf16": peak,
            "mfu": flops / peak if peak else None, "matmul_flops_per_s": matmul_rate(run),
            "goal": "mfu >= 0.30"}


def clip_matcher(run):
    """A random CLIP of ViT-L/14's shape (tiny: 2 layers) as a steervis matcher, registered for describe."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    from steervis.matchers import MATCHERS
    from steervis.matchers.clip import CLIPMatcher

    pixels, tiny = SIZES[run.tiny]["pixels"], run.tiny
    tok = word_tokenizer(run.tmp / "clip-tok", 200)
    vision = {"hidden_size": 64 if tiny else 1024, "intermediate_size": 128 if tiny else 4096,
              "num_hidden_layers": 2 if tiny else 24, "num_attention_heads": 4 if tiny else 16,
              "image_size": pixels, "patch_size": 8 if tiny else 14}
    text = {"vocab_size": len(tok), "hidden_size": 64 if tiny else 768,
            "num_hidden_layers": 2 if tiny else 12,
            "num_attention_heads": 4 if tiny else 12, "intermediate_size": 128 if tiny else 3072,
            "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3}
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=64 if tiny else 768)
    torch.manual_seed(0)
    with torch.device(run.device):
        model = CLIPModel._from_config(config, dtype=run.dtype).eval()
    processor = CLIPProcessor(image_processor=CLIPImageProcessorPil(
        size={"shortest_edge": pixels}, crop_size={"height": pixels, "width": pixels}), tokenizer=tok)

    class CheckCLIP(CLIPMatcher):
        def __init__(self, device: str = "auto", dtype: str = "auto"):
            self.model, self.processor, self.name = model, processor, "gpu-check-clip"
            self.disk_cache, self._memo, self.provenance = False, {}, {"matcher": self.name}

    MATCHERS.register("gpu-check-clip", CheckCLIP, help="gpu-check's random CLIP")
    return CheckCLIP()


def part_describe(run) -> dict:
    """describe over PNGs on disk against its slower bare stage (the tower on card tensors; decode +
    preprocess with the same workers)."""
    import numpy as np
    import pandas as pd
    import torch
    from PIL import Image

    from steervis.vllavo.describe import DescribeConfig, describe

    size, matcher = SIZES[run.tiny], clip_matcher(run)
    rng, folder = np.random.default_rng(0), run.tmp / "pngs"
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(size["images"]):
        paths.append(folder / f"{i}.png")
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(paths[-1])
    frame = pd.DataFrame({"path": [str(p) for p in paths],
                          "sha256": [f"{i:064x}" for i in range(len(paths))]})
    (run.tmp / "tags.txt").write_text("\n".join(f"w{i}" for i in range(100)) + "\n")
    workers = 4 if not run.tiny else 1
    config = DescribeConfig(matcher="gpu-check-clip", tag_vocab=str(run.tmp / "tags.txt"), attribute_vocab="",
                            batch_size=64, num_workers=workers, device=run.device_name, dtype=run.dtype_name)
    total, _ = clock(lambda: describe(frame, config, progress=False), run.device)
    decode_s, _ = clock(lambda: decode_all(matcher, [str(p) for p in paths], workers), run.device)
    pixels = torch.randn(len(paths), 3, size["pixels"], size["pixels"], device=run.device, dtype=run.dtype)
    tower_s, _ = clock(lambda: [matcher.encode_pixels(pixels[i : i + 64]) for i in range(0, len(pixels), 64)],
                       run.device)
    rate = len(paths) / total
    slower = min(len(paths) / decode_s, len(paths) / tower_s)
    return {"images": len(paths), "describe_images_per_s": rate, "decode_preprocess_images_per_s":
            len(paths) / decode_s, "tower_images_per_s": len(paths) / tower_s, "ratio_to_slower_stage":
            rate / slower, "workers": workers, "goal": "ratio_to_slower_stage >= 0.8"}


def decode_all(matcher, paths: list[str], workers: int) -> None:
    """Decode and preprocess every image in batches of 64 with ``workers`` threads, nothing else."""
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    def batch(start: int) -> None:
        matcher.preprocess([Image.open(p).convert("RGB") for p in paths[start : start + 64]])

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(batch, range(0, len(paths), 64)))


PARTS = {"tests": part_tests, "scoring": part_scoring, "generate": part_generate, "lora": part_lora,
         "describe": part_describe}
