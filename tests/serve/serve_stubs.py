"""Helpers of the web page's tests: PNG bytes, stub models, and the page's settings on tiny random models
(steervis' LLaVA on tiny-llama, zero-shot tiny CLIP, the tiny describer)."""

from __future__ import annotations

import io
import threading
import time

from PIL import Image

from steervis.config import load_config
from steervis.serve.config import ServeConfig
from steervis.vllavo.describe.config import DescribeConfig

SCRIPT = "<script>window.pwned = 1</script>"


def png(size=(32, 24), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


class StubStream:
    """What ChatModel.answer returns, from fixed pieces: ``delay`` seconds before each."""

    def __init__(self, pieces, delay=0.0):
        self.pieces, self.delay, self.tokens = list(pieces), delay, 0
        self.stopped = threading.Event()

    def stop(self):
        self.stopped.set()

    def __iter__(self):
        for piece in self.pieces:
            if self.stopped.is_set():
                return
            time.sleep(self.delay)
            self.tokens += 1
            yield piece


class StubChat:
    """A chat model that says ``pieces`` (default: it echoes the message and counts the earlier turns)."""

    def __init__(self, pieces=None, delay=0.0):
        self.pieces, self.delay = pieces, delay
        self.streams = []  # every answer it began, for tests to look at

    def answer(self, message, history, image, max_new_tokens, temperature=0.0, seed=0, min_new_tokens=0):
        pieces = self.pieces or ["you said ", message, f" after {len(history)} turns"]
        self.streams.append(StubStream(pieces[:max_new_tokens], self.delay))
        return self.streams[-1], False


class StubClassifier:
    def classify_many(self, paths, classes):
        from steervis.serve.engines import ranked

        classes = classes or ["cat", "dog"]
        return [ranked("stub", classes, [1 / len(classes)] * len(classes), f"Tags:\n- {SCRIPT}")] * len(paths)


def stub_loaders(chat=None, **values):
    """Stub models by name; ``chat`` is a StubChat to use (else one built from ``values``)."""
    return {"chat": (lambda: chat or StubChat(**values), "stub"), "classify": (StubClassifier, "stub"),
            "describe": (lambda: None, "stub")}



def tiny_config(**values) -> ServeConfig:
    return ServeConfig(vlm="tiny-vlm", options={"matcher": "tiny-clip"}, classes=["red", "green", "blue"],
                       describe=load_config(DescribeConfig, preset="describe-tiny"), **values)
