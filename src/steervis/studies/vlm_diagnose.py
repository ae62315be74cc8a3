"""Where does steervis' LLaVA lose what its vision tower sees? Checks on easy-vqa's validation split.

``steervis study vlm-diagnose --set check=NAME``, each check easy-vqa-only, scored on the fixed 1,000-question
diagnosis subset of ``val`` (never trained on):

- ``train``: a stage-2 run on ``images`` training images (the levers: ``turns`` single or packed, ``tune``
  lora or full, ``epochs``, ``lr``, ``batch_size``, ``grid``, ``layer``, ``init``, ``balanced``: that
  many questions drawn from the ``images`` with each kind equally often; ``redraw_yes_no``: yes/no questions
  asked about what is present half the time; ``train_told``: ``only`` asks the yes/no questions after the
  image's truth in words instead of the image, ``mix`` each both ways, ``off`` never; ``stated_yes_no``:
  a yes/no question is answered after saying what the image shows, "a red circle, so no.", in training and
  when scored, and the score reads the reply's last yes or no), scored with its image,
  with the image withheld and with another question's image (does the answer depend on the image at all?),
  and, with ``train_told``, as the ``told`` check scores; ``save``: a folder to keep the trained model in.
- ``overfit``: ``examples`` single-question conversations trained ``epochs`` times, scored on themselves
  (can the model and the loop fit anything?).
- ``caption``: the model (``init``) captions ``images`` ``val`` images whose colour and shape their questions
  state: how often the caption names the right colour and the right shape (a stage-1 model's check: did the
  projector learn the words?).
- ``told``: the yes/no questions with the image's truth told in words instead of shown ("The image shows a
  red circle.", from what its questions state): can the LM (``init``) compare the question with a fact at
  all, with vision out of the way? (``questions``: of the subset's first that many.)
- ``probe``: the shape's colour read by a logistic regression from the tower's tokens, the projector's
  output and the LM's hidden states at the image positions, trained on ``images`` training images, tested on
  every ``val`` image whose colour its questions state (``probe_val``: a seeded few) — where is colour lost
  on the way to the answer?

``answer``: how a scored answer is read: ``generate`` (greedy, exact match), or ``likelihood``: the question's
candidate answer (yes/no, easy-vqa's colours, its shapes) the model makes likeliest as its reply, whole and as
its opening (:mod:`steervis.llava.likelihood`): a model that never answers in one word is still scored.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from steervis.errors import SteervisError
from steervis.identity import source_commit
from steervis.studies.vlm_probes import colour_probes, tower_tokens

CHECKS = ("train", "overfit", "probe", "caption", "told")


def _items(images: int, turns: str, seed: int, suffix: str, balanced: int = 0,
           redraw_yes_no: bool = False, told: str = "off", stated: bool = False) -> list[Any]:
    """easy-vqa training conversations: one question each (``single``), or every question of an image in one
    conversation (``packed``, for the comparison only: later questions can copy earlier ones); ``balanced``:
    that many single questions, each kind equally often."""
    from steervis.llava.data import Item, vqa_items

    items = vqa_items(images, suffix, seed=seed, balanced=balanced, redraw_yes_no=redraw_yes_no, told=told,
                      stated=stated)
    if turns == "single":
        return items
    packed: dict[str, Item] = {}
    for it in items:
        (user, answer), = it.turns
        conv = packed.setdefault(it.path, Item(it.sha256, it.path, []))
        conv.turns.append((user if not conv.turns else user.removeprefix("<image>\n"), answer))
    return list(packed.values())


ANSWERS = ("generate", "likelihood")


def _score(vlm: Any, rows: list[tuple[int, str, str]], visuals: list[Any], suffix: str,
           before: list[str] | None = None, answer: str = "generate", stated: bool = False) -> dict[str, Any]:
    """Exact match of ``rows`` shown ``visuals`` (each question after its text in ``before``, if given),
    overall and per question kind: the greedy answer (``generate``), or the likeliest of the question's
    candidates as the whole reply, and as its opening (``likelihood``, :mod:`steervis.llava.likelihood`);
    ``stated``: yes/no questions ask for what the image shows first, and their reply's last yes or no is
    scored."""
    from steervis.llava import easyvqa

    prompts = [easyvqa.prompt(q, suffix, stated) for _, q, _ in rows]
    prompts = [f"{b}\n{p}" for b, p in zip(before, prompts, strict=True)] if before else prompts
    if answer == "generate":
        # easy-vqa's answers are one word: 4 tokens tell; "a yellow rectangle, so no." is 9
        replies = vlm.ask(visuals, prompts, max_new_tokens=12 if stated else 4, batch_size=64)
        if not stated:
            return _metrics(rows, replies)
        out = _metrics(rows, [easyvqa.scored_answer(q, r, stated) for (_, q, _), r in zip(rows, replies,
                                                                                          strict=True)])
        return {**out, "statement": _statements(rows, replies), "examples": [
            f"{q} → {r}" for (_, q, _), r in zip(rows[:6], replies, strict=False)]}
    from steervis.llava.likelihood import choices

    words = {"yes/no": ("yes", "no"), "color": easyvqa.COLOURS, "shape": easyvqa.SHAPES}
    candidates = [words[easyvqa.question_kind(q)] for _, q, _ in rows]
    picks = choices(vlm, visuals, prompts, candidates, batch_size=16)  # on CPU no faster in larger batches
    out, opening = _metrics(rows, picks["whole"]), _metrics(rows, picks["opening"])
    opening = {k: v for k, v in opening.items() if k != "examples"}
    return {**out, "said yes": _said_yes(rows, picks["whole"]), "reply opening": opening}


def _names(text: str, word: str) -> bool:
    """Whether ``text`` names ``word`` as a whole word, in any case."""
    import re

    return re.search(rf"\b{word}\b", text.lower()) is not None


def _statements(rows: list[tuple[int, str, str]], replies: list[str]) -> dict[str, Any]:
    """How often a stated reply names its image's colour and its shape (each a whole word), over the yes/no
    rows whose image's questions state both: is a wrong answer a wrong look or a wrong comparison?"""
    from steervis.llava import easyvqa
    from steervis.stats import accuracy_ci, percent

    qa = easyvqa.questions("val")
    named: dict[str, list[bool]] = {"color": [], "shape": []}
    for (i, q, _), reply in zip(rows, replies, strict=True):
        truth = {"color": easyvqa.image_colour(qa.get(i, [])), "shape": easyvqa.image_shape(qa.get(i, []))}
        if easyvqa.question_kind(q) != "yes/no" or None in truth.values():
            continue
        for kind, word in truth.items():
            named[kind].append(_names(reply, word))
    return {f"names {k}": percent(accuracy_ci(np.array(v))) for k, v in named.items() if v}


