"""REACT end to end on a toy pool: the CLIP path (gated blocks in the vision tower), model cards, bad input,
and a customization killed with SIGKILL that resumes where it stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from steervis.errors import SteervisError
from steervis.react.train_head import ReactSettings, customize


@pytest.fixture
def toy_pool(tmp_home):
    from steervis.data.pool import pool_root
    from steervis.data.synthetic import make_toy_pool

    return make_toy_pool(pool_root())


def test_gated_clip_starts_as_the_base_keeps_text_locked_and_opens_its_gates(toy_pool):
    from steervis import zoo
    from steervis.data.pool import Pool
    from steervis.react.gated_clip import GatedCLIP
    from steervis.react.train_clip import customize_clip

    base = zoo.load("tiny-clip", kind="clip").model
    pixels = torch.randn(3, 3, 32, 32)
    tokens = {"input_ids": torch.tensor([[101, 2000, 102], [101, 3000, 102]])}
    with torch.no_grad():
        image0 = base.get_image_features(pixel_values=pixels).pooler_output
        text0 = base.get_text_features(**tokens).pooler_output
        gated = GatedCLIP(zoo.load("tiny-clip", kind="clip").model)
        assert torch.allclose(gated.get_image_features(pixel_values=pixels).pooler_output, image0, atol=1e-6)
    assert gated.gates() == [0.0] * 2 and not any(p.requires_grad for p in gated.clip.parameters())

    frame = Pool.load().frame
    model, losses = customize_clip("tiny-clip", frame["path"].tolist(), frame["text"].tolist(),
                                   np.unique(frame["text"], return_inverse=True)[1],
                                   ReactSettings(epochs=3, batch_size=12, lr=1e-2), progress=False)
    assert all(g != 0 for g in model.gates()) and len(losses) == 3
    with torch.no_grad():
        assert torch.allclose(model.get_text_features(**tokens).pooler_output, text0)  # text tower locked
        assert not torch.allclose(model.get_image_features(pixel_values=pixels).pooler_output, image0,
                                  atol=1e-4)


def test_react_writes_a_model_card_that_models_lists(toy_pool, capsys):
    from steervis.card import read_card
    from steervis.cli import main
    from steervis.react.build import customized_models, react_for
    from steervis.react.matchers import ReactCLIPMatcher, load_customized

    out = react_for(["circle", "star"], k=4, base="tiny-clip", settings=ReactSettings(epochs=2),
                    progress=False)
    card = read_card(out, kind="react-clip")
    assert card.base == "tiny-clip" and len(card.react.pool_hash) == 16 and card.react.every >= 1
    assert card.data["sources"] == [{"source": "toy", "files": card.data["pairs"], "licence": "CC0-1.0"}]
    assert {"torch", "transformers", "steervis"} <= set(card.react.versions)
    assert len(card.metrics["losses"]) == 2
    assert card.react.classes == ["circle", "star"] and 0 <= card.metrics["retrieval_precision"] <= 1
    assert card.react.weights == "blocks.safetensors" and len(card.react.head_hash) == 16
    assert not list((out.parent.parent / "checkpoints").glob("*"))  # removed once the model is saved
    assert isinstance(load_customized(out), ReactCLIPMatcher)
    assert [r["path"] for r in customized_models()] == [str(out)]
    assert main(["models"]) == 0
    printed = capsys.readouterr().out
    assert "customized matchers" in printed and "tiny-clip" in printed and out.name in printed
    assert main(["models", "--card", out.name]) == 0
    assert json.loads(capsys.readouterr().out)["react"]["pool_hash"] == card.react.pool_hash


def test_bad_input_gets_one_sentence_each(toy_pool, tmp_path):
    from steervis.react.build import react_for

    with pytest.raises(SteervisError, match="class list is empty"):
        react_for([" ", ""], base="tiny-clip")
    with pytest.raises(SteervisError, match="No pool text names any of the classes .*xyzzy"):
        react_for(["xyzzy", "qwfp"], base="tiny-clip")
    with pytest.raises(SteervisError, match="No knowledge pool at .*steervis data build pool"):
        react_for(["circle"], base="tiny-clip", root=tmp_path / "nowhere")


KILLED = """
import os, signal, sys
import numpy as np
from steervis.react import train_head as react
real = react.EpochCheckpoint.save
def save_then_die(self, losses):
    real(self, losses)
    if len(losses) == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 right after epoch 2 is on disk
