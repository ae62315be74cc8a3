"""``steervis chat --image x.png``: a multi-turn conversation about one image, answers streamed token by
token.

Each line read from standard input is one question; an empty line or ``/quit`` ends the conversation,
``/reset`` forgets the earlier turns. Works interactively and with a scripted stdin (one question per line).
``--timing`` prints the first-token latency of every answer to standard error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

from steervis.commands._options import POSITIVE_INT, HelpFormatter, add_config, config_from

EXAMPLE = """examples:
  steervis chat --image photo.png
  printf 'What is in the photo?\\nWhat colour is it?\\n' | steervis chat --image photo.png --timing
  steervis chat --image photo.png --max-new-tokens 40 --print-config
"""
log = logging.getLogger(__name__)


def _streamer(tokenizer, clock: list[float]):
    from transformers import TextStreamer

    class Timed(TextStreamer):
        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text and len(clock) == 1:
                clock.append(time.perf_counter())
            print(text, flush=True, end="" if not stream_end else None)

    return Timed(tokenizer, skip_prompt=False, skip_special_tokens=True)


def run(args: argparse.Namespace) -> int:
    from steervis.data.images import open_image
    from steervis.llava.vlms import open_vlm

    cfg = config_from(args)
    if cfg is None:
        return 0
    image = open_image(cfg.image) if cfg.image else None  # a non-image fails here, in one sentence
    vlm = open_vlm(cfg.model)
    visual = vlm.visual([image])[0] if image is not None else None  # the tower runs once per conversation
    _warn_past_context(vlm, cfg.max_new_tokens)
    history: list[tuple[str, str]] = []
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("you> ", end="", flush=True)
        line = sys.stdin.readline()
        question = line.strip()
        if not line or not question or question == "/quit":
            return 0
        if question == "/reset":
            history = []
            continue
        if not interactive:
            print(f"you> {question}")
        print("vlm> ", end="", flush=True)
        clock = [time.perf_counter()]
        answer, history = _answer(vlm, question, visual, history, cfg.max_new_tokens,
                                  _streamer(vlm.lm.tokenizer, clock))
        if cfg.timing and len(clock) == 2:
            print(f"[first token after {clock[1] - clock[0]:.2f} s]", file=sys.stderr, flush=True)
        history = [*history, (question, answer)]


def _answer(vlm: Any, question: str, visual: Any, history: list[tuple[str, str]], max_new_tokens: int,
            streamer: Any) -> tuple[str, list[tuple[str, str]]]:
    """The answer and the history it followed: a conversation grown past the model's context forgets its
    earlier turns (one warning line, as after /reset) rather than ending; a question too long on its own is
    refused."""
    from steervis.llava.model import PromptTooLong

    try:
        return vlm.chat(question, visual, history=history, max_new_tokens=max_new_tokens,
                        streamer=streamer), history
    except PromptTooLong:
        if not history:
            raise
    log.warning("The conversation outgrew the model's context: its earlier turns are forgotten, as after "
                "/reset.")
    return vlm.chat(question, visual, max_new_tokens=max_new_tokens, streamer=streamer), []


def _warn_past_context(vlm: Any, max_new_tokens: int) -> None:
    """One line when no answer can be as long as asked: each answer ends where the model's context does."""
    context = vlm.context_tokens()
    if context is not None and max_new_tokens >= context:
        log.warning("--max-new-tokens %d is beyond this model's %d-token context: each answer stops where "
                    "the context ends (%d tokens less the conversation so far).", max_new_tokens, context,
                    context)


def register(sub: argparse._SubParsersAction) -> None:
    from steervis.llava.config import ChatConfig

    parser = sub.add_parser("chat", help="talk about an image with steervis' LLaVA (streams tokens)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    add_config(parser, ChatConfig, ["image", "model", "max_new_tokens", "timing"],
               bounds={"max_new_tokens": POSITIVE_INT})
    parser.set_defaults(func=run)
