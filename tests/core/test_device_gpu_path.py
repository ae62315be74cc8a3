"""The GPU path's decisions, taken on the CPU with the card faked: Apple GPUs refused, an out-of-memory error
named by its batch-size setting, hub checkpoints loaded with SDPA attention and spread over the cards only
when they do not fit one, and Ray describe actors asking for cards only where there are some."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from steervis.device import names_batch_size, resolve_device
from steervis.errors import SteervisError
from steervis.zoo import placement


def test_mps_is_refused_in_one_sentence_naming_what_works():
    with pytest.raises(SteervisError) as err:
        resolve_device("mps")
    message = str(err.value)
    assert "untested" in message and "cuda:N" in message and "\n" not in message


def test_out_of_memory_becomes_one_sentence_naming_the_setting():
    @names_batch_size("describe.batch_size")
    def run():
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    with pytest.raises(SteervisError, match=r"^The GPU ran out of memory: lower describe\.batch_size") as err:
        run()
    assert err.value.__cause__ is None and "\n" not in str(err.value)


def test_describe_names_its_batch_size_when_the_card_runs_out(tmp_home, tmp_path):
    from steervis.data import load_folder, make_toy_dataset
    from steervis.vllavo.describe import DescribeConfig, describe

    class OutOfMemory:
        """Prepares images on the host; runs out of card memory in its models' pass."""

        def prepare(self, image):
            return image

        def __getattr__(self, name):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    frame = load_folder(make_toy_dataset(tmp_path / "toy", classes=("circle",), per_class=1, size=32)).frame
    with pytest.raises(SteervisError, match="the describer's batch_size"):
        describe(frame, DescribeConfig(attribute_vocab=""), progress=False, describer=OutOfMemory())


def test_other_errors_pass_through_unchanged():
    @names_batch_size("decide.score_batch")
    def run():
        raise ValueError("not memory")

    with pytest.raises(ValueError, match="not memory"):
        run()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """tiny-llama saved as a hub-style folder (a local folder loads through the hub loaders)."""
    from steervis import zoo

    folder = tmp_path_factory.mktemp("ckpt") / "tiny-llama"
    bundle = zoo.load("tiny-llama", kind="causal-lm")
    bundle.model.save_pretrained(folder)
    bundle.tokenizer.save_pretrained(folder)
    return folder


def test_hub_options_spread_a_checkpoint_only_when_it_outgrows_the_card(checkpoint, monkeypatch):
    size = placement.checkpoint_bytes(str(checkpoint))
    assert size == (checkpoint / "model.safetensors").stat().st_size > 0
    cuda = torch.device("cuda", 0)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (size * 10, size * 20))
    fits = placement.hub_options(str(checkpoint), cuda, torch.bfloat16)
    assert fits == {"dtype": torch.bfloat16, "attn_implementation": "sdpa"}
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (size // 2, size * 20))
    assert placement.hub_options(str(checkpoint), cuda, torch.bfloat16)["device_map"] == "auto"
    assert "device_map" not in placement.hub_options(str(checkpoint), torch.device("cpu"), torch.float32)
    assert placement.hub_options("org/never-downloaded", torch.device("cpu"), torch.float32,
                                 device_map="auto")["device_map"] == "auto"


def test_a_hub_checkpoint_loads_with_sdpa_attention_and_on_request_through_accelerate(checkpoint,
                                                                                        monkeypatch):
    import steervis.device
    from steervis import zoo

    plain = zoo.load(str(checkpoint), kind="causal-lm", device="cpu", dtype="bfloat16")
    assert plain.model.config._attn_implementation == "sdpa"
    assert {p.dtype for p in plain.model.parameters()} == {torch.bfloat16}

    def moved(*args, **kwargs):
        raise AssertionError("a model accelerate placed was moved again")

    monkeypatch.setattr(steervis.device, "place", moved)
    spread = zoo.load(str(checkpoint), kind="causal-lm", device="cpu", device_map="auto")
    assert spread.model.config._attn_implementation == "sdpa"
    assert {p.device.type for p in spread.model.parameters()} == {"cpu"}


@pytest.mark.parametrize(("gpus", "actors", "device", "asked"), [
    (0, 2, "auto", {}),  # no card: CPU actors
    (4, 2, "auto", {"num_gpus": 1.0}),  # a card each
    (1, 4, "auto", {"num_gpus": 0.25}),  # four actors share one card
    (8, 2, "cpu", {}),  # asked for the CPU: no card reserved
])
def test_ray_describe_asks_for_cards_per_actor_where_there_are_some(gpus, actors, device, asked):
    from steervis.vllavo.describe import DescribeConfig
    from steervis.vllavo.describe.ray_engine import actor_resources

    assert actor_resources(DescribeConfig(ray_actors=actors, device=device), gpus) == asked


def test_ray_describe_passes_the_request_to_map_batches(monkeypatch):
    """The request reaches Ray Data: a faked cluster with two cards, a faked dataset that records it."""
    from steervis.vllavo.describe import DescribeConfig, ray_engine

    seen = {}

    class Dataset:
        def map_batches(self, fn, **kwargs):
            seen.update(kwargs)
            return self

        def iter_batches(self, **kwargs):
            yield pd.DataFrame([{"sha256": "a", "status": "ok", "error": None, "description": {}}])

    class FakeRay:
        data = type("data", (), {"from_items": staticmethod(lambda items: Dataset())})

        @staticmethod
        def cluster_resources():
            return {"CPU": 16.0, "GPU": 2.0}

    pytest.importorskip("ray")
    monkeypatch.setattr(ray_engine, "_init_ray", lambda: FakeRay)
    config = DescribeConfig(engine="ray", ray_actors=4)
    assert next(ray_engine.ray_records([("a", "a.png")], config))[0]["sha256"] == "a"
    assert seen["num_gpus"] == 0.5 and seen["compute"].max_size == 4


def test_the_decider_names_its_score_batch_when_the_card_runs_out(monkeypatch):
    from steervis.vllavo.decide import decider as module
    from steervis.vllavo.decide.config import DecideConfig

    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(module, "score", out_of_memory)
    decider = module.Decider(DecideConfig(model="tiny-llama"))
    decider.classes = ["cat", "dog"]
    with pytest.raises(SteervisError, match="lower the decider's score_batch"):
        decider.predict_proba(["a photo of fur"])