react.EpochCheckpoint.save = save_then_die
data = np.load(sys.argv[1])
react.customize(data["base"], data["pooled"], data["text"], data["ids"],
                react.ReactSettings(epochs=4, hidden=16, batch_size=16), progress=False, \
checkpoint=sys.argv[2])
"""


def test_a_customization_killed_with_sigkill_resumes_and_ends_as_an_uninterrupted_one(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"base": rng.normal(size=(64, 8)), "pooled": rng.normal(size=(64, 12)),
              "text": rng.normal(size=(64, 8)), "ids": np.arange(64) % 16}
    np.savez(tmp_path / "data.npz", **arrays)
    ckpt = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED), str(tmp_path / "data.npz"),
                           str(ckpt)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-500:]
    assert len(json.loads((ckpt / "trainer-state.json").read_text())["losses"]) == 2
    assert not list(ckpt.glob("*.pt"))  # safetensors + JSON: nothing a loader would unpickle
    settings = ReactSettings(epochs=4, hidden=16, batch_size=16)
    resumed, losses = customize(*arrays.values(), settings, progress=False, checkpoint=ckpt)
    whole, whole_losses = customize(*arrays.values(), settings, progress=False)
    np.testing.assert_allclose(losses, whole_losses, rtol=1e-5)
    for key, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value)


def test_cli_customizes_for_class_names_and_says_what_it_wrote(toy_pool, capsys):
    from steervis.cli import main

    assert main(["react", "customize", "--classes", "circle,square", "--base", "tiny-clip", "--k", "3",
                 "--quiet"]) == 0
    assert "react (tiny-clip) for 2 classes written to" in capsys.readouterr().out
    # one sentence, exit 2
    assert main(["react", "customize", "--classes", "zzz", "--base", "tiny-clip", "--quiet"]) == 2
    assert "No pool text names any of the classes (zzz)" in capsys.readouterr().err


@pytest.mark.slow  # the embedded ConSE, a REACT head trained on the toy pool: ~1 min
def test_the_react_matcher_is_customized_for_the_task_and_keyed_by_its_weights(toy_pool, tmp_path):
    import shutil
    from dataclasses import replace
    from pathlib import Path

    from PIL import Image

    from steervis.matchers import build_matcher, is_customized
    from steervis.methods.task import resolve_task_names
    from steervis.react.build import react_for
    from steervis.vllavo.describe import DescribeConfig
    from steervis.vllavo.describe.describer import Describer

    with pytest.raises(SteervisError, match="customized for the task's class names"):
        build_matcher("react")  # the describe floor cannot know the task: a sentence, never a hub lookup
    classes = ["star", "circle"]
    cfg = resolve_task_names(DescribeConfig(matcher="react", tagger="vocab"), classes, progress=False)
    assert is_customized(cfg.matcher)
    assert Path(cfg.matcher) == react_for(sorted(classes), progress=False)  # the react method's own model
    fields = cfg.content_fields()
    assert fields["matcher"] == "customized" and fields["matcher_identity"].startswith("customized-head@")
    moved = shutil.copytree(cfg.matcher, tmp_path / "moved")
    # where it is stored is not content
    assert replace(cfg, matcher=str(moved)).cache_key() == cfg.cache_key()
    (moved / "head.safetensors").write_bytes(b"other weights")
    assert replace(cfg, matcher=str(moved)).cache_key() != cfg.cache_key()  # other weights: another describer
    plain = resolve_task_names(DescribeConfig(matcher="conse"), classes)
    assert plain == DescribeConfig(matcher="conse")  # nothing else is resolved
    described = Describer(cfg).describe_images([Image.new("RGB", (64, 64), "white")])
    assert described[0].provenance["matcher"] == "react" and described[0].tags


def test_a_rebuilt_react_pool_never_changes_what_the_task_react_trains(tmp_home, monkeypatch):
    import json

    from steervis.methods.react import React
    from steervis.react import build
    from steervis.react.config import task_settings
    from steervis.react.matchers import react_pool_dir

    seen = []
    monkeypatch.setattr(build, "react_for", lambda classes, **kw: seen.append(kw["settings"]) or tmp_home)
    monkeypatch.setattr("steervis.react.matchers.load_customized", lambda *a, **k: None)
    React(epochs=None).fit(None, ["a", "b"])
    react_pool_dir().mkdir(parents=True)
    (react_pool_dir() / "card.json").write_text(json.dumps({"settings": {"hidden": 8, "epochs": 1}}))
    React(epochs=None).fit(None, ["a", "b"])  # react-pool rebuilt with other settings
    assert seen == [task_settings(), task_settings()]
    assert (seen[0].hidden, seen[0].epochs, seen[0].temperature) == (1024, 5, 0.07)


def test_the_task_bound_react_is_listed_and_never_built_or_keyed_unresolved():
    from steervis.matchers import MATCHERS, matcher_identity
    from steervis.vllavo.describe import DescribeConfig

    assert any(line.split()[0] == "react" for line in MATCHERS.listing().splitlines())
    for unresolved in (lambda: MATCHERS.get("react"), lambda: matcher_identity("react"),
                       lambda: DescribeConfig(matcher="react").cache_key()):
        with pytest.raises(SteervisError, match="resolve_task_names"):
            unresolved()  # no description is ever stored under an unresolved task-bound name


def test_an_old_pickled_checkpoint_is_never_read(tmp_path, caplog):
    (tmp_path / "run.pt").write_bytes(b"not a checkpoint")  # what older versions left beside the folder
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(8, 4)), rng.normal(size=(8, 6)), rng.normal(size=(8, 4)), np.arange(8)]
    with caplog.at_level("WARNING"):
        customize(*arrays, ReactSettings(epochs=1, hidden=8), progress=False, checkpoint=tmp_path / "run")
    assert "is not read" in caplog.text and (tmp_path / "run.pt").read_bytes() == b"not a checkpoint"
