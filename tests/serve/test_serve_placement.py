"""The page's device and precision reach every model it loads, unless a model's own options set them."""

from __future__ import annotations

import pytest
import torch

from steervis.errors import SteervisError
from steervis.serve import engines
from steervis.serve.config import ServeConfig


def test_the_pages_precision_fills_what_a_model_leaves_at_auto():
    page = ServeConfig(device="cpu", dtype="bfloat16")
    assert engines.placed({"matcher": "conse"}, page) == {"matcher": "conse", "device": "cpu",
                                                           "dtype": "bfloat16"}
    assert engines.placed({"dtype": "float32"}, page)["dtype"] == "float32"  # its own setting wins


def test_the_chat_model_loads_in_the_pages_precision(tmp_home):
    chat = engines.ChatModel("tiny-vlm", "cpu", "bfloat16")
    assert {p.dtype for p in chat.vlm.lm.model.parameters()} == {torch.bfloat16}


def test_an_unknown_device_is_one_sentence():
    with pytest.raises(SteervisError):
        ServeConfig(device="tpu")