def _said_yes(rows: list[tuple[int, str, str]], answers: list[str]) -> dict[str, Any]:
    """How often a yes/no question is answered "yes", per (wording's answer, truth): a model that compares
    says yes more often when the truth is yes under the same wording; one that does not, equally often."""
    from steervis.llava import easyvqa
    from steervis.stats import accuracy_ci, percent

    cells: dict[str, list[bool]] = {}
    for (_, q, gold), a in zip(rows, answers, strict=True):
        if easyvqa.question_kind(q) == "yes/no":
            cells.setdefault(f"wording {easyvqa.wording_answer(q)}, truth {gold}", []).append(a == "yes")
    return {k: percent(accuracy_ci(np.array(v))) for k, v in sorted(cells.items())}


def _metrics(rows: list[tuple[int, str, str]], answers: list[str]) -> dict[str, Any]:
    """Accuracy of ``answers`` (normalised) against ``rows``' gold answers, per kind and against the wording,
    with the first few answers."""
    from steervis.llava import easyvqa
    from steervis.llava.evaluate import normalise
    from steervis.stats import accuracy_ci, percent

    right = np.array([normalise(a) == gold for a, (_, _, gold) in zip(answers, rows, strict=True)])
    kinds = np.array([easyvqa.question_kind(q) for _, q, _ in rows])
    out: dict[str, Any] = {"all": percent(accuracy_ci(right))}
    out.update({k: percent(accuracy_ci(right[kinds == k])) for k in easyvqa.KINDS if (kinds == k).any()})
    against = np.array([easyvqa.wording_answer(q) != gold for _, q, gold in rows]) & (kinds == "yes/no")
    if against.any():  # the yes/no questions the wording gets wrong: right there only by looking
        out["yes/no against wording"] = percent(accuracy_ci(right[against]))
    out["examples"] = [f"{q} → {a}" for (_, q, _), a in zip(rows[:6], answers, strict=False)]  # what it says
    return out


