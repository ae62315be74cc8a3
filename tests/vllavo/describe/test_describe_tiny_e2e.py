"""Tiny random CLIP + BLIP through describe(), the store, export and the CLI, end to end."""

import json

import pandas as pd
import pytest

from steervis.cli import main
from steervis.data import load_folder, make_toy_dataset
from steervis.matchers import build_matcher
from steervis.vllavo.describe import DescribeConfig, Description, describe


@pytest.fixture
def toy(tmp_path):
    return make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=1, size=40)


def tiny_config(tmp_home, **kw):
    vocab = tmp_home.parent / "tags.txt"
    vocab.write_text("dog\ncat\ncircle\nsquare\ntriangle\nhouse\n")
    return DescribeConfig(matcher="tiny-clip", captioner="tiny-blip", tag_vocab=str(vocab), samples=2,
                          max_caption_tokens=4, batch_size=3, tag_threshold=0.0, **kw)


def test_tiny_clip_blip_describe_then_cached(tmp_home, toy):
    frame = load_folder(toy).frame
    cfg = tiny_config(tmp_home)
    out = describe(frame, cfg, progress=False)
    assert len(out) == len(frame) == 4 and out.summary.described == 4 and out.summary.cached == 0
    d = out[0]
    assert isinstance(d, Description) and len(d.tags) == 5 and len(d.attributes) == 5
    assert len(d.captions) == 3 and all(c.startswith("a picture of") for c in d.captions)
    assert d.provenance["matcher"] == "tiny-clip" and d.provenance["config_hash"] == cfg.cache_key()
    scores = [s for _, s in d.tags]
    assert scores == sorted(scores, reverse=True)
    again = describe(frame, cfg, progress=False)
    assert again.summary.described == 0 and again.summary.cached == 4
    assert [x.to_dict() for x in again] == [x.to_dict() for x in out]


def test_bad_image_is_a_recorded_failure_not_a_crash(tmp_home, toy):
    frame = load_folder(toy).frame
    broken = toy / "photo" / "circle" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    frame = pd.concat([frame, pd.DataFrame([{"path": str(broken), "domain": "photo", "class": "circle",
                                             "sha256": "f" * 64}])], ignore_index=True)
    out = describe(frame, tiny_config(tmp_home, attribute_vocab=""), progress=False)
    assert out[-1] is None and out.summary.failed == 1 and out.summary.described == 4
    assert "broken.png" in out.summary.failures[0][0] and out.summary.failures[0][1]
    assert out[0].attributes == [] and "Attributes" not in out[0].render()


def test_matcher_contract_is_unit_norm_and_memoised():
    m = build_matcher("tiny-clip")
    assert build_matcher("tiny-clip") is m
    texts = m.encode_texts(["a dog", "a cat", "a dog"])
    assert texts.shape[0] == 3 and abs(float((texts**2).sum(1).max()) - 1) < 1e-5
    assert (texts[0] == texts[2]).all()


def test_describe_cli_writes_exports_and_config(tmp_home, toy, capsys):
    out = tmp_home.parent / "out"
    assert main(["describe", "--data", str(toy), "--preset", "describe-tiny", "--quiet", "--out", str(out),
                 "--set", "samples=1", "--set", "max_caption_tokens=3"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"descriptions.parquet", "descriptions.jsonl", "config.yaml", "failures.csv",
            "summary.json"} <= names
    rows = [json.loads(line) for line in (out / "descriptions.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and rows[0]["description"].startswith("Tags:\n- ")
    assert {"path", "domain", "class", "description"} <= set(rows[0])
    assert "samples: 1" in (out / "config.yaml").read_text()
    assert json.loads((out / "summary.json").read_text())["described"] == 4
    assert main(["describe", "--print-config", "--set", "tag_top_k=9"]) == 0
    assert "tag_top_k: 9" in capsys.readouterr().out


def test_bench_verb_lists_targets(capsys):
    assert main(["bench", "--list"]) == 0
    assert "describe" in capsys.readouterr().out
