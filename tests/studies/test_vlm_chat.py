"""The scripted scene chat: the truth of each turn comes from the scene's boxes and colours, every turn sees
the earlier answers, and an oracle scores full marks where a parrot scores none."""

from __future__ import annotations

import pandas as pd

from steervis.studies.vlm_chat import converse, left_target, scripts

BOX = 40


def _scenes(root):
    """Three scenes: 0 has a red owl right of a lone cat (clear), 1 has no colour, 2 has two objects level."""
    rows = [(0, 0, "cat", None, 20), (0, 1, "owl", "red", 150), (0, 2, "fox", "blue", 280),
            (1, 0, "cat", None, 20), (1, 1, "owl", None, 200),
            (2, 0, "cat", "red", 100), (2, 1, "owl", "red", 110)]
    objects = pd.DataFrame([{"scene": s, "part": "main", "object": o, "name": n, "colour": c, "x": x,
                             "y": 10, "w": BOX, "h": BOX} for s, o, n, c, x in rows])
    objects.to_parquet(root / "objects.parquet")
    pd.DataFrame({"index": [0, 1, 2], "image": [f"images/{i}.png" for i in range(3)]}).to_parquet(
        root / "scenes.parquet")


class _Chatter:
    """A chat stub: ``reply(question, image, history)`` -> answer; records the history of every turn."""

    def __init__(self, reply):
        self.reply, self.histories = reply, []

    def chat(self, question, image=None, history=(), **_):
        self.histories.append(list(history))
        return self.reply(question, image, history)


def test_only_scenes_with_a_colour_and_a_clear_left_neighbour_are_asked(tmp_path):
    _scenes(tmp_path)
    chosen = scripts(tmp_path, 10, seed=0)
    assert [c["scene"] for c in chosen] == [0]
    assert chosen[0] | {"image": ""} == {"scene": 0, "image": "", "names": ["cat", "fox", "owl"],
                                           "colour_of": "owl", "colour": "red", "left_of": "owl",
                                           "left": "cat"}
    level = [{"name": "cat", "cx": 100}, {"name": "owl", "cx": 110}, {"name": "fox", "cx": 300}]
    assert left_target(level, 32) is None  # cat and owl are level: "left of the fox" has two answers


def test_an_oracle_scores_every_turn_and_a_parrot_none(tmp_path):
    _scenes(tmp_path)
    chosen = scripts(tmp_path, 10, seed=0)
    truth = {c["image"]: c for c in chosen}
    oracle = _Chatter(lambda q, image, h: ["A cat, an owl and a fox.", truth[image]["colour"],
                                           f"The {truth[image]['left']}."][len(h)])
    out = converse(oracle, chosen)
    assert out["objects_recall"] == 1 and out["colour"]["accuracy"] == 1 and out["left_of"]["accuracy"] == 1
    assert [len(h) for h in oracle.histories] == [0, 1, 2]  # each turn sees the earlier answers
    parrot = converse(_Chatter(lambda q, image, h: q), chosen)  # repeating the question names X only
    assert parrot["objects_recall"] == 0 and parrot["colour"]["accuracy"] == 0
    assert parrot["left_of"]["accuracy"] == 0 and len(parrot["first"]["turns"]) == 3
    everything = converse(_Chatter(lambda q, image, h: "cat owl fox red"), chosen)  # naming all is no answer
    assert everything["left_of"]["accuracy"] == 0 and everything["colour"]["accuracy"] == 1
