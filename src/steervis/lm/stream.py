"""One answer as it is written: text pieces yielded while the model generates, stoppable from another thread.

:class:`TextStream` runs :func:`steervis.lm.generate.generate` on a worker thread with a transformers
``TextIteratorStreamer``; iterating it yields the decoded text as tokens arrive (a web page shows the answer
grow), ``stop()`` ends generation after the current token, and an error raised while generating is raised
again by the iteration, so it is never lost on the worker thread.

>>> from steervis import zoo
>>> from steervis.lm.model import LanguageModel
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> stream = TextStream(lm, lm.prompt("Hello"), max_new_tokens=4)
>>> text = "".join(stream)
>>> stream.tokens
4
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from steervis.lm.batch import Prompt

# Seconds the reader waits for the next piece: far above one token's time, so it only ends a wedged worker.
PIECE_TIMEOUT = 600.0


class TextStream:
    """Iterate to get the answer's text piece by piece; ``tokens`` counts the tokens generated so far.

    Args:
        lm: A :class:`~steervis.lm.model.LanguageModel`.
        prompt: The prompt (token ids and image) to answer.
        max_new_tokens: Generation budget.
        temperature: 0 decodes greedily; above 0 samples at this temperature, seeded by ``seed``.
        seed: Seeds sampling, so the same request gives the same answer.
        min_new_tokens: Tokens written before the end-of-text token may end it (benchmarks).
    """

    def __init__(self, lm: Any, prompt: Prompt, max_new_tokens: int = 128, temperature: float = 0.0,
                 seed: int = 0, min_new_tokens: int = 0):
        self.lm, self.prompt, self.min_new_tokens = lm, prompt, min(min_new_tokens, max_new_tokens)
        self.max_new_tokens, self.temperature, self.seed = max_new_tokens, temperature, seed
        self.tokens = 0
        self.stopped = threading.Event()  # set by stop(): the answer ended before its model ended it
        self._error: BaseException | None = None

    def stop(self) -> None:
        """End generation after the token being computed (safe from any thread)."""
        self.stopped.set()

    def __iter__(self) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        stream = self

        class Counting(TextIteratorStreamer):
            def put(self, value: Any) -> None:
                stream.tokens += int(value.numel())  # the first put is the (empty) prompt
                super().put(value)

        streamer = Counting(self.lm.tokenizer, skip_prompt=False, skip_special_tokens=True,
                            timeout=PIECE_TIMEOUT)
        worker = threading.Thread(target=self._generate, args=(streamer,), daemon=True)
        worker.start()
        finished = False
        try:
            for piece in streamer:
                if piece:
                    yield piece
            finished = True
        finally:
            if not finished:
                self.stop()  # a reader that leaves early (a closed connection) ends the generation too
            worker.join()
        if self._error is not None:
            raise self._error

    def _generate(self, streamer: Any) -> None:
        from steervis.lm.generate import generate

        try:
            generate(self.lm, [self.prompt], max_new_tokens=self.max_new_tokens, batch_size=1,
                     sample=self.temperature > 0, temperature=self.temperature or 1.0, seed=self.seed,
                     streamer=streamer, stop=self.stopped, min_new_tokens=self.min_new_tokens)
        except BaseException as err:  # raised again by the reader, on its own thread
            self._error = err
        finally:
            streamer.end()
