"""The textual-shift study counts the words it is given and measures their divergence exactly."""

from collections import Counter

import pandas as pd
import pytest

from steervis.studies.textshift import (
    class_naming_rate,
    held_out_divergence,
    js_divergence,
    text_shift,
    top_items,
)
from steervis.vllavo.describe.description import Description


def _descs():
    frame = pd.DataFrame({"domain": ["photo", "photo", "sketch", "sketch"],
                          "class": ["dog", "cat", "dog", "cat"]})
    descs = [Description(tags=[("dog", 1.0), ("puppy", 0.9)], captions=["A dog on grass."]),
             Description(tags=[("cat", 1.0)], captions=["a cat"]),
             Description(tags=[("hook", 1.0), ("dog", 0.5)], captions=["a drawing"]),
             None]  # a failed description carries no words
    return frame, descs


def test_js_divergence_bounds_and_symmetry():
    a, b = Counter({"dog": 2, "cat": 2}), Counter({"dog": 1, "hook": 3})
    assert js_divergence(a, a) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(Counter({"x": 1}), Counter({"y": 1})) == pytest.approx(1.0)
    assert js_divergence(a, b) == pytest.approx(js_divergence(b, a))
    assert 0 < js_divergence(a, b) < 1


def test_top_items_divergence_and_naming_per_domain():
    frame, descs = _descs()
    assert top_items(frame, descs, "tags", k=1) == {"photo": [("dog", 1)], "sketch": [("hook", 1)]}
    div = held_out_divergence(frame, descs, "tags")
    # two domains: symmetric
    assert set(div) == {"photo", "sketch"} and div["photo"] == pytest.approx(div["sketch"])
    assert class_naming_rate(frame, descs, "tags") == {"photo": 1.0, "sketch": 0.5}
    shift = text_shift(frame, descs)
    assert set(shift) == {"tags", "captions"}  # no attributes anywhere: no row
    assert (shift["captions"]["top"]["photo"][0] == ("dog", 1)
            or ("a", 2) not in shift["captions"]["top"]["photo"])


def test_plot_draws_one_panel_per_component(tmp_path):
    from steervis.studies.textshift import plot_text_shift

    frame, descs = _descs()
    path = plot_text_shift(text_shift(frame, descs), tmp_path / "shift.png", title="toy")
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def test_shift_is_set_beside_a_runs_accuracy_per_held_out_domain(tmp_path):
    import json

    from steervis.errors import SteervisError
    from steervis.studies.textshift import plot_shift_vs_accuracy, run_accuracy, shift_vs_accuracy

    frame = pd.DataFrame({"domain": ["a", "a", "b", "b", "c", "c"], "class": ["dog"] * 6})
    descs = [Description(tags=[("dog", 1.0)]), Description(tags=[("dog", 1.0)]),  # a: the common word only
             Description(tags=[("dog", 1.0), ("ink", 1.0)]), Description(tags=[("dog", 1.0)]),
             Description(tags=[("hook", 1.0)]), Description(tags=[("mask", 1.0)])]  # c: nothing in common
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": {"m": {"a": 0.8, "b": 0.6, "c": 0.1,
                                                                          "mean": 0.5}}}))
    accuracy = run_accuracy(tmp_path, "m")
    assert accuracy == pytest.approx({"a": 80.0, "b": 60.0, "c": 10.0})  # in %; the mean is not a domain
    relation = shift_vs_accuracy(text_shift(frame, descs), accuracy)["tags"]
    assert relation["points"]["c"]["js"] > relation["points"]["a"]["js"]
    # the further a domain's words, the lower its accuracy, here by design
    assert relation["pearson_r"] < -0.9
    assert plot_shift_vs_accuracy({"tags": relation}, tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SteervisError, match="has no method"):
        run_accuracy(tmp_path, "other")
    with pytest.raises(SteervisError, match="finished"):
        run_accuracy(tmp_path / "nowhere", "m")
