"""scripts/gpu-check's grounding part: the GLIP-style grounder of `steervis ground` at the preset's shapes
(ground-glip: an efficientnet-lite0 trunk read at stride 32 on 320 px scenes, a MiniLM-L6-shaped BERT text
encoder, 384 wide, six layers, the 128-wide head), random-initialised on the card (geffnet's real lite0
class, transformers' BertModel: nothing downloaded), trained a few steps on random scenes and grounding them.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from gpu_check_parts import clock, word_tokenizer

# Scenes, batch, steps, phrases per prompt (80: COCO's label list, five chunks of 16), image side, head width,
# text encoder (width, layers, heads, feed-forward) and its embedding rows (MiniLM's 30,522; the tokenizer
# knows 200 made-up words, a converted 30k-word one takes seconds): the preset's, and a tiny CPU variant.
SIZES = {False: {"scenes": 128, "batch": 16, "steps": 10, "phrases": 80, "size": 320, "hidden": 128,
                 "text": (384, 6, 12, 1536), "vocab": 30522},
         True: {"scenes": 8, "batch": 4, "steps": 2, "phrases": 20, "size": 64, "hidden": 16,
                "text": (32, 2, 4, 64), "vocab": 206}}
BUILT: dict = {}  # the random frozen parts of the current run, handed out by the registered names
SCENES = Path("random-scenes")  # never read: the grids are computed from the images in memory


def lite0_body(device, dtype):
    """efficientnet-lite0 (geffnet's class, random) up to stride 32: 320 channels; a stride-32 stand-in of
    the same width where geffnet is not installed."""
    import torch

    try:
        with warnings.catch_warnings():  # geffnet's activations use the deprecated torch.jit.script
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            import geffnet

        net, name = geffnet.create_model("efficientnet_lite0", pretrained=False), "efficientnet-lite0"
        body = torch.nn.Sequential(net.conv_stem, net.bn1, net.act1, *net.blocks)
    except ImportError:
        name, layers, width = "stand-in (geffnet not installed)", [], 3
        for out in (32, 64, 128, 256, 320):
            layers += [torch.nn.Conv2d(width, out, 3, stride=2, padding=1), torch.nn.ReLU()]
            width = out
        body = torch.nn.Sequential(*layers)
    return body.to(device=device, dtype=dtype).eval().requires_grad_(False), name


class CheckTrunk:
    """The registered trunk name: builds nothing, hands out the run's random lite0."""

    def __new__(cls, spec, device="auto", dtype="auto"):
        return BUILT["trunk"]

    @staticmethod
    def channels_at(stride: int) -> int:
        return 320


def names(run) -> tuple[str, str]:
    """The trunk's and the text encoder's registered names (one pair per shape: a name keeps its width)."""
    tail = "-tiny" if run.tiny else ""
    return f"gpu-check-lite0{tail}", f"gpu-check-minilm{tail}"


def build(run) -> tuple:
    """The random trunk and text encoder on the card, registered for the head to read their widths."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from steervis.ground.parts import TEXT_ENCODERS, TRUNKS, TextEncoder

    size = SIZES[run.tiny]
    width, layers, heads, inner = size["text"]
    word_tokenizer(run.tmp / "ground-tok", 200)
    tok = BertTokenizerFast.from_pretrained(run.tmp / "ground-tok")  # offsets: the positive map needs them
    config = BertConfig(vocab_size=size["vocab"], hidden_size=width, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=inner, max_position_embeddings=512)
    torch.manual_seed(0)
    with torch.device(run.device):
        bert = BertModel(config).to(dtype=run.dtype).eval()
    body, trunk_name = lite0_body(run.device, run.dtype)
    BUILT.update(trunk=body, text=TextEncoder(bert, tok, width))
    trunk_id, text_id = names(run)
    if trunk_id not in TRUNKS:
        TRUNKS.register(trunk_id, CheckTrunk, help="gpu-check's random efficientnet-lite0")
        TEXT_ENCODERS.register(text_id, lambda device="auto", dtype="auto": BUILT["text"],
                               help="gpu-check's random MiniLM-L6-shaped BERT", dim=width)
    return body, BUILT["text"], trunk_name


def random_scenes(n: int, side: int, phrases: list[str]):
    """``n`` noisy scenes with one to three coloured rectangles each, named from ``phrases``, as a CocoSet."""
    import numpy as np
    from PIL import Image

    from steervis.ground.coco import CocoImage, CocoSet

    rng, images, items = np.random.default_rng(0), [], []
    for k in range(n):
        pixels = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
        boxes = []
        for _ in range(rng.integers(1, 4)):
            x, y = rng.integers(0, side // 2, 2)
            w, h = rng.integers(side // 8, side // 2, 2)
            pixels[y : y + h, x : x + w] = rng.integers(0, 255, 3)
            boxes.append([x, y, x + w, y + h])
        picked = [phrases[i] for i in rng.integers(0, len(phrases), len(boxes))]
        items.append(CocoImage(k + 1, SCENES / f"{k}.png", side, side, np.asarray(boxes, np.float32), picked))
        images.append(Image.fromarray(pixels))
    return CocoSet(SCENES, items, {i + 1: name for i, name in enumerate(phrases)}), images


def part_ground(run) -> dict:
    """Trunk grids of random scenes, training steps of the head (text encoded each step, as without the
    text cache), then grounding every scene with all the names; step time, images/s, peak card memory."""
    import torch

    from steervis.ground.glip import GlipGrounder, InferSettings
    from steervis.ground.model import GlipConfig
    from steervis.ground.parts import trunk_features
    from steervis.ground.train import GroundSettings, GroundTrain, train_head

    size, cuda = SIZES[run.tiny], run.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(run.device)
    trunk, text, trunk_name = build(run)
    phrases = [f"w{i}" for i in range(size["phrases"])]
    coco, images = random_scenes(size["scenes"], size["size"], phrases)
    trunk_features(trunk, images[:4], size["size"])  # warm-up: kernels, allocator
    features_s, (grids, _) = clock(lambda: trunk_features(trunk, images, size["size"], batch_size=64),
                                   run.device)
    trunk_id, text_id = names(run)
    model = GlipConfig(trunk=trunk_id, stride=32, size=size["size"], text=text_id, hidden=size["hidden"])
    keys = [f"{k:064x}" for k in range(len(images))]

    def settings(steps: int) -> GroundSettings:  # the preset's loop, no checkpoint inside the timing
        loop = GroundTrain(batch_size=size["batch"], max_steps=steps, checkpoint_every=10**6)
        return GroundSettings(model=model, train=loop, device=run.device_name)

    train_head(settings(1), coco, grids, text, run.tmp / "ground-warm", keys)  # warm-up step
    head, result = train_head(settings(size["steps"]), coco, grids, text, run.tmp / "ground", keys)
    step_s = result.seconds / size["steps"]
    grounder = GlipGrounder(head, trunk, text, InferSettings())
    prompt = ". ".join(phrases) + "."
    start = time.perf_counter()
    found = [d for i in range(0, len(images), 16) for d in grounder.ground(images[i : i + 16], prompt)]
    ground_s = time.perf_counter() - start  # ground() returns host arrays: the card has finished
    peak = torch.cuda.max_memory_allocated(run.device) / 2**20 if cuda else None
    return {"trunk": trunk_name, "text_width": size["text"][0], "image_side": size["size"],
            "scenes": len(images), "batch": size["batch"], "steps": size["steps"], "step_s": step_s,
            "train_images_per_s": size["batch"] / step_s, "loss_first": result.losses[0],
            "loss_last": result.losses[-1], "trunk_images_per_s": len(images) / features_s,
            "phrases": len(phrases),
            "ground_images_per_s": len(images) / ground_s, "boxes": sum(len(d) for d in found),
            "peak_gpu_mb": peak, "goal": "report: step time, images/s and peak memory at the preset's shapes"}
