"""The tower registry: efficientnet-lite0, a CLIP vision tower (penultimate layer, CLS dropped), a timm
model."""

import numpy as np
import pytest
import torch
from PIL import Image

from steervis.errors import SteervisError
from steervis.llava.tower import FeatureCache, TowerSpec, build_tower


def _images(n=2, seed=0):
    """Noisy, non-square images: every patch differs, so pooling and token order are visible."""
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (30 + 6 * k, 40, 3), dtype=np.uint8)) for k in range(n)]


def _hidden(tower, images):
    with torch.inference_mode():
        return tower.vision(pixel_values=tower.pixels(images), output_hidden_states=True).hidden_states


def test_the_clip_tower_pools_the_penultimate_layers_patch_tokens_without_cls():
    tower = build_tower(TowerSpec("clip:tiny-clip", grid=2))
    images = _images()
    out = tower.encode(images)
    assert out.shape == (2, 4, 16) and tower.spec.dim == 16  # [n, grid², hidden_size]
    hidden = _hidden(tower, images)
    assert len(hidden) == 3  # embeddings + 2 layers: [-2] is the first layer's output
    patches = hidden[-2][:, 1:]  # 32 px / 8 px patches: a 4×4 grid after the CLS token
    manual = patches.reshape(2, 2, 2, 2, 2, 16).mean(dim=(2, 4)).reshape(2, 4, 16)  # 2×2 blocks, row-major
    torch.testing.assert_close(out, manual)
    last = build_tower(TowerSpec("clip:tiny-clip", layer="last", grid=2)).encode(images)
    torch.testing.assert_close(
        last, hidden[-1][:, 1:].reshape(2, 2, 2, 2, 2, 16).mean(dim=(2, 4)).reshape(2, 4, 16))
    assert not torch.allclose(out, last, atol=1e-3)
    # no pooling: the patches themselves
    full = build_tower(TowerSpec("clip:tiny-clip", grid=4)).encode(images)
    torch.testing.assert_close(full, patches)
    assert not torch.allclose(full, hidden[-2][:, :16], atol=1e-3)  # CLS kept instead would differ


def test_the_default_tower_is_efficientnet_lite0s_last_block():
    from steervis.llava.tower import EfficientNetTower

    tower = build_tower(TowerSpec())
    assert isinstance(tower, EfficientNetTower) and tower.spec.layer == "blocks"
    assert tower.encode(_images(1)).shape == (1, 16, 320)


def test_a_saved_clip_folder_loads_through_the_hub_path_with_the_same_tokens(tmp_path):
    from steervis import zoo

    clip = zoo.load("tiny-clip", kind="clip")
    clip.model.save_pretrained(tmp_path / "clip")
    clip.processor.image_processor.save_pretrained(tmp_path / "clip")
    spec = TowerSpec(f"clip:{tmp_path / 'clip'}", grid=2)
    assert spec.dim == 16  # CLIPVisionConfig read from a full CLIP's config.json
    images = _images()
    torch.testing.assert_close(build_tower(spec).encode(images),
                               build_tower(TowerSpec("clip:tiny-clip", grid=2)).encode(images))


def test_each_tower_recipe_has_its_own_feature_cache(tmp_home):
    specs = [TowerSpec(), TowerSpec(layer="head"), TowerSpec(grid=2), TowerSpec("clip:tiny-clip"),
             TowerSpec("clip:tiny-clip", layer="last"), TowerSpec("clip:openai/clip-vit-large-patch14-336"),
             TowerSpec("timm:resnet18"), TowerSpec("timm:resnet18.a1_in1k")]
    ids = [s.id for s in specs]
    assert len(set(ids)) == len(ids) and not any(c in i for i in ids for c in ":/")
    assert ids[0] == "efficientnet-lite0-blocks-g4-224pad"
    assert ids[5] == "clip-openai--clip-vit-large-patch14-336-penultimate-g4-pad"
    cache = FeatureCache(build_tower(TowerSpec("clip:tiny-clip", grid=2)))
    assert cache.store.dir.parent == tmp_home / "vlm-features"  # named by the recipe and its identity key
    assert cache.store.dir.name.startswith("clip-tiny-clip-penultimate-g2-pad-")


def test_a_tiny_vlm_on_the_clip_tower_answers_scores_and_reloads(tmp_path):
    from steervis.llava import VLM, VLMConfig

    vlm = VLM.create(VLMConfig(lm="tiny-llama", tower="clip:tiny-clip"))
    assert vlm.config.layer == "penultimate" and vlm.image_tokens == 16
    assert vlm.lm.splicer.projector[0].in_features == 16  # the CLIP's hidden_size
    torch.manual_seed(0)
    with torch.no_grad():
        for p in vlm.lm.model.parameters():
            p.normal_(0, 0.5)  # wider than the default init, so greedy answers are not all "\n"
    images = [Image.new("RGB", (40, 30), "red"), Image.new("RGB", (30, 50), "blue")]
    answers = vlm.ask(images, ["What colour is it?"] * 2, max_new_tokens=4)
    assert len(answers) == 2 and all(answers)
    probs = vlm.score(images, ["red", "blue", "green"])
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    assert np.abs(probs[0] - probs[1]).max() > 1e-3  # the two images reach the LM differently
    tokens = build_tower(TowerSpec("clip:tiny-clip")).encode(images)
    np.testing.assert_allclose(vlm.score(list(tokens), ["red", "blue", "green"]), probs, atol=1e-6)
    vlm.save(tmp_path / "vlm")
    loaded = VLM.load(tmp_path / "vlm")
    assert (loaded.config.tower, loaded.config.layer) == ("clip:tiny-clip", "penultimate")
    # the LM was re-drawn above; the projector reloads
    loaded.lm.model.load_state_dict(vlm.lm.model.state_dict())
    np.testing.assert_allclose(loaded.score(images, ["red", "blue", "green"]), probs, atol=1e-6)


