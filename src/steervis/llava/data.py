"""Training data for steervis' LLaVA: pool captions (stage 1), classification, captions and easy-vqa (stage
2).

Every item is ``(sha256, path, turns)`` where ``turns`` are ``(user, answer)`` pairs; :func:`to_examples`
turns items into the LM core's :class:`~steervis.lm.batch.Example` with cached visual tokens.

- Stage 1 (:func:`caption_items`): LLaVA's plain format, ``<image>\\n`` → the pool item's caption sentence.
- Stage 2 (:func:`classify_items`): VLMClassifier's ``<image>\\nWhat type of object is in the photo?`` → the
  item's short name; :func:`describe_items`: ``Describe the image briefly.`` → its caption (so chat captions
  name things); :func:`vqa_items`: easy-vqa's questions, one per conversation, each with LLaVA-1.5's
  "Answer the question using a single word or phrase." (or, text only, after the image's truth in words:
  :func:`told_item`).

The pool never holds a minidomains image (its build excludes them and their near-duplicates), so nothing
here trains on an evaluation image; easy-vqa's ``val`` and ``test`` splits are only read by evaluation.

>>> short_name("an emoji of a woman astronaut: medium-dark skin tone. keywords: space")
'woman astronaut'
>>> short_name("a drawing of a fc13. keywords: flowchart") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from steervis.data.pool.text import parse_pair_text
from steervis.errors import SteervisError

MAX_NAME_WORDS = 4  # "woman lifting weights" is a name; longer titles are descriptions
IMAGE_LINE = "<image>\n"  # where a one-image question shows its image: before the question
# How easy-vqa's yes/no questions are asked in training (:func:`vqa_items`): with their image (off), after
# the image's truth in words instead (only: can the LM compare a fact with a question at all?), or once each
# way (mix: the comparison learnt from the stated fact sits beside the same question about the seen image,
# so what the words teach has its visual twin to carry over to, and the model still has to look).
TOLD = ("off", "only", "mix")


@dataclass
class Item:
    """One training conversation about one image."""

    sha256: str
    path: str
    turns: list[tuple[str, str]]


def caption_sentence(text: str) -> str:
    """The pool text's first sentence ("a drawing of a potato."), without the keyword list."""
    return parse_pair_text(text).caption


def short_name(text: str) -> str | None:
    """The object name a pool text leads with, or ``None`` when it is not a usable name (digits, too long)."""
    name = parse_pair_text(text).name
    if not name or re.search(r"\d|_", name) or len(name.split()) > MAX_NAME_WORDS:
        return None
    return name


def pool_frame(n: int, seed: int = 0, root: str | Path | None = None):
    """``n`` English pool items (seeded sample) with absolute paths, caption and short name; never a
    held-out concept or its near-duplicate (:mod:`steervis.data.heldout`), so a VLM trained here can be
    tested on concepts it never saw."""
    import pandas as pd

    from steervis.data.heldout import heldout_rows, load_heldout
    from steervis.data.pool import pool_root

    root = Path(root or pool_root())
    manifest = root / "manifest.parquet"
    if not manifest.exists():
        raise SteervisError(f"The knowledge pool is not built at {root}: run `steervis data build pool` "
                            "first.")
    frame = pd.read_parquet(manifest)
    frame = frame[~heldout_rows(frame, load_heldout())]  # before sampling: the sample keeps its size
    frame = frame.loc[frame["lang"] == "en", ["path", "text", "sha256", "lang"]]
    frame = frame.sample(n=min(n, len(frame)), random_state=seed).reset_index(drop=True)
    frame["path"] = [str(root / p) for p in frame["path"]]
    frame["caption"] = [caption_sentence(t) for t in frame["text"]]
    frame["name"] = [short_name(t) for t in frame["text"]]
    return frame


def caption_items(frame) -> list[Item]:
    """Stage 1: ``<image>\\n`` → caption sentence (the ``plain`` template)."""
    return [Item(r.sha256, r.path, [("<image>\n", r.caption)]) for r in frame.itertuples()]


