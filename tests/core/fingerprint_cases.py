"""Each cached computation of steervis on a fixed tiny input (tiny random-init models, float32, CPU).

One function per behaviour-versioned package (``steervis.identity.BEHAVIOUR``); each returns plain JSON whose
hash is the package's behaviour fingerprint. Only outputs enter it, never keys, paths or provenance: a
refactor keeps every fingerprint, a changed output changes one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

TEXTS = ["Tags:\n- fur\n- whiskers", "Tags:\n- wheels\n- road", "Tags:\n- leaves\n- trunk", "Tags:\n- purr"]
LABELS = ["cat", "car", "tree", "cat"]
CLASSES = ["car", "cat", "tree"]


def rounded(value: Any, digits: int = 3) -> Any:
    """Floats to ``digits`` decimals (the last bits of a float32 sum may differ between CPUs)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().float().numpy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float):
        return round(value, digits) + 0.0  # -0.0 and 0.0 hash alike
    if isinstance(value, dict):
        return {str(k): rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value


def toy_frame(root: Path):
    from steervis.data import load_folder, make_toy_dataset

    toy = make_toy_dataset(root / "toy", classes=("circle", "square"), per_class=1, size=40)
    return load_folder(toy).frame.sort_values("path").reset_index(drop=True)


def data(tmp: Path) -> Any:
    from steervis.data.images import open_image

    frame = toy_frame(tmp)
    pixels = [np.asarray(open_image(p).convert("RGB"), dtype=np.float32).mean(axis=(0, 1))
              for p in frame["path"]]
    return {"rows": frame[["domain", "class", "sha256"]].values.tolist(), "pixels": pixels}


def matchers(tmp: Path) -> Any:
    from steervis.data.images import open_image
    from steervis.matchers import build_matcher

    matcher = build_matcher("tiny-clip")
    images = [open_image(p) for p in toy_frame(tmp)["path"]]
    return {"texts": matcher.encode_texts(["a dog", "a red circle"]), "images": matcher.encode_images(images)}


def describe(tmp: Path) -> Any:
    from steervis.vllavo.describe import DescribeConfig
    from steervis.vllavo.describe import describe as run_describe

    vocab = tmp / "tags.txt"
    vocab.write_text("dog\ncat\ncircle\nsquare\ntriangle\nhouse\n")
    cfg = DescribeConfig(matcher="tiny-clip", captioner="tiny-blip", tag_vocab=str(vocab), samples=1,
                         max_caption_tokens=4, batch_size=3, tag_threshold=0.0, store=str(tmp / "store"))
    out = run_describe(toy_frame(tmp), cfg, progress=False)
    return [{k: v for k, v in d.to_dict().items() if k != "provenance"} for d in out]


def lm(tmp: Path) -> Any:
    from steervis import zoo
    from steervis.lm.generate import generate
    from steervis.lm.model import LanguageModel
    from steervis.lm.scoring import loglik

    model = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
    prompts = [model.prompt(t + "\n### Answer:") for t in TEXTS]
    sums, lengths = loglik(model, prompts, [" cat", " ice cream", " tree"], batch_size=2)
    return {"loglik": sums, "lengths": lengths, "generated": generate(model, prompts[:2], max_new_tokens=5)}


def decide(tmp: Path) -> Any:
    from steervis.vllavo.decide.config import DecideConfig, TrainSettings
    from steervis.vllavo.decide.decider import Decider

    cfg = DecideConfig(model="tiny-llama", max_length=128,
                       train=TrainSettings(epochs=2, batch_size=4, lr=1e-2, warmup=0.0))
    decider = Decider(cfg)
    result = decider.fit(TEXTS, LABELS, CLASSES, progress=False)
    return {"losses": result.losses, "probs": decider.predict_proba(TEXTS)}


def llava(tmp: Path) -> Any:
    from PIL import Image

    from steervis.llava import VLM, VLMConfig

    vlm = VLM.create(VLMConfig(lm="tiny-llama", tower="clip:tiny-clip"))
    images = [Image.new("RGB", (32, 32), rgb) for rgb in ((220, 20, 20), (20, 20, 220))]
    return {"score": vlm.score(images, ["red", "blue", "green"]),
            "caption": vlm.caption(images, max_new_tokens=4)}


def react(tmp: Path) -> Any:
    from steervis.react.gated_head import GatedResidualHead

    torch.manual_seed(0)
    head = GatedResidualHead(feature_dim=8, embed_dim=4, hidden=6)
    base, features = torch.randn(5, 4), torch.randn(5, 8)
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    loss = (head(base, features) - torch.ones(5, 4)).pow(2).mean()
    loss.backward()
    opt.step()
    return {"loss": loss.item(), "after": head(base, features)}


def methods(tmp: Path) -> Any:
    from steervis.data import load_folder, make_toy_dataset
    from steervis.methods import build_method
    from steervis.methods.context import MethodContext

    toy = make_toy_dataset(tmp / "toy3", classes=("circle", "square"), per_class=2, size=40)
    frame = load_folder(toy).frame.sort_values("path").reset_index(drop=True)
    train, test = frame[frame["domain"] == "photo"], frame[frame["domain"] != "photo"]
    context = MethodContext(describe={"matcher": "tiny-clip", "captioner": None}, progress=False)
    out = {}
    for name in ("zeroshot", "linear-probe", "description-probe"):
        options = {"matcher": "tiny-clip"} if name == "zeroshot" else {}
        out[name] = build_method(name, context, options).fit(train, ["circle", "square"]).predict_proba(test)
    return out


CASES = {"data": data, "matchers": matchers, "describe": describe, "lm": lm, "decide": decide,
         "llava": llava, "react": react, "methods": methods}