def _train(vlm: Any, items: list[Any], epochs: int, lr: float, batch_size: int, tune: str,
           seed: int) -> dict[str, Any]:
    from steervis.llava.train import StageSettings, train_stage
    from steervis.lm.config import TrainSettings

    train = TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, warmup=0.03, seed=seed,
                          checkpoint_every=10**9)  # a diagnosis run is short: no checkpoints
    settings = StageSettings(stage=2, pool_items=0, describe_items=0, train=train, tune=tune)
    clock = time.perf_counter()
    _, result = train_stage(vlm, items, settings, progress=False)
    return {"conversations": len(items), **result.summary(), "wall_s": round(time.perf_counter() - clock, 1)}


def _model(init: str, grid: int, layer: str, seed: int) -> Any:
    from steervis.llava.model import VLM, VLMConfig
    from steervis.llava.vlms import open_vlm

    return open_vlm(init) if init else VLM.create(VLMConfig(grid=grid, layer=layer), seed=seed)


def vlm_diagnose(check: str = "train", images: int = 200, epochs: int = 1, lr: float = 1e-3,
                 batch_size: int = 16, tune: str = "lora", turns: str = "single", init: str = "",
                 grid: int = 4, layer: str = "", examples: int = 64, probe: bool = False,
                 suffix: bool = True, seed: int = 0, questions: int = 0,
                 probe_val: int = 0, save: str = "", balanced: int = 0,
                 redraw_yes_no: bool = False, train_told: str = "off",
                 answer: str = "generate", stated_yes_no: bool = False) -> dict[str, Any]:
    """``steervis study vlm-diagnose``: one of :data:`CHECKS` (the module docstring says what each does)."""
    from functools import partial

    from steervis.llava import easyvqa
    from steervis.llava.questions import SHORT_ANSWER

    _check(check, turns, balanced, train_told, answer, stated_yes_no)
    fmt = SHORT_ANSWER if suffix else ""
    score, told = partial(_score, answer=answer, stated=stated_yes_no), partial(_told, answer=answer)
    commit = source_commit()  # the code this run starts from (a later commit does not relabel it)
    vlm = _model(init, grid, layer, seed)
    if check == "caption":
        return {"commit": commit, "check": check, "init": init, **_captions(vlm, images, seed)}
    if check == "told":
        return {"commit": commit, "check": check, "init": init, "answer": answer,
                **told(vlm, fmt, questions)}
    out: dict[str, Any] = {"commit": commit, "check": check, "init": init or "fresh projector", "grid": grid,
                           "layer": vlm.config.layer, "seed": seed, "answer": answer}
    if check == "overfit":
        items = _items(max(1, examples // 8), "single", seed, fmt)[:examples]
        out["training"] = _train(vlm, items, epochs, lr, batch_size, tune, seed)
        rows = [(0, it.turns[0][0].removeprefix("<image>\n").removesuffix(fmt).strip(), it.turns[0][1])
                for it in items]
        fit = score(vlm, rows, _item_tokens(vlm, items), fmt)
        return {**out, "examples": len(items), "epochs": epochs, "lr": lr, "fit": fit}
    if check == "train":
        out.update(images=images, epochs=epochs, lr=lr, tune=tune, turns=turns, batch_size=batch_size,
                   balanced=balanced, redraw_yes_no=redraw_yes_no, train_told=train_told,
                   stated_yes_no=stated_yes_no)
        items = _items(images, turns, seed, fmt, balanced, redraw_yes_no, train_told, stated_yes_no)
        out["training"] = _train(vlm, items, epochs, lr, batch_size, tune, seed)
        if save:  # kept for a later look (answers, probes) at the model this run measured
            vlm.save(save)
        rows = easyvqa.diagnosis_rows()[: questions or None]  # questions: a shorter look (tests)
        visuals = tower_tokens(vlm, rows, "val")
        half = len(visuals) // 2  # rows run image by image: half the list away is always another image
        swapped = visuals[half:] + visuals[:half]
        out["with_image"] = score(vlm, rows, visuals, fmt)
        out["without_image"] = score(vlm, rows, [None] * len(rows), fmt)
        out["other_image"] = score(vlm, rows, swapped, fmt)
        if train_told != "off":  # trained on told questions: does it compare them too?
            out["told"] = told(vlm, fmt, questions)
        if not probe:
            return out

    probes = colour_probes(vlm, images, seed, probe_val or None)
    return {**out, "probe_images": images, "colour_probe": probes}


def _check(check: str, turns: str, balanced: int, train_told: str, answer: str, stated: bool = False) -> None:
    """One sentence for a setting vlm-diagnose cannot run with."""
    if check not in CHECKS:
        raise SteervisError(f"check must be one of {', '.join(CHECKS)}, not {check!r}.")
    if answer not in ANSWERS:
        raise SteervisError(f"answer must be one of {', '.join(ANSWERS)}, not {answer!r}.")
    if balanced and turns != "single":
        raise SteervisError("balanced draws single questions: leave turns at single.")
    if turns not in ("single", "packed"):
        raise SteervisError(f"turns must be single or packed, not {turns!r}.")
    if train_told != "off" and turns != "single":
        raise SteervisError("train_told asks single questions without their image: leave turns at single.")
    if stated and (check != "train" or answer != "generate" or train_told != "off" or turns != "single"):
        raise SteervisError("stated_yes_no trains and scores replies that say what the image shows first: "
                            "use it with check=train, answer=generate, turns=single and train_told=off.")


def _told(vlm: Any, suffix: str, questions: int = 0, answer: str = "generate") -> dict[str, Any]:
    """The diagnosis subset's yes/no questions whose image's colour and shape are stated, asked without the
    image but after its truth in words: the LM's comparison alone (``questions``: of the subset's first
    that many)."""
    from steervis.llava import easyvqa

    qa = easyvqa.questions("val")
    rows = [r for r in easyvqa.diagnosis_rows()[: questions or None]
            if easyvqa.question_kind(r[1]) == "yes/no"]
    told = [(r, easyvqa.told(qa.get(r[0], []))) for r in rows]
    told = [(r, fact) for r, fact in told if fact]
    before = [fact for _, fact in told]
    rows = [r for r, _ in told]
    return {"questions": len(rows), "told": _score(vlm, rows, [None] * len(rows), suffix, before, answer)}


def _item_tokens(vlm: Any, items: list[Any]) -> list[Any]:
    """The cached tower tokens of training items (the overfit check scores the items it trained on)."""
    from steervis.llava.tower import FeatureCache

    return FeatureCache(vlm.tower).features([it.sha256 for it in items], [it.path for it in items])


def _captions(vlm: Any, images: int, seed: int) -> dict[str, Any]:
    """Greedy captions of ``images`` seeded ``val`` images whose colour and shape are stated, scored by
    whether they name that colour and that shape (each as a whole word), with 95 % intervals."""
    from steervis.llava import easyvqa
    from steervis.stats import accuracy_ci, percent

    qa = easyvqa.questions("val")
    ids = [int(i) for i in np.random.default_rng(seed).permutation(sorted(qa))]
    known = [(i, easyvqa.image_colour(qa[i]), easyvqa.image_shape(qa[i])) for i in ids]
    known = [k for k in known if k[1] and k[2]][:images]
    visuals = tower_tokens(vlm, [(i, "", "") for i, _, _ in known], "val")
    captions = [c[0] for c in vlm.caption(visuals, max_new_tokens=12)]  # "a red circle." is 4-5 tokens
    named = {kind: np.array([_names(cap, word) for cap, word in zip(captions, words, strict=True)])
             for kind, words in (("color", [c for _, c, _ in known]), ("shape", [s for _, _, s in known]))}
    return {"images": len(known), **{k: percent(accuracy_ci(v)) for k, v in named.items()},
            "examples": captions[:8]}
