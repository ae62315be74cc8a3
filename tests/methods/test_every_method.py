"""Every registered method, through the whole contract, on the toy set with tiny models: fit → predict_proba →
save → load → the same probabilities. A method registered tomorrow is covered without editing this file
(give it tiny options in TINY if its defaults load real weights that are slow)."""

from __future__ import annotations

import numpy as np
import pytest

from steervis.config import load_yaml, preset_path
from steervis.errors import SteervisError
from steervis.methods import METHODS, build_method
from steervis.methods.base import check_method
from steervis.methods.context import MethodContext
from steervis.registry import Registry

TINY = {
    "zeroshot": {"matcher": "tiny-clip"},
    "by-description": {"matcher": "tiny-clip", "lm": "tiny-llama"},
    "describe-decide": load_yaml(preset_path("decide-tiny")),
    "zeroshot-llm": load_yaml(preset_path("decide-tiny")),
    "react": {"base": "tiny-clip", "k": 4, "epochs": 2},
    "vlm-generate": {"model": "tiny-llava", "max_new_tokens": 3},
    "vlm-generate-closed": {"model": "tiny-llava", "max_new_tokens": 3},
    "vlm-score": {"model": "tiny-llava", "reduction": "calibrated"},
    "vlm-finetuned": {"model": "tiny-vlm", "train": {"max_steps": 2, "batch_size": 4}, "lora": {"r": 2}},
    "vrl": {"matcher": "tiny-clip", "lm": "tiny-llama", "max_new_tokens": 8},
}
NEEDS = {"react": "toy_pool"}  # fixtures a method needs beyond the toy set (react: a knowledge pool)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    from steervis.data import load_folder, make_toy_dataset

    frame = load_folder(make_toy_dataset(tmp_path_factory.mktemp("toy"), per_class=3)).frame
    return frame[frame["domain"] == "photo"].reset_index(drop=True), frame[frame["domain"] == "sketch"]


@pytest.fixture
def toy_pool(tmp_home):
    """A tiny knowledge pool where react looks for it (STEERVIS_HOME/data/pool)."""
    from steervis.data.pool import pool_root
    from steervis.data.synthetic import make_toy_pool

    return make_toy_pool(pool_root())


@pytest.mark.parametrize("name", METHODS.names())
def test_method_fits_predicts_saves_and_loads(name, toy, tmp_path, tmp_home, request):
    if name in NEEDS:
        request.getfixturevalue(NEEDS[name])
    train, test = toy
    classes = sorted(train["class"].unique())
    context = MethodContext(describe={"matcher": "tiny-clip", "captioner": None}, progress=False)
    method = build_method(name, context, TINY.get(name, {}))
    proba = method.fit(train, classes).predict_proba(test)
    assert proba.shape == (len(test), len(classes)) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    method.save(tmp_path / name)
    again = METHODS.get(name).load(tmp_path / name, context=context)
    assert again.classes == classes
    np.testing.assert_allclose(again.predict_proba(test), proba, atol=1e-5)


def test_a_method_without_the_contract_is_refused_when_it_registers():
    class NoSave:
        name = "no-save"

        def fit(self, train, classes): ...

        def predict_proba(self, items): ...

    methods = Registry("method", check=check_method)
    with pytest.raises(SteervisError, match="lacks save, load"):
        methods.register("no-save", NoSave)


def test_declared_capabilities_must_exist():
    from steervis.methods.zeroshot import ZeroShot

    class Claims(ZeroShot):
        capabilities = frozenset({"adapt"})

    with pytest.raises(SteervisError, match="capabilities it lacks: adapt"):
        check_method("claims", Claims)
