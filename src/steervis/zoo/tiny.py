"""Tiny random-init models of the real transformers classes, for tests: the code real checkpoints run.

Tokenizers come from embedded packages (BERT WordPiece from minilm-l6, SmolLM2's BPE) so nothing is fetched.

>>> from steervis.zoo import load
>>> clip = load("tiny-clip", kind="clip")  # doctest: +SKIP
>>> clip.model.config.projection_dim  # doctest: +SKIP
16
"""

from __future__ import annotations

import functools

from steervis.zoo.bundles import CausalLM, VisionTextModel
from steervis.zoo.core import ModelEntry, register_model
from steervis.zoo.embedded import minilm_dir, smollm2_tokenizer

IMAGE_SIZE = 32  # tiny models see 32×32 images: fast, and still exercise resize/crop/normalise
BERT_SPECIAL = {"pad": 0, "cls": 101, "sep": 102}


def _seeded():
    import torch

    torch.manual_seed(0)  # the same random weights in every test run


@functools.cache
def bert_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_dir(), local_files_only=True)


def _image_processor():
    from transformers import CLIPImageProcessorPil  # the Pil backend: the default one needs torchvision

    return CLIPImageProcessorPil(size={"shortest_edge": IMAGE_SIZE},
                                 crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})


def _vision_config(cls):
    return cls(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
               image_size=IMAGE_SIZE, patch_size=8, projection_dim=16)


def tiny_clip() -> VisionTextModel:
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTextConfig, CLIPVisionConfig

    tok = bert_tokenizer()
    text = CLIPTextConfig(vocab_size=tok.vocab_size, hidden_size=16, intermediate_size=32,
                          num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=64,
                          projection_dim=16,
                          pad_token_id=BERT_SPECIAL["pad"], bos_token_id=BERT_SPECIAL["cls"],
                          eos_token_id=BERT_SPECIAL["sep"])  # pooled at [SEP], as CLIP pools at its EOS
    config = CLIPConfig(text_config=text.to_dict(), vision_config=_vision_config(CLIPVisionConfig).to_dict(),
                        projection_dim=16)
    _seeded()
    processor = CLIPProcessor(image_processor=_image_processor(), tokenizer=tok)
    return VisionTextModel(model=CLIPModel(config).eval(), processor=processor, name="tiny-clip")


def tiny_blip() -> VisionTextModel:
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessorPil,
        BlipProcessor,
        BlipTextConfig,
        BlipVisionConfig,
    )

    tok = bert_tokenizer()
    text = BlipTextConfig(vocab_size=tok.vocab_size, hidden_size=16, intermediate_size=32,
                          num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=64,
                          encoder_hidden_size=16,
                          pad_token_id=BERT_SPECIAL["pad"], bos_token_id=BERT_SPECIAL["cls"],
                          sep_token_id=BERT_SPECIAL["sep"], eos_token_id=BERT_SPECIAL["sep"])
    vision = BlipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                              num_attention_heads=2, image_size=IMAGE_SIZE, patch_size=8)
    config = BlipConfig(text_config=text.to_dict(), vision_config=vision.to_dict(), projection_dim=16)
    _seeded()
    image_processor = BlipImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tok)
    return VisionTextModel(model=BlipForConditionalGeneration(config).eval(), processor=processor,
                           name="tiny-blip")


def _llama_config(tok):
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
                       bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                       pad_token_id=tok.pad_token_id, tie_word_embeddings=True)


def tiny_llama() -> CausalLM:
    from transformers import LlamaForCausalLM

    tok = smollm2_tokenizer()
    _seeded()
    return CausalLM(model=LlamaForCausalLM(_llama_config(tok)).eval(), tokenizer=tok, name="tiny-llama")


def tiny_gemma3() -> CausalLM:
    """Gemma 3's code at test size: scaled input embeddings, sliding-window layers beside a global one."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    tok = smollm2_tokenizer()
    # A 4-token window: every test prompt outgrows it, so the window masks and caches are exercised.
    config = Gemma3TextConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=8,
                              max_position_embeddings=1024, sliding_window=4,
                              layer_types=["sliding_attention", "full_attention"],
                              bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                              pad_token_id=tok.pad_token_id)
    _seeded()
    return CausalLM(model=Gemma3ForCausalLM(config).eval(), tokenizer=tok, name="tiny-gemma3")


def tiny_llava() -> VisionTextModel:
    from transformers import CLIPVisionConfig, LlavaConfig, LlavaForConditionalGeneration

    tok = smollm2_tokenizer()
    vision = CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                              num_attention_heads=2, image_size=IMAGE_SIZE, patch_size=8)
    config = LlavaConfig(vision_config=vision.to_dict(), text_config=_llama_config(tok).to_dict(),
                         image_token_id=tok.unk_token_id or 0, projector_hidden_act="gelu")
    _seeded()
    return VisionTextModel(model=LlavaForConditionalGeneration(config).eval(), processor=_image_processor(),
                           name="tiny-llava")


register_model(ModelEntry("tiny-clip", "clip", "random init (tests)", tiny_clip))
register_model(ModelEntry("tiny-blip", "captioner", "random init (tests)", tiny_blip))
register_model(ModelEntry("tiny-llama", "causal-lm", "random init (tests)", tiny_llama))
register_model(ModelEntry("tiny-gemma3", "causal-lm", "random init (tests)", tiny_gemma3))
register_model(ModelEntry("tiny-llava", "vlm", "random init (tests)", tiny_llava))
