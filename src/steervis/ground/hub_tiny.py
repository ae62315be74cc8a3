"""Tiny random-init OWL-ViT, OWLv2 and Grounding DINO: transformers' real detector classes at toy sizes (16
wide, one or two layers, 32 px images), with MiniLM's WordPiece tokenizer; for tests of the hub path.

>>> det = tiny_owlvit()  # doctest: +SKIP
>>> det.ground([image], "a dog. a cat.")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import torch

from steervis.ground.hub import HubDetector

SIZE = 32  # pixels a tiny detector sees


def _seeded(build: Any) -> Any:
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the same random weights in every run, the caller's RNG untouched
        return build()


def _owl_configs(text_cls: Any, vision_cls: Any, vocab: int) -> tuple[Any, Any]:
    text = text_cls(vocab_size=vocab, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                    num_attention_heads=2, max_position_embeddings=16, pad_token_id=0, bos_token_id=101,
                    eos_token_id=102)
    vision = vision_cls(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                        image_size=SIZE, patch_size=8)
    return text, vision


def tiny_owlvit(device: str = "auto", dtype: str = "auto", settings: Any = None) -> HubDetector:
    from transformers import (
        OwlViTConfig,
        OwlViTForObjectDetection,
        OwlViTImageProcessorPil,
        OwlViTTextConfig,
        OwlViTVisionConfig,
    )

    from steervis.device import place
    from steervis.zoo.tiny import bert_tokenizer

    tok = bert_tokenizer()
    text, vision = _owl_configs(OwlViTTextConfig, OwlViTVisionConfig, tok.vocab_size)
    config = OwlViTConfig(text_config=text.to_dict(), vision_config=vision.to_dict(), projection_dim=16)
    model = _seeded(lambda: OwlViTForObjectDetection(config))
    processor = OwlViTImageProcessorPil(size={"height": SIZE, "width": SIZE},
                                        crop_size={"height": SIZE, "width": SIZE})
    return HubDetector(place(model, device, dtype), tok, processor, settings)


def tiny_owlv2(device: str = "auto", dtype: str = "auto", settings: Any = None) -> HubDetector:
    from transformers import (
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessorPil,
        Owlv2TextConfig,
        Owlv2VisionConfig,
    )

    from steervis.device import place
    from steervis.zoo.tiny import bert_tokenizer

    tok = bert_tokenizer()
    text, vision = _owl_configs(Owlv2TextConfig, Owlv2VisionConfig, tok.vocab_size)
    config = Owlv2Config(text_config=text.to_dict(), vision_config=vision.to_dict(), projection_dim=16)
    model = _seeded(lambda: Owlv2ForObjectDetection(config))
    processor = Owlv2ImageProcessorPil(size={"height": SIZE, "width": SIZE})
    return HubDetector(place(model, device, dtype), tok, processor, settings)


def tiny_grounding_dino(device: str = "auto", dtype: str = "auto", settings: Any = None) -> HubDetector:
    from transformers import (
        BertConfig,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        SwinConfig,
    )

    from steervis.device import place
    from steervis.zoo.tiny import bert_tokenizer

    tok = bert_tokenizer()
    backbone = SwinConfig(image_size=SIZE, patch_size=4, embed_dim=8, depths=[1, 1], num_heads=[1, 1],
                          window_size=2, out_features=["stage1", "stage2"])
    text = BertConfig(vocab_size=tok.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=32, max_position_embeddings=256)
    config = GroundingDinoConfig(backbone_config=backbone.to_dict(), text_config=text.to_dict(), d_model=32,
                                 encoder_layers=1, decoder_layers=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                                 encoder_attention_heads=2, decoder_attention_heads=2, num_queries=10,
                                 num_feature_levels=2, encoder_n_points=2, decoder_n_points=2,
                                 max_text_len=256, use_timm_backbone=False)
    # d_model 32: its input projections' GroupNorms have 32 groups
    model = _seeded(lambda: GroundingDinoForObjectDetection(config))
    processor = GroundingDinoImageProcessorPil(size={"shortest_edge": SIZE, "longest_edge": SIZE})
    return HubDetector(place(model, device, dtype), tok, processor, settings)
