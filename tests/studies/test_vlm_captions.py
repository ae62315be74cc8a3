"""The captions study samples per domain, counts captions that name the class and writes a page of them."""

import pytest
from PIL import Image


@pytest.fixture
def folder(tmp_path):
    for domain in ("photo", "sketch"):
        for cls, colour in (("dog", "red"), ("cat", "blue")):
            for i in range(3):
                path = tmp_path / "data" / domain / cls / f"{cls}{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (24, 24), colour).save(path)
    return tmp_path / "data"


def test_naming_rate_counts_captions_that_name_the_class(folder, tmp_path, monkeypatch):
    from steervis.llava.model import VLM
    from steervis.studies.vlm_captions import vlm_captions

    def says_dog(self, images, beams=1, samples=0, max_new_tokens=30, seed=0):
        return [["a drawing of two dogs."] + ["a cat"] * samples for _ in images]

    monkeypatch.setattr(VLM, "caption", says_dog)
    out = vlm_captions(model="tiny-llava", per_domain=4, samples=1, data=str(folder),
                       report=str(tmp_path / "c.html"))
    dogs = {d: sum(e["class"] == "dog" for e in out["examples"] if e["domain"] == d) / 4
            for d in ("photo", "sketch")}
    assert out["images"] == 8 and out["names_class_greedy"] == dogs  # "dogs" names dog, never cat
    assert out["names_class_any"] == {"photo": 1.0, "sketch": 1.0}  # the sampled "a cat" names every cat
    page = (tmp_path / "c.html").read_text()
    assert ("id='naming'" in page and page.count("<div class='card'>") == 8
            and "a drawing of two dogs." in page)


def test_real_generation_on_the_tiny_hub_llava(folder):
    from steervis.studies.vlm_captions import vlm_captions

    out = vlm_captions(model="tiny-llava", per_domain=2, data=str(folder), max_new_tokens=3)
    assert out["images"] == 4 and all(len(e["captions"]) == 1 for e in out["examples"])
    assert set(out["names_class_greedy"]) == {"photo", "sketch"}


def test_only_the_matchers_first_tag_counts_against_the_captions(folder, monkeypatch):
    import pandas as pd

    from steervis.studies.vlm_captions import first_tag_rates
    from steervis.vllavo.describe import Description
    from steervis.vllavo.describe import run as describe_run

    seen = {}

    def tags_dog_then_cat(frame, config, progress=True):
        seen["config"] = config
        return [Description(tags=[("dogs", 0.9), ("cat", 0.8)]) for _ in range(len(frame))]

    monkeypatch.setattr(describe_run, "describe", tags_dog_then_cat)
    frame = pd.DataFrame({"path": ["a", "b", "c"], "sha256": ["1", "2", "3"], "domain": ["photo"] * 3,
                          "class": ["dog", "cat", "cat"]})
    assert first_tag_rates(frame, "conse") == {"photo": 1 / 3}  # the second tag "cat" never counts
    assert seen["config"].class_tags == 0 and seen["config"].matcher == "conse"  # not told the classes