def classify_items(frame, question: str) -> list[Item]:
    """Stage 2: the classification question → the short name (items without a usable name are skipped)."""
    return [Item(r.sha256, r.path, [(f"<image>\n{question}", r.name)]) for r in frame.itertuples()
            if isinstance(r.name, str)]  # pandas stores a missing name as NaN


def describe_items(frame, question: str) -> list[Item]:
    """Stage 2: a caption request → the caption sentence."""
    return [Item(r.sha256, r.path, [(f"<image>\n{question}", r.caption)]) for r in frame.itertuples()]


def vqa_items(n_images: int, suffix: str, seed: int = 0, balanced: int = 0,
              per_image: int | None = None, redraw_yes_no: bool = False, told: str = "off",
              stated: bool = False) -> list[Item]:
    """Stage 2: every question (or ``per_image`` seeded ones) of ``n_images`` seeded easy-vqa ``train``
    images (never ``val`` or ``test``), one question per conversation (:mod:`steervis.llava.easyvqa` says
    why), each ending with the response-format prompt as in LLaVA-1.5; ``balanced``: that many of them
    instead, each question kind equally often; ``redraw_yes_no``: the yes/no questions asked about what is
    present half the time (:func:`steervis.llava.easyvqa.redraw_yes_no`); ``told``: :data:`TOLD`, whether
    yes/no questions are asked after their image's truth in words, without the image (:func:`told_item`);
    ``stated``: a yes/no question is answered after saying what the image shows, "a red circle, so no."
    (:func:`steervis.llava.easyvqa.stated_answer`; one whose image's truth is not stated keeps its form)."""
    from steervis.llava import easyvqa

    if told not in TOLD:
        raise SteervisError(f"told must be one of {', '.join(TOLD)}, not {told!r}.")
    if stated and told != "off":
        raise SteervisError("stated answers say what the image shows: train them with told=off.")
    paths, qa = easyvqa.paths("train"), easyvqa.questions("train")
    rows = easyvqa.rows("train", images=n_images, per_image=per_image, seed=seed)
    if balanced:
        rows = easyvqa.balanced(rows, balanced, seed)
    if redraw_yes_no:
        rows = easyvqa.redraw_yes_no(rows, seed)
    items = []
    for i, q, a in rows:
        yes_no = easyvqa.question_kind(q) == "yes/no"
        said_first = easyvqa.stated_answer(qa[i], a) if stated and yes_no else None
        turn = (IMAGE_LINE + easyvqa.prompt(q, suffix, stated=said_first is not None), said_first or a)
        shown = Item(_file_hash(Path(paths[i])), paths[i], [turn])
        said = told_item(shown, qa[i]) if told != "off" and easyvqa.question_kind(q) == "yes/no" else None
        items += [said] if said else []
        items += [shown] if said is None or told == "mix" else []
    return items


def told_item(item: Item, pairs: list[tuple[str, str]]) -> Item | None:
    """A one-question conversation asked after its image's truth in words instead of its image, a
    text-only conversation (no ``<image>``; it keeps the image's hash and path as where the fact comes from);
    ``None`` when ``pairs`` (the image's questions) do not state both colour and shape: "a red shape." cannot
    answer "is there a circle?".

    The words are :func:`steervis.llava.easyvqa.told`'s, as the ``told`` diagnosis asks them."""
    from steervis.llava import easyvqa

    if easyvqa.image_colour(pairs) is None or easyvqa.image_shape(pairs) is None:
        return None
    (user, answer), = item.turns
    return Item(item.sha256, item.path, [(f"{easyvqa.told(pairs)}\n{user.removeprefix(IMAGE_LINE)}", answer)])


def shows_image(item: Item) -> bool:
    """Whether a conversation shows its image (an ``<image>`` in a user turn); one without is text only."""
    from steervis.llava.conversation import IMAGE

    return any(IMAGE in user for user, _ in item.turns)


