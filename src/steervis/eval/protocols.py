"""Evaluation protocols: leave-one-domain-out (DG), source → target adaptation (UDA) and few-shot splits.

Each protocol registers in ``PROTOCOLS`` as a function ``(frame, config) → splits``; its ``adapt`` metadata
says whether methods that declare the ``adapt`` capability self-train on each unlabelled test domain.

>>> import pandas as pd
>>> frame = pd.DataFrame({"domain": ["a", "a", "b", "c"], "class": ["x", "y", "x", "y"]})
>>> [(s.name, len(s.train), len(s.test)) for s in dg_splits(frame)]
[('a', 2, 2), ('b', 3, 1), ('c', 3, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steervis.errors import SteervisError
from steervis.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

PROTOCOLS = Registry("protocol")


@dataclass
class Split:
    """One train/test pair; ``name`` labels it in tables (the held-out or target domain)."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame


def _check_domains(frame: pd.DataFrame, wanted: list[str]) -> None:
    present = set(frame["domain"])
    absent = [d for d in wanted if d not in present]
    if absent:
        raise SteervisError(f"Domain(s) with no images: {', '.join(absent)}. Present: "
                            f"{', '.join(sorted(present))}.")


def dg_splits(frame: pd.DataFrame, held_out: list[str] | None = None) -> list[Split]:
    """Train on every other domain, test on each held-out domain (all domains when ``held_out`` is empty)."""
    domains = sorted(frame["domain"].unique())
    if len(domains) < 2:
        raise SteervisError("Leave-one-domain-out needs at least two domains.")
    held_out = list(held_out or domains)
    _check_domains(frame, held_out)
    return [
        Split(d, frame[frame["domain"] != d].reset_index(drop=True),
              frame[frame["domain"] == d].reset_index(drop=True))
        for d in held_out
    ]


def uda_splits(frame: pd.DataFrame, source: list[str], targets: list[str]) -> list[Split]:
    """Labelled source domains → each unlabelled target domain (its labels are kept only for scoring)."""
    if not source or not targets:
        raise SteervisError("UDA needs source domains and at least one target domain (uda.source, "
                            "uda.targets).")
    _check_domains(frame, [*source, *targets])
    if set(source) & set(targets):
        raise SteervisError("A UDA target domain cannot also be a source domain.")
    train = frame[frame["domain"].isin(source)].reset_index(drop=True)
    return [Split(f"{'+'.join(source)}→{t}", train, frame[frame["domain"] == t].reset_index(drop=True))
            for t in targets]


def few_shot_splits(frame: pd.DataFrame, k: int, seeds: list[int],
                    held_out: list[str] | None = None) -> list[Split]:
    """For each held-out domain (every domain when empty) and seed: ``k`` labelled images per class drawn
    from the other domains, tested on the held-out domain. A class with fewer than ``k`` images gives all it
    has (``check_splits`` then refuses a split with fewer than two classes).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"domain": list("aaaabb"), "class": list("xxyyxy"), "sha256": list("123456")})
    >>> [(s.name, sorted(s.train["class"])) for s in few_shot_splits(frame, 1, [0, 1], ["b"])]
    [('b-1shot-s0', ['x', 'y']), ('b-1shot-s1', ['x', 'y'])]
    """
    if k < 1 or not seeds:
        raise SteervisError(f"few-shot needs k >= 1 and at least one seed (few_shot.k={k}, "
                            f"few_shot.seeds={seeds}).")
    splits = []
    for base in dg_splits(frame, held_out):
        pool = base.train.sort_values([c for c in ("sha256", "path") if c in base.train])  # row order: none
        for seed in seeds:
            shots = pool.sample(frac=1.0, random_state=seed).groupby("class").head(k).sort_values("class")
            splits.append(Split(f"{base.name}-{k}shot-s{seed}", shots.reset_index(drop=True), base.test))
    return splits


def check_splits(splits: list[Split]) -> list[Split]:
    """Every split trains on at least two classes (one class is nothing to learn, and a scikit-learn
    traceback) and never on one of its test images (the same bytes in a training domain, e.g. through a copied
    folder)."""
    for split in splits:
        train_classes = sorted(split.train["class"].unique())
        if len(train_classes) < 2:
            domains = ", ".join(sorted(split.train["domain"].unique())) or "none"
            raise SteervisError(
                f"Split {split.name!r}: the training domains ({domains}) hold "
                f"{'one class, ' + repr(train_classes[0]) if train_classes else 'no images'}; training needs "
                "at least two classes. Hold out another domain, or add class folders to the training "
                "domains.")
        check_no_leak(split)
    return splits


def check_no_leak(split: Split) -> None:
    """Refuse a split whose test images (by sha256) are also among its training images."""
    if "sha256" not in split.test or "sha256" not in split.train:  # hand-made frames without hashes
        return
    leaked = split.test[split.test["sha256"].isin(set(split.train["sha256"]))]
    if leaked.empty:
        return
    test = leaked.iloc[0]
    train = split.train[split.train["sha256"] == test["sha256"]].iloc[0]
    raise SteervisError(
        f"Split {split.name!r} would test on {len(leaked)} image(s) it also trains on (the same bytes in a "
        f"training domain), e.g. {_short(test['path'])} is also {_short(train['path'])}: remove the copies "
        "(or the symlink that duplicates a folder) from one of the domains.")


def _short(path: str) -> str:
    """``domain/class/name`` of an image path: enough to find it, short enough for one sentence."""
    return "/".join(str(path).replace("\\", "/").split("/")[-3:])


@PROTOCOLS.register("dg", help="leave one domain out: train on the others, test on each held-out domain",
                    adapt=False)
def dg(frame: pd.DataFrame, config: Any) -> list[Split]:
    return dg_splits(frame, config.held_out)


@PROTOCOLS.register("uda", help="labelled source domains → each unlabelled target; adapt-capable methods "
                    "self-train on it", adapt=True)
def uda(frame: pd.DataFrame, config: Any) -> list[Split]:
    return uda_splits(frame, config.uda.source, config.uda.targets)


@PROTOCOLS.register("few-shot", help="k labelled images per class from the other domains (few_shot.k, drawn "
                    "per seed in few_shot.seeds), test on each held-out domain", adapt=False,
                    section="few_shot")
def few_shot(frame: pd.DataFrame, config: Any) -> list[Split]:
    return few_shot_splits(frame, config.few_shot.k, config.few_shot.seeds, config.held_out)


# Detection has no classification frame to split into (train, test) pairs, so it cannot be a
# ``(frame, config) → splits`` function: its entry is a whole run, ``(config, run folder, progress) →
# RunResult``, and ``frame=False`` tells the harness so. It keeps the others' run folder, lock, publication
# and report page (steervis.eval.detection).
PROTOCOLS.register("detection", "steervis.eval.detection:run_detection", help="COCO AP (AP50, AP75, per "
                   "style) of each of detection.grounders on a scenes split or COCO folder, boxes drawn",
                   adapt=False, section="detection", frame=False)
