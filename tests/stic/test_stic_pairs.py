"""STIC's pairs: half under a misleading prompt, half on a corrupted copy; the preferred one on the clean
image under the good prompt; written and read back."""

import numpy as np
import pytest
from PIL import Image

from steervis.errors import SteervisError
from steervis.stic.images import Source
from steervis.stic.pairs import (
    GOOD_PROMPT,
    MISLEADING_PROMPTS,
    PLAIN_PROMPT,
    PROMPTED,
    make_pairs,
    plan_rejections,
    read_pairs,
    write_pairs,
)


@pytest.mark.parametrize("n", [1, 7, 10, 31])
def test_the_plan_is_half_prompt_half_corruption(n):
    plan = plan_rejections(n, seed=2)
    assert plan.count(PROMPTED) == n // 2 and set(plan) <= {PROMPTED, "jitter", "downscale"}
    assert plan == plan_rejections(n, seed=2) and len(plan) == n


def test_both_corruptions_are_drawn():
    plan = plan_rejections(200, seed=0)
    assert 30 < plan.count("jitter") < 70 and 30 < plan.count("downscale") < 70


def test_pairs_describe_the_clean_image_well_and_a_misled_or_corrupted_one_badly(toy_scenes, scripted):
    files = sorted((toy_scenes / "images").glob("*.png"))
    sources = [Source(str(p), "scene", i) for i, p in enumerate(files)]
    vlm = scripted({s.path: f"scene {s.scene}" for s in sources})
    pairs = make_pairs(vlm, sources, batch_size=3, seed=0, progress=False)
    assert [p.chosen for p in pairs] == [f"scene {s.scene}" for s in sources]
    assert sum(p.how == PROMPTED for p in pairs) == len(sources) // 2
    good_calls = [c for c in vlm.calls if set(c[1]) == {GOOD_PROMPT}]
    assert [img for c in good_calls for img in c[0]] == [s.path for s in sources]  # clean files
    bad_calls = [c for c in vlm.calls if GOOD_PROMPT not in c[1]]
    shown = [(img, q) for c in bad_calls for img, q in zip(c[0], c[1], strict=True)]
    for pair, (img, question) in zip(pairs, shown, strict=True):
        assert question == pair.rejected_prompt
        if pair.how == PROMPTED:
            assert img == pair.path and question in MISLEADING_PROMPTS
        else:  # the plain prompt on a changed copy of the same picture
            clean = np.asarray(Image.open(pair.path).convert("RGB"), dtype=int)
            assert question == PLAIN_PROMPT and isinstance(img, Image.Image)
            assert img.size == Image.open(pair.path).size and np.abs(np.asarray(img) - clean).mean() > 1
    assert all(c[2]["sample"] and c[2]["temperature"] == 0.2 for c in vlm.calls)


def test_greedy_descriptions_do_not_sample(toy_scenes, scripted):
    vlm = scripted({})
    make_pairs(vlm, [Source(str(toy_scenes / "images/000000.png"), "scene", 0)], temperature=0,
               progress=False)
    assert all("sample" not in c[2] for c in vlm.calls)


def test_pairs_are_written_and_read_back(tmp_path, toy_scenes, scripted):
    sources = [Source(str(toy_scenes / "images/000001.png"), "scene", 1)]
    pairs = make_pairs(scripted({}), sources, progress=False)
    assert read_pairs(write_pairs(pairs, tmp_path / "p" / "pairs.jsonl")) == pairs


def test_a_damaged_or_missing_pairs_file_is_one_sentence(tmp_path):
    with pytest.raises(SteervisError, match="steervis stic pairs"):
        read_pairs(tmp_path / "none.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"path": 1}\n')
    with pytest.raises(SteervisError, match="holds no STIC pairs"):
        read_pairs(tmp_path / "bad.jsonl")


def test_no_images_is_one_sentence(scripted):
    with pytest.raises(SteervisError, match="pool_images or scene_images"):
        make_pairs(scripted({}), [], progress=False)