def to_examples(items: Sequence[Item], vlm, template_name: str, features,
                progress: bool = False) -> tuple[list, list[Item]]:
    """LM-core examples (answer-only targets) with each item's cached visual tokens as its image, and the
    items they came from: an item whose file is not an image is left out (logged with its reason); a
    text-only conversation (no ``<image>``, :func:`shows_image`) is an example without an image.

    Args:
        items: Conversations.
        vlm: The :class:`~steervis.llava.model.VLM` whose tokenizer and image placeholders are used.
        template_name: ``plain`` (stage 1) or the chat template.
        features: A :class:`~steervis.llava.tower.FeatureCache`.
    """
    from steervis.llava.conversation import encode_turns, template
    from steervis.lm.batch import Example

    tpl = template(template_name)
    shown = [it for it in items if shows_image(it)]
    found = iter(features.features([it.sha256 for it in shown], [it.path for it in shown], progress=progress,
                                   skip_bad=True) if shown else [])
    visuals = [next(found) if shows_image(it) else None for it in items]  # a text-only one has no image
    kept = [(item, vis) for item, vis in zip(items, visuals, strict=True)
            if vis is not None or not shows_image(item)]
    if items and not kept:
        raise SteervisError("No training conversation has a usable image: every file failed to open.")
    out = []
    for item, vis in kept:
        ids, targets = encode_turns(vlm.lm.tokenizer, tpl, item.turns, vlm.image_tokens, vlm.image_id)
        out.append(Example(ids, targets, vis))
    return out, [item for item, _ in kept]


def vqa_caption_items(n_images: int, seed: int = 0) -> list[Item]:
    """Stage 1: easy-vqa ``train`` images with the caption their questions state ("a red circle."), so the
    projector learns the words for colour and shape (never a ``val`` or ``test`` image)."""
    from steervis.data.images import sha256_file
    from steervis.llava import easyvqa

    qa, paths = easyvqa.questions("train"), easyvqa.paths("train")
    chosen = np.random.default_rng(seed).permutation(sorted(qa))[:n_images]
    captions = {int(i): easyvqa.caption(qa[int(i)]) for i in chosen}
    return [Item(sha256_file(paths[i]), paths[i], [("<image>\n", c)]) for i, c in captions.items() if c]


def scene_items(n: int, kind: str, suffix: str = "", seed: int = 0,
                root: str | Path | None = None) -> list[Item]:
    """Scenes of the ``train`` split's main part (its validation tenth is never trained on): ``caption``
    (stage 1: "<image>\\n" → the reference caption, which names colours and counts), or ``questions`` (stage
    2: ``n`` seeded questions, one per conversation, with the response-format prompt)."""
    import pandas as pd

    from steervis.data.scenes import built_root

    root = built_root("train", root)
    scenes = pd.read_parquet(root / "scenes.parquet").set_index("index")
    rng = np.random.default_rng(seed)
    if kind == "caption":
        main = scenes[scenes["part"] == "main"]
        rows = main.iloc[rng.permutation(len(main))[:n]]
        return [Item(_file_hash(root / r.image), str(root / r.image), [("<image>\n", r.caption)])
                for r in rows.itertuples()]
    questions = pd.read_parquet(root / "questions.parquet")
    questions = questions[questions["part"] == "main"]
    rows = questions.iloc[rng.permutation(len(questions))[:n]]
    return [Item(_file_hash(root / scenes.at[r.scene, "image"]), str(root / scenes.at[r.scene, "image"]),
                 [(f"<image>\n{r.question}\n{suffix}".rstrip(), r.answer)]) for r in rows.itertuples()]


@cache
def _file_hash(path: Path) -> str:
    """An image file's sha256, once per process (an image's questions share it)."""
    from steervis.data.images import sha256_file

    return sha256_file(path)
