"""The fixed questions steervis asks a VLM, and the closed form that lists every option.

The open classification question (what VLMClassifier asks), the caption request, and LLaVA-1.5's
response-format prompt ("a single word or phrase") that short-answer questions end with.
"""

from __future__ import annotations

from collections.abc import Sequence

CLASSIFY_QUESTION = "What type of object is in the photo?"  # VLMClassifier's open question
CAPTION_QUESTION = "Describe the image briefly."
SHORT_ANSWER = "Answer the question using a single word or phrase."  # LLaVA-1.5's response-format prompt


def closed_question(classes: Sequence[str], question: str = CLASSIFY_QUESTION,
                    suffix: str = SHORT_ANSWER) -> str:
    """The question with every option listed, then the response-format prompt (VLMClassifier's closed form).

    >>> print(closed_question(["cat", "dog"]))
    What type of object is in the photo? Choose one of: cat, dog.
    Answer the question using a single word or phrase.
    """
    return f"{question} Choose one of: {', '.join(classes)}.\n{suffix}".rstrip()
