"""Description rendering (golden snapshot), component subsets and round trips."""

from pathlib import Path

import pytest

from steervis.vllavo.describe import Description

GOLDEN = Path(__file__).parent / "golden"


def example() -> Description:
    return Description(
        tags=[("golden retriever", 0.71), ("dog", 0.69), ("puppy", 0.6)],
        attributes=[("furry", 0.5), ("has four legs", 0.45), ("on grass", 0.41)],
        captions=["a picture of a dog running on the grass", "a picture of a golden dog playing outside"],
        provenance={"matcher": "conse", "config_hash": "0123456789abcdef"},
    )


def test_render_matches_golden_snapshot():
    assert example().render() == (GOLDEN / "description_all.txt").read_text()


def test_render_subsets_keep_canonical_order_and_skip_empty():
    d = example()
    assert d.render(["attributes"]) == "Attributes:\n- furry\n- has four legs\n- on grass"
    assert d.render(["captions", "tags"]).startswith("Tags:\n- golden retriever")
    no_captions = Description(tags=[("cat", 0.9)], attributes=[], captions=[])
    assert no_captions.render() == "Tags:\n- cat"
    with pytest.raises(ValueError, match="Unknown description component"):
        d.render(["colours"])


def test_dict_and_json_round_trip():
    d = example()
    assert Description.from_dict(d.to_dict()) == d
    assert Description.from_json(d.to_json()) == d
