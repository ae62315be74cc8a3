"""``steervis chat --image x.png``: a multi-turn conversation about one image, answers streamed token by token.

Each line read from standard input is one question; an empty line or ``/quit`` ends the conversation,
``/reset`` forgets the earlier turns. Works interactively and with a scripted stdin (one question per line).
``--timing`` prints the first-token latency of every answer to standard error.
"""

from __future__ import annotations

import argparse
import sys
import time

from steervis.commands._options import HelpFormatter

EXAMPLE = """examples:
  steervis chat --image photo.png
  printf 'What is in the photo?\\nWhat colour is it?\\n' | steervis chat --image photo.png --timing
"""


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
    from steervis.vlm.model import open_vlm

    image = open_image(args.image) if args.image else None  # a non-image fails here, in one sentence
    vlm = open_vlm(args.model)
    visual = vlm.visual([image])[0] if image is not None else None  # the tower runs once per conversation
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
        answer = vlm.chat(question, visual, history=history, max_new_tokens=args.max_new_tokens,
                          streamer=_streamer(vlm.lm.tokenizer, clock))
        if args.timing and len(clock) == 2:
            print(f"[first token after {clock[1] - clock[0]:.2f} s]", file=sys.stderr, flush=True)
        history.append((question, answer))


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("chat", help="talk about an image with steervis' LLaVA (streams tokens)",
                            description=__doc__, epilog=EXAMPLE, formatter_class=HelpFormatter)
    parser.add_argument("--image", metavar="FILE", help="the image to talk about (none: text-only chat)")
    parser.add_argument("--model", help="saved folder, stage1, stage2, tiny-llava or a hub Llava (default: latest)")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="longest answer")
    parser.add_argument("--timing", action="store_true", help="print first-token latency to stderr")
    parser.set_defaults(func=run)
