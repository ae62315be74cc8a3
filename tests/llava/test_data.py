import pandas as pd

from steervis.llava.data import caption_items, caption_sentence, classify_items, short_name


def test_pool_items_become_captions_and_classification_instructions():
    texts = ["a photo of an elephant. keywords: animal", "a drawing of a fc13. keywords: flowchart",
             "an emoji of a woman astronaut: medium-dark skin tone."]
    frame = pd.DataFrame({"sha256": ["a", "b", "c"], "path": ["x", "y", "z"], "text": texts})
    frame["caption"] = [caption_sentence(t) for t in texts]
    frame["name"] = [short_name(t) for t in texts]  # the middle one is None, which pandas may hold as NaN
    frame = frame.astype({"name": object}).where(frame.notna(), float("nan"))
    assert [it.turns[0][1] for it in classify_items(frame, "What?")] == ["elephant", "woman astronaut"]
    assert caption_items(frame)[0].turns == [("<image>\n", "a photo of an elephant.")]


def test_short_names_are_what_a_styled_head_shows():
    assert short_name("a line-art emoji of the red apple. keywords: fruit") == "red apple"
    assert short_name("a drawing titled “barattolo di pillole”. keywords: medicine") is None  # a title
    assert short_name("a drawing. keywords: tree") is None  # no name at all
    assert short_name("a drawing of a very long winding country road") is None  # a description


def test_the_pool_sample_never_holds_a_held_out_concept(tmp_path, monkeypatch):
    from steervis.data import heldout
    from steervis.data.synthetic import make_toy_pool
    from steervis.llava.data import pool_frame

    root = make_toy_pool(tmp_path / "pool")
    everything = pool_frame(1000, root=root)
    assert everything["text"].str.contains("circle").any()
    monkeypatch.setattr(heldout, "load_heldout", lambda: heldout.HeldOut(["circle"]))
    kept = pool_frame(1000, root=root)
    assert not kept["text"].str.contains("circle").any()
    assert len(kept) == len(everything) - everything["text"].str.contains("circle").sum()
