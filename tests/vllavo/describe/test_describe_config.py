"""DescribeConfig cache keys, vocabularies, shipped describe-* presets."""

import pytest

from steervis.config import PRESET_DIR, load_config
from steervis.errors import SteervisError
from steervis.vllavo.describe import DescribeConfig, load_vocabulary


def test_cache_key_ignores_speed_knobs_but_not_content(tmp_path):
    base = DescribeConfig()
    assert base.cache_key() == DescribeConfig(batch_size=3, num_workers=5, store=str(tmp_path)).cache_key()
    assert base.cache_key() != DescribeConfig(tag_top_k=7).cache_key()
    vocab = tmp_path / "mine.txt"
    vocab.write_text("# my tags\ndog\ncat\n\ndog\n")
    assert load_vocabulary(str(vocab)) == ["dog", "cat"]
    assert DescribeConfig(tag_vocab=str(vocab)).cache_key() != base.cache_key()
    vocab.write_text("dog\nbird\n")  # same path, new content: a new key
    assert DescribeConfig(tag_vocab=str(vocab)).cache_key() != DescribeConfig(tag_vocab="tags").cache_key()


def test_shipped_vocabularies():
    tags, attrs = load_vocabulary("tags"), load_vocabulary("attributes")
    assert 2000 < len(tags) < 6000 and {"dog", "cat", "car", "guitar"} <= set(tags)
    assert 200 < len(attrs) < 600 and {"red", "striped", "wooden", "has wings", "sitting"} <= set(attrs)
    with pytest.raises(SteervisError, match="not found"):
        load_vocabulary("/no/such/vocab.txt")


@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESET_DIR.glob("describe-*.yaml")))
def test_every_describe_preset_loads(preset):
    cfg = load_config(DescribeConfig, preset=preset)
    assert cfg.matcher and cfg.batch_size >= 1


def test_bad_values_are_explained():
    with pytest.raises(SteervisError, match="engine"):
        DescribeConfig(engine="spark")
    with pytest.raises(SteervisError, match="prompt_template"):
        DescribeConfig(prompt_template="a photo")


def test_the_llava_captioner_key_follows_the_trained_weights(tmp_home):
    from steervis.paths import cache_dir
    from steervis.vllavo.describe.config import DescribeConfig

    cfg = DescribeConfig(captioner="llava")
    untrained = cfg.cache_key()
    stage = cache_dir("models", "vlm") / "stage2"
    stage.mkdir(parents=True)
    (stage / "card.json").write_text("{}")
    (stage / "projector.safetensors").write_bytes(b"one")
    first = cfg.cache_key()
    (stage / "projector.safetensors").write_bytes(b"two!")  # retrained: other bytes (and size)
    assert len({untrained, first, cfg.cache_key()}) == 3
    assert DescribeConfig().cache_key() == DescribeConfig().cache_key()  # no captioner: unaffected
