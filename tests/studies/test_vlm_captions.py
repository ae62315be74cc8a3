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
