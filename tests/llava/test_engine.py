"""The data engine on the tiny LM: batched writing, grounding filter, the store reused, stage-2 wiring."""

import pandas as pd

from steervis.llava import engine
from steervis.llava.engine import EngineSettings, EngineStore, content_words, grounded, write_instructions


def _pool(tmp_path, n=3):
    texts = ["a drawing of an apple. keywords: red, fruit", "an emoji of a dog: happy. keywords: animal, pet",
             "a photo of a guitar. keywords: music, strings"][:n]
    return pd.DataFrame({"sha256": [f"{i:064d}" for i in range(n)],
                         "path": [str(tmp_path / f"{i}.png") for i in range(n)], "text": texts})


def test_grounding_keeps_answers_from_the_text_and_drops_invented_ones():
    assert content_words("The images show two red Apples.") == {"red", "apple"}
    assert grounded("It is a red apple.", "a drawing of an apple. keywords: red, fruit")
    assert not grounded("A shiny blue sports car.", "a drawing of an apple. keywords: red, fruit")
    assert not grounded("It is.", "anything")  # no content word: nothing to check, dropped


def test_engine_writes_batched_filters_and_reuses_its_store(tmp_home, tmp_path, monkeypatch):
    from steervis import zoo
    from steervis.lm.model import LanguageModel

    frame = _pool(tmp_path)
    lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"), add_special_tokens=False)
    calls = []

    def fake_generate(lm_, prompts, max_new_tokens, batch_size):
        calls.append(len(prompts))
        decoded = [lm_.tokenizer.decode(p.ids) for p in prompts]
        # grounded for the apple, invented for the others
        return ["A red apple, a fruit." if "apple" in d else "A purple elephant flying." for d in decoded]

    import importlib

    monkeypatch.setattr(importlib.import_module("steervis.lm.generate"), "generate", fake_generate)
    settings = EngineSettings(lm="tiny-llama", batch_size=2, max_new_tokens=4)
    items, stats = write_instructions(frame, settings, lm=lm)
    assert sum(calls) == 3 * (2 + 1 + 1)  # 3 items × (2 conversation turns + detail + reasoning)
    assert stats["conversation"]["answers"] == 6 and stats["conversation"]["kept"] == 2
    assert stats["detail"]["items"] == 1 and stats["reasoning"]["kept_rate"] == round(1 / 3, 3)
    assert {it.sha256 for it in items} == {frame["sha256"][0]}
    conv = next(it for it in items if len(it.turns) == 2)
    assert conv.turns[0][0].startswith("<image>\n") and not conv.turns[1][0].startswith("<image>")
    again, _ = write_instructions(frame, settings, lm=lm)  # from the store: nothing generated
    assert sum(calls) == 12 and [it.turns for it in again] == [it.turns for it in items]
    assert len(EngineStore(tmp_home / "vlm-engine" / f"engine-{settings.id}").records) == 9


def test_engine_runs_the_real_generation_path_on_the_tiny_lm(tmp_home, tmp_path):
    items, stats = write_instructions(_pool(tmp_path, 1), EngineSettings(lm="tiny-llama", max_new_tokens=3),
                                      kinds=["detail"])
    assert stats["detail"]["answers"] == 1 and len(items) == stats["detail"]["items"]


def test_stage2_items_include_the_engine_when_asked(tmp_home, tmp_path, monkeypatch):
    from steervis.llava import data, train

    frame = _pool(tmp_path)
    frame["caption"] = frame["text"].map(data.caption_sentence)
    frame["name"] = frame["text"].map(data.short_name)
    monkeypatch.setattr(data, "pool_frame", lambda n, seed=0, root=None: frame.head(n))
    monkeypatch.setattr(engine, "write_instructions",
                        lambda f, s, progress=False: ([data.Item("e", "p", [("<image>\nq", "a")])], {}))
    without = train.build_items(train.StageSettings(stage=2, pool_items=3, describe_items=1, vqa_images=0))
    with_engine = train.build_items(train.StageSettings(stage=2, pool_items=3, describe_items=1, vqa_images=0,
                                                        engine_items=2))
    assert len(with_engine) == len(without) + 1 and with_engine[-1].sha256 == "e"
