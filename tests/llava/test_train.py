import numpy as np
import pytest
import torch

from steervis.config import from_dict
from steervis.errors import SteervisError
from steervis.llava import VLM
from steervis.llava.data import Item
from steervis.llava.tower import FeatureCache
from steervis.llava.train import StageSettings, train_stage


def _stage(stage, **train):
    """A stage whose trainer settings are ``train`` over the stage's own defaults (warm-up, checkpoints)."""
    return from_dict(StageSettings, {"stage": stage, "train": train})


def _items(images, stage):
    if stage == 1:
        return [Item(f"sha-{p.name}", str(p), [("<image>\n", f"a {c} square.")]) for p, c in images]
    return [Item(f"sha-{p.name}", str(p), [("<image>\nWhat colour is it?", c), ("Is it a square?", "yes")])
            for p, c in images]


def test_tiny_stage1_then_stage2_lower_the_loss_and_reload_identically(tiny_vlm, colour_images, tmp_path,
                                                                       fake_tower):
    torch.manual_seed(0)
    cache = FeatureCache(fake_tower, tmp_path / "features")
    s1 = _stage(1, epochs=8, batch_size=3, lr=1e-2)
    vlm, r1 = train_stage(tiny_vlm, _items(colour_images, 1), s1, out=tmp_path / "s1", features=cache,
                          progress=False)
    assert np.mean(r1.losses[-3:]) < np.mean(r1.losses[:3])
    assert not any(p.requires_grad for p in vlm.lm.model.parameters())  # stage 1: projector only
    s2 = _stage(2, epochs=8, batch_size=3, lr=1e-2)
    vlm, r2 = train_stage(vlm, _items(colour_images, 2), s2, out=tmp_path / "s2", features=cache,
                          progress=False)
    assert np.mean(r2.losses[-3:]) < np.mean(r2.losses[:3])
    assert (tmp_path / "s2" / "adapter" / "adapter_config.json").exists()
    feats = cache.features([f"sha-{p.name}" for p, _ in colour_images[:3]], [p for p, _ in colour_images[:3]])
    before = vlm.score(feats, ["red", "blue", "green"])
    loaded = VLM.load(tmp_path / "s2")
    after = loaded.score(feats, ["red", "blue", "green"])
    np.testing.assert_allclose(after, before, atol=1e-6)
    assert loaded.stages["1"]["data"]["conversations"] == len(colour_images)
    assert loaded.config.caption_template == "chatml"
    assert VLM.load(tmp_path / "s1").config.caption_template == "plain"


def test_a_fully_tuned_stage2_saves_the_lm_and_reloads_identically(tiny_vlm, colour_images, tmp_path,
                                                                     fake_tower):
    cache = FeatureCache(fake_tower, tmp_path / "features")
    base = {n: p.detach().clone() for n, p in tiny_vlm.lm.model.named_parameters()}
    s2 = from_dict(StageSettings, {"stage": 2, "tune": "full", "train": {"epochs": 4, "batch_size": 3}})
    vlm, result = train_stage(tiny_vlm, _items(colour_images, 2), s2, out=tmp_path / "full", features=cache,
                              progress=False)
    assert not hasattr(vlm.lm.model, "peft_config")  # no adapter: the LM's own weights learnt
    assert any(not torch.equal(p, base[n]) for n, p in vlm.lm.model.named_parameters())
    assert (tmp_path / "full" / "lm.safetensors").exists()
    feats = cache.features([f"sha-{p.name}" for p, _ in colour_images[:3]], [p for p, _ in colour_images[:3]])
    np.testing.assert_allclose(VLM.load(tmp_path / "full").score(feats, ["red", "blue"]),
                               vlm.score(feats, ["red", "blue"]), atol=1e-6)


