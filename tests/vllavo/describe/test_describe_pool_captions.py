"""Pool captions: the texts of an image's nearest knowledge-pool images, retrieved in the matcher's space."""


import numpy as np
import pytest

from steervis.data import load_folder, make_toy_dataset
from steervis.errors import SteervisError
from steervis.matchers import build_matcher
from steervis.vllavo.describe import DescribeConfig, describe


def config(**kw):
    return DescribeConfig(matcher="tiny-clip", tagger="vocab", attribute_vocab="", **kw)


@pytest.fixture
def toy_pool(tmp_home):
    from steervis.data.pool import pool_root
    from steervis.data.synthetic import make_toy_pool

    return make_toy_pool(pool_root())


def test_captions_are_the_nearest_pool_texts_in_order_and_distinct(toy_pool, tmp_path):
    from steervis.data.pool import Pool

    toy = make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=2, size=40)
    frame = load_folder(toy).frame
    out = describe(frame, config(pool_captions=3), progress=False)

    matcher = build_matcher("tiny-clip")
    pool = Pool.load().frame
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    sims = (unit(matcher.encode_images(list(frame["path"])))
            @ unit(matcher.encode_images(list(pool["path"]))).T)
    for d, row in zip(out, sims, strict=True):
        expected = list(dict.fromkeys(pool["text"].iloc[j] for j in np.argsort(-row, kind="stable")))[:3]
        assert d.captions == expected  # nearest first, a text shared by several pool images once
    assert all(d.provenance["pool_captions"]["k"] == 3 for d in out)
    assert "Captions:\n- a " in out[0].render()


def test_without_style_words_the_captions_say_what_not_how_and_are_distinct_again(toy_pool, tmp_path):
    import re

    from steervis.data.pool import Pool

    toy = make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=2, size=40)
    frame = load_folder(toy).frame
    out = describe(frame, config(pool_captions=3, pool_caption_style=False), progress=False)

    matcher = build_matcher("tiny-clip")
    pool = Pool.load().frame
    unstyled = [re.sub(r"^a (photo|sketch|drawing) of ", "", t) for t in pool["text"]]  # the toy's styles
    assert unstyled != list(pool["text"])
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    sims = (unit(matcher.encode_images(list(frame["path"])))
            @ unit(matcher.encode_images(list(pool["path"]))).T)
    for d, row in zip(out, sims, strict=True):
        # "a photo of a circle" and "a sketch of a circle" are one caption once the style words go
        assert d.captions == list(dict.fromkeys(unstyled[j] for j in np.argsort(-row, kind="stable")))[:3]
    assert out[0].provenance["pool_captions"]["style_words"] is False


def test_pool_captions_follow_the_captioners_own_and_are_first_sentences():
    from steervis.matchers.index import VectorIndex
    from steervis.vllavo.describe.pool_captions import caption_of, nearest_texts

    assert caption_of("an emoji of a goat. keywords: animal, farm") == "an emoji of a goat"
    assert caption_of("a drawing of a mustang airplane") == "a drawing of a mustang airplane"
    assert caption_of("a line-art emoji of a goat. keywords: animal", keep_style=False) == "a goat"
    assert caption_of("a drawing titled “murcia”. a simple map", keep_style=False) == "“murcia”"
    assert caption_of("a sketch of a circle", keep_style=False) == "a circle"  # any style, not only sources'
    index = VectorIndex.build(np.eye(4, dtype=np.float32), ["a", "b", "c", "d"], kind="exact")
    queries = np.array([[0.1, 0.2, 0.9, 0.3]], np.float32)
    assert nearest_texts(index, queries, k=2) == [["c", "d"]]
    assert nearest_texts(index, queries, k=0) == [[]]
    assert nearest_texts(index, queries, k=10) == [["c", "d", "b", "a"]]  # at most the pool


def test_the_key_names_the_pool_and_only_settings_that_reach_a_description(toy_pool):
    from steervis.data.pool import MANIFEST_NAME

    plain = config()
    assert "pool_hash" not in plain.content_fields()
    on = config(pool_captions=3)
    assert on.cache_key() not in {plain.cache_key(), config(pool_captions=5).cache_key()}
    assert config(pool_captions=3, pool_caption_style=False).cache_key() != on.cache_key()
    assert config(pool_caption_style=False).cache_key() == plain.cache_key()  # no captions: nothing to strip
    before = on.cache_key()
    manifest = toy_pool / MANIFEST_NAME
    manifest.write_bytes(manifest.read_bytes() + b"\n")  # a rebuilt pool: other bytes
    assert config(pool_captions=3).cache_key() != before


def test_bad_settings_and_a_missing_pool_get_one_sentence(tmp_home):
    with pytest.raises(SteervisError, match="pool_captions must be 0"):
        config(pool_captions=-1)
    with pytest.raises(SteervisError, match="steervis data build pool"):
        config(pool_captions=2).cache_key()


@pytest.mark.slow
def test_react_pool_embeddings_of_cached_features_equal_the_matchers_own(tmp_home, tmp_path,
                                                                         minidomains_root):
    """A head over ConSE embeds the pool from its base's cached features: the same vectors as from pixels."""
    import torch
    from safetensors.torch import save_file

    from steervis.card import ModelCard, ReactSection, write_card
    from steervis.data.images import open_image
    from steervis.matchers.features import image_embeddings
    from steervis.react.gated_head import GatedResidualHead
    from steervis.react.matchers import ReactMatcher

    torch.manual_seed(0)
    head = GatedResidualHead()
    with torch.no_grad():
        head.gate.fill_(0.5)  # an open gate: the head changes the embedding
    save_file(head.state_dict(), str(tmp_path / "head.safetensors"))
    write_card(tmp_path, ModelCard(kind="react-head", base="conse", react=ReactSection(
        name="react-pool", weights="head.safetensors", head_hash="h", pool_hash="p")))
    matcher = ReactMatcher(tmp_path)
    paths = sorted(str(p) for p in (minidomains_root / "photo").glob("*/*"))[:4]
    direct = matcher.encode_images([open_image(p) for p in paths])
    cached = image_embeddings(matcher, paths, [f"k{i}" for i in range(len(paths))], progress=False)
    assert not np.allclose(direct, matcher.base.encode_images([open_image(p) for p in paths]), atol=1e-3)
    np.testing.assert_allclose(cached, direct, atol=1e-4)  # the same head on the same features
