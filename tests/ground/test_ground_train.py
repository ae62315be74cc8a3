"""The GLIP-style head learns: a tiny one overfits four toy scenes of coloured squares (AP50 far above its
untrained value), its loss falls, a killed run resumes to the same weights, the fusion block trains, and
token states read from the text cache train the weights computed ones train."""

from __future__ import annotations

import pytest
import torch

from steervis.data.images import open_image
from steervis.ground.coco import coco_set_ap, read_coco
from steervis.ground.features import GridCache, image_keys
from steervis.ground.glip import GlipGrounder, InferSettings
from steervis.ground.model import GlipConfig, GlipHead
from steervis.ground.parts import TEXT_ENCODERS
from steervis.ground.train import CHECKPOINT, GroundSettings, GroundTrain, train_head

TINY = GlipConfig(trunk="tiny", stride=16, size=128, text="tiny-bert", hidden=32)


def _setup(folder, tmp_path, steps, fusion=False, checkpoint_every=50):
    coco = read_coco(folder)
    settings = GroundSettings(coco=str(folder), model=GlipConfig(**{**TINY.__dict__, "fusion": fusion}),
                              train=GroundTrain(batch_size=4, max_steps=steps, lr=1e-2, negatives=2,
                                                warmup=0.0, checkpoint_every=checkpoint_every), device="cpu")
    paths = [i.path for i in coco.images]
    keys = image_keys(paths)
    grids = GridCache(settings.model.trunk_spec(), tmp_path / "cache", device="cpu").features(keys, paths)
    return coco, settings, grids, keys


def test_a_tiny_grounder_overfits_toy_scenes(toy_coco, tmp_path):
    coco, settings, grids, keys = _setup(toy_coco, tmp_path, steps=60)
    text = TEXT_ENCODERS.get("tiny-bert")(device="cpu")
    untrained = GlipGrounder.create(settings.model, device="cpu", settings=InferSettings(threshold=0.0))
    images = [open_image(i.path) for i in coco.images]
    prompt = ". ".join(coco.names)
    before = coco_set_ap(coco, untrained.ground(images, prompt))
    losses = []
    head, result = train_head(settings, coco, grids, text, tmp_path / "out", keys,
                              on_step=lambda step, terms: losses.append(terms["loss"]))
    trained = GlipGrounder(head, untrained.trunk, text, InferSettings(threshold=0.0))
    after = coco_set_ap(coco, trained.ground(images, prompt))
    assert before["ap50"] < 0.1 and after["ap50"] > 0.6, (before, after)
    assert sum(losses[-10:]) < 0.6 * sum(losses[:10])
    assert result.steps == 60 and (tmp_path / "out" / "model.safetensors").exists()
    assert not (tmp_path / "out" / CHECKPOINT / "trainer-state.json").exists()  # finished: removed


def test_a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one(toy_coco, tmp_path):
    coco, settings, grids, keys = _setup(toy_coco, tmp_path, steps=8, checkpoint_every=2)
    text = TEXT_ENCODERS.get("tiny-bert")(device="cpu")
    whole, _ = train_head(settings, coco, grids, text, tmp_path / "whole", keys)

    def kill(step, terms):
        if step == 5:  # the checkpoint of step 4 is on disk; step 5's work is lost, as after kill -9
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_head(settings, coco, grids, text, tmp_path / "cut", keys, on_step=kill)
    assert (tmp_path / "cut" / CHECKPOINT / "trainer-state.json").exists()
    resumed, result = train_head(settings, coco, grids, text, tmp_path / "cut", keys)
    assert result.resumed_from == 4 and result.steps == 8
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_the_fusion_block_trains(toy_coco, tmp_path):
    coco, settings, grids, keys = _setup(toy_coco, tmp_path, steps=12, fusion=True)
    text = TEXT_ENCODERS.get("tiny-bert")(device="cpu")
    torch.manual_seed(settings.train.seed)  # the initial weights the trainer starts from
    fresh = GlipHead(settings.model).fusion.state_dict()
    head, result = train_head(settings, coco, grids, text, tmp_path / "out", keys)
    moved = [k for k, v in head.fusion.state_dict().items() if not torch.equal(v, fresh[k])]
    assert head.fusion is not None and len(moved) > 4
    assert result.losses[-1] < result.losses[0]


class _Counting:
    """A text encoder that counts its forward passes."""

    def __init__(self, text):
        self.text, self.model, self.tokenizer, self.calls = text, text.model, text.tokenizer, 0

    def states(self, ids, mask):
        self.calls += 1
        return self.text.states(ids, mask)


@pytest.mark.parametrize("fusion", [False, True])
def test_cached_token_states_train_the_weights_computed_ones_train(toy_coco, tmp_path, fusion):
    from steervis.ground.text_cache import TextStateCache

    coco, settings, grids, keys = _setup(toy_coco, tmp_path, steps=5, fusion=fusion)
    text = _Counting(TEXT_ENCODERS.get("tiny-bert")(device="cpu"))
    plain, plain_run = train_head(settings, coco, grids, text, tmp_path / "plain", keys)
    cache = TextStateCache("tiny-bert", tmp_path / "text")
    runs = []
    for name in ("cold", "warm"):
        text.calls = 0
        head, run = train_head(settings, coco, grids, text, tmp_path / name, keys, text_cache=cache)
        runs.append((head, run, text.calls))
    assert [calls for _, _, calls in runs] == [5, 0] and (cache.misses, cache.hits) == (5, 5)
    for head, run, _ in runs:
        assert run.losses == plain_run.losses
        for (name, a), b in zip(plain.state_dict().items(), head.state_dict().values(), strict=True):
            assert torch.equal(a, b), name


def test_a_damaged_token_state_file_is_encoded_again(toy_coco, tmp_path):
    from steervis.ground.text_cache import TextStateCache

    coco, settings, grids, keys = _setup(toy_coco, tmp_path, steps=2)
    text = TEXT_ENCODERS.get("tiny-bert")(device="cpu")
    cache = TextStateCache("tiny-bert", tmp_path / "text")
    first, _ = train_head(settings, coco, grids, text, tmp_path / "a", keys, text_cache=cache)
    files = sorted(cache.dir.rglob("*.safetensors"))
    assert len(files) == 2
    files[0].write_bytes(files[0].read_bytes()[:100])  # truncated, as by a full disk
    again, _ = train_head(settings, coco, grids, text, tmp_path / "b", keys, text_cache=cache)
    assert (cache.misses, cache.hits) == (3, 1) and len(list(cache.dir.rglob("*.corrupt"))) == 1
    for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
