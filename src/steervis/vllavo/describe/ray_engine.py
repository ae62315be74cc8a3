"""``engine: ray``: the same describer mapped over Ray Data blocks by a pool of actors.

Each actor builds one :class:`~steervis.vllavo.describe.describer.Describer` and describes whole batches; the
driver streams the results into the same store as the local engine, batch by batch, so a killed Ray run
resumes like a local one. On a laptop Ray starts in local mode; on a cluster ``ray.init`` finds the head
(set ``RAY_ADDRESS``).

>>> from steervis.vllavo.describe import DescribeConfig, describe
>>> out = describe(frame, DescribeConfig(engine="ray", ray_actors=2))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from steervis.errors import SteervisError
from steervis.vllavo.describe.config import DescribeConfig
from steervis.vllavo.describe.records import prepare_image, record_of

log = logging.getLogger(__name__)


class DescribeActor:
    """A Ray Data callable class: a batch of ``(sha256, path)`` rows → store records."""

    def __init__(self, config: dict[str, Any]):
        from steervis.config import from_dict
        from steervis.vllavo.describe.describer import Describer

        self.config = from_dict(DescribeConfig, config)
        self.describer = Describer(self.config)

    def __call__(self, batch: Any) -> Any:
        import pandas as pd

        records, ok = [], []
        for sha, path in zip(batch["sha256"], batch["path"], strict=True):
            prepared, error = prepare_image(self.describer, path)
            if error is None:
                ok.append((sha, prepared))
            else:
                records.append(record_of(sha, None, error))
        descs = self.describer.describe_prepared([p for _, p in ok])
        records += [record_of(sha, d) for (sha, _), d in zip(ok, descs, strict=True)]
        return pd.DataFrame(records, columns=["sha256", "status", "error", "description"])


def _init_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SteervisError("engine 'ray' needs Ray Data: pip install 'steervis[ray]'.") from None
    if not ray.is_initialized():
        ray.init(
            address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False,
            ignore_reinit_error=True, configure_logging=False,
            # Local mode needs the working package on workers' path; a cluster brings its own environment.
            runtime_env=None if os.environ.get("RAY_ADDRESS") else {"env_vars": _worker_env()},
        )
    return ray


def _worker_env() -> dict[str, str]:
    keep = ("STEERVIS_HOME", "HF_HUB_OFFLINE", "PYTHONPATH")
    return {k: os.environ[k] for k in keep if k in os.environ}


def actor_resources(config: DescribeConfig, gpus: float) -> dict[str, Any]:
    """``map_batches``' resource request per actor: with ``gpus`` cards in the cluster (and a device that may
    use one), a whole card per actor, or an equal share when there are more actors than cards; else none
    (actors use CPUs only)."""
    if not gpus or config.device == "cpu":
        return {}
    return {"num_gpus": min(1.0, gpus / config.ray_actors)}


def ray_records(todo: list[tuple[str, str]], config: DescribeConfig) -> Iterator[list[dict[str, Any]]]:
    """Describe ``(sha256, path)`` pairs with a Ray Data actor pool; yields record batches as they finish."""
    ray = _init_ray()
    from ray.data import ActorPoolStrategy

    resources = actor_resources(config, ray.cluster_resources().get("GPU", 0))

    ds = ray.data.from_items([{"sha256": s, "path": p} for s, p in todo])
    described = ds.map_batches(
        DescribeActor,
        fn_constructor_kwargs={"config": asdict(config)},
        batch_size=config.batch_size,
        batch_format="pandas",
        compute=ActorPoolStrategy(size=config.ray_actors),
        **resources,
    )
    for batch in described.iter_batches(batch_size=config.batch_size, batch_format="pandas"):
        yield batch.to_dict("records")