@pytest.mark.parametrize(("name", "layer", "grid", "message"), [
    ("clp:tiny-clip", "", 4, "Unknown vision tower 'clp'. Did you mean 'clip'?"),
    ("clip", "", 4, "The clip tower needs a model: clip:<hub id or tiny-clip>."),
    ("efficientnet-lite0:b0", "", 4, "The efficientnet-lite0 tower takes no model"),
    ("clip:tiny-clip", "blocks", 4,
     "The clip:tiny-clip tower has no layer 'blocks': choose one of penultimate, last."),
    ("clip:tiny-clip", "", 5, "grid=5 gives 25 visual tokens; at most 16."),
])
def test_bad_tower_names_layers_and_grids_are_one_sentence(name, layer, grid, message):
    with pytest.raises(SteervisError) as err:
        TowerSpec(name, layer, grid)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


@pytest.mark.parametrize(("name", "message"), [
    ("clip:tiny-clp", "Unknown model 'tiny-clp'. Did you mean 'tiny-clip'?"),
    ("clip:tiny-llama", "'tiny-llama' is a causal-lm model, but a clip model is needed here."),
    ("clip:no-org/no-such-clip", "Model 'no-org/no-such-clip' is not available"),
])
def test_a_clip_tower_on_a_wrong_model_is_one_sentence(name, message):
    from steervis.llava import VLM, VLMConfig

    with pytest.raises(SteervisError) as err:
        VLM.create(VLMConfig(lm="tiny-llama", tower=name))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_vlm_train_refuses_an_unknown_tower_in_one_line(capsys):
    from steervis.cli import main

    assert main(["vlm", "train", "--stage", "1", "--tower", "clp:tiny-clip",
                 "--set", "train.max_steps=1"]) == 2
    err = capsys.readouterr().err
    assert "Unknown vision tower 'clp'" in err and len(err.strip().splitlines()) == 1


class _TwoStages(torch.nn.Module):
    """What ``timm.create_model(..., features_only=True)`` returns: a list of feature maps, deepest last."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.b = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1)

    def forward(self, x):
        first = self.a(x)
        return [first, self.b(first)]


def test_the_timm_tower_pools_the_last_feature_map_of_what_timm_builds():
    from steervis.llava.timm_tower import TimmTower

    config = {"input_size": (3, 32, 24), "mean": (0.5, 0.25, 0.75), "std": (0.5, 0.5, 0.25)}
    tower = TimmTower(TowerSpec("timm:any", grid=2), model=_TwoStages(), data_config=config)
    images = _images()
    pixels = tower.pixels(images)
    assert pixels.shape == (2, 3, 32, 24)
    mean_colour = Image.new("RGB", (10, 30), (128, 64, 191))
    assert tower.pixels([mean_colour]).abs().max() < 0.02  # padding and the image itself normalise to ~0
    with torch.no_grad():
        last = tower.model(pixels)[-1]  # [2, 6, 8, 6]
    manual = last.reshape(2, 6, 2, 4, 2, 3).mean(dim=(3, 5)).flatten(2).transpose(1, 2)
    torch.testing.assert_close(tower.encode(images), manual)


def _timm_or_skip():
    from steervis.llava.timm_tower import import_timm

    try:
        return import_timm()
    except SteervisError as err:
        pytest.skip(str(err))


def test_a_real_timm_model_gives_its_last_maps_channels():
    _timm_or_skip()
    from steervis.llava.timm_tower import TimmTower

    spec = TowerSpec("timm:resnet18", grid=2)
    tower = TimmTower(spec, pretrained=False)
    assert spec.dim == 512 and tower.encode(_images(1)).shape == (1, 4, 512)
    with pytest.raises(SteervisError, match="timm has no model 'resnet1'"):
        _ = TowerSpec("timm:resnet1").dim


def test_where_timm_cannot_import_the_tower_says_why_in_one_sentence():
    from steervis.llava.timm_tower import import_timm

    try:
        import_timm()
    except SteervisError:
        pass
    else:
        pytest.skip("timm imports here")
    with pytest.raises(SteervisError) as err:
        _ = TowerSpec("timm:resnet18").dim
    assert str(err.value).startswith("timm needs torchvision, which") and "\n" not in str(err.value)