def test_a_killed_stage2_resumes_to_the_uninterrupted_weights(colour_images, tmp_path, monkeypatch, make_vlm,
                                                              fake_tower):
    import pytest

    import steervis.lm.train as core
    cache = FeatureCache(fake_tower, tmp_path / "features")
    items = _items(colour_images, 2)
    settings = _stage(2, epochs=3, batch_size=2, lr=1e-2, checkpoint_every=1)

    def trainables(vlm):
        return {n: p.detach().clone() for n, p in vlm.lm.model.named_parameters() if p.requires_grad} | {
            f"projector.{n}": p.detach().clone() for n, p in vlm.lm.splicer.projector.named_parameters()}

    ref, _ = train_stage(make_vlm(), items, settings, features=cache, progress=False)
    save, calls = core.save_checkpoint, []

    def killed_after_four(*args, **kwargs):
        save(*args, **kwargs)
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt  # as a kill right after the 4th checkpoint

    monkeypatch.setattr(core, "save_checkpoint", killed_after_four)
    with pytest.raises(KeyboardInterrupt):
        train_stage(make_vlm(), items, settings, features=cache, checkpoint=tmp_path / "ckpt", progress=False)
    monkeypatch.setattr(core, "save_checkpoint", save)
    resumed, result = train_stage(make_vlm(), items, settings, features=cache, checkpoint=tmp_path / "ckpt",
                                  progress=False)
    assert result.resumed_from == 4
    assert not (tmp_path / "ckpt").exists()  # finished: no state and no empty folder left behind
    want, got = trainables(ref), trainables(resumed)
    assert want.keys() == got.keys() and any(k.startswith("projector.") for k in got)
    for name, value in got.items():
        torch.testing.assert_close(value, want[name])


def test_a_kill_between_training_and_saving_resumes_at_the_end(colour_images, tmp_path, monkeypatch, make_vlm,
                                                                fake_tower):
    import pytest

    from steervis.llava.model import VLM

    cache = FeatureCache(fake_tower, tmp_path / "features")
    items = _items(colour_images, 2)
    # no mid-run state
    settings = _stage(2, epochs=2, batch_size=2, lr=1e-2, checkpoint_every=100)

    def killed(self, directory, **facts):
        raise KeyboardInterrupt  # as a kill after the last step, before the model is on disk

    save = VLM.save
    monkeypatch.setattr(VLM, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        train_stage(make_vlm(), items, settings, out=tmp_path / "s2", features=cache, progress=False)
    monkeypatch.setattr(VLM, "save", save)
    trained, result = train_stage(make_vlm(), items, settings, out=tmp_path / "s2", features=cache,
                                  progress=False)
    assert result.resumed_from == result.steps > 0  # nothing trained again
    assert (tmp_path / "s2" / "card.json").exists() and not (tmp_path / "s2.checkpoint").exists()


def test_the_reported_recipes_are_presets_and_a_flat_trainer_key_names_its_new_place():
    import pytest

    from steervis.config import load_config
    from steervis.errors import SteervisError

    s1 = load_config(StageSettings, preset="llava-stage1")
    s2 = load_config(StageSettings, preset="llava-stage2")
    assert (s1.stage, s1.pool_items, s1.train.batch_size, s1.train.lr, s1.train.warmup) == \
        (1, 800, 8, 1e-3, 0.03)
    assert (s2.stage, s2.pool_items, s2.describe_items, s2.vqa_images) == (2, 3000, 500, 1200)
    assert (s2.train.batch_size, s2.train.lr, s2.train.warmup, s2.lora.r, len(s2.lora.target_modules)) == \
        (8, 3e-4, 0.03, 16, 7)
    # a nested section given in part keeps the stage's own defaults for the rest (not LoraSettings()'s r=8)
    assert load_config(StageSettings, overrides=["lora.dropout=0.1"]).lora.r == 16
    with pytest.raises(SteervisError, match=r"max_steps is now train.max_steps"):
        load_config(StageSettings, overrides=["max_steps=3"])


def test_a_corrupt_image_in_the_training_data_is_left_out_and_said(tiny_vlm, colour_images, tmp_path,
                                                                   fake_tower, caplog):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")  # a PNG signature, then nothing an image decoder reads
    items = _items(colour_images, 1) + [Item("sha-broken", str(bad), [("<image>\n", "a red square.")])]
    cache = FeatureCache(fake_tower, tmp_path / "features")
    with caplog.at_level("WARNING"):
        vlm, result = train_stage(tiny_vlm, items, _stage(1, epochs=1, batch_size=3), features=cache,
                                  progress=False)
    assert any("broken.png" in r.getMessage() for r in caplog.records)
    card = vlm.stages["1"]
    assert card["data"]["conversations"] == len(colour_images) and card["training"]["skipped_images"] == 1
    with pytest.raises(SteervisError, match="not an image"):  # evaluation still refuses a bad file
        cache.features(["sha-broken"], [bad])
