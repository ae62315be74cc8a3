"""``engine: ray`` (Ray Data, local mode, 2 actors) gives the same store and descriptions as the local
engine."""

import pytest

from steervis.data import load_folder, make_toy_dataset
from steervis.vllavo.describe import DescribeConfig, describe

pytest.importorskip("ray")


@pytest.mark.slow  # starting Ray and two actors takes ~20 s on 2 cores
def test_ray_engine_matches_local(tmp_home, tmp_path):
    frame = load_folder(make_toy_dataset(tmp_path / "toy", classes=("circle", "square"), per_class=2,
                                         size=32)).frame
    vocab = tmp_path / "tags.txt"
    vocab.write_text("circle\nsquare\ntriangle\nhouse\n")
    common = {"matcher": "tiny-clip", "tag_vocab": str(vocab), "batch_size": 3, "tag_threshold": 0.0}
    local = describe(frame, DescribeConfig(store=str(tmp_path / "local"), **common), progress=False)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"STEERVIS_HOME": str(tmp_home), "HF_HUB_OFFLINE": "1"}})
    try:
        remote = describe(frame,
                          DescribeConfig(store=str(tmp_path / "ray"), engine="ray", ray_actors=2, **common),
                          progress=False)
    finally:
        ray.shutdown()
    assert remote.summary.described == len(frame) == 8
    for a, b in zip(local, remote, strict=True):
        assert [t for t, _ in a.tags] == [t for t, _ in b.tags]
        assert [x for x, _ in a.attributes] == [x for x, _ in b.attributes]
        assert [s for _, s in a.tags] == pytest.approx([s for _, s in b.tags], abs=1e-3)
