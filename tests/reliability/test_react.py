"""The knowledge pool and REACT: bad input to ``steervis retrieve`` and ``steervis react customize`` (an empty
class list, class words no pool text names, no pool built), and kill -9 during ``steervis data build pool``
and ``steervis react customize``. The pool build reads the registry packages the user's own cache already
holds (linked, read-only) and is skipped when it has none."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from workspace import Outcome, Workspace, kill_at, refused, resumed, row, same_tensors, seen_line, toy_pool

from steervis.card import CARD_NAME, read_card

pytestmark = pytest.mark.slow

# The packages `steervis data build pool` unpacks, under STEERVIS_HOME/downloads/unpacked.
POOL_TREES = ("fonts-symbola", "npm-openmoji", "openclipart-png", "openclipart-svg",
              "tuxpaint-stamps-default")
TINY_REACT = ["--base", "tiny-clip", "--k", "4", "--quiet"]
VERBS = {"retrieve": (["retrieve"], ["--quiet"]), "react": (["react", "customize"], TINY_REACT)}


def _rows(kind: str, title: str) -> list:
    return [pytest.param(slug, id=slug, marks=row(f"input-{slug}-{kind}", title.format(" ".join(verb))))
            for slug, (verb, _) in VERBS.items()]


@pytest.mark.parametrize("slug", _rows("empty-classes", "`steervis {} --classes ','` (an empty class list)"))
def test_an_empty_class_list_is_refused(ws, record, slug):
    toy_pool(ws)
    verb, extra = VERBS[slug]
    record(refused(ws.steervis(*verb, "--classes", ",", *extra)))


@pytest.mark.parametrize("slug", _rows("unknown-classes",
                                       "`steervis {} --classes xyzzy,qwfp` (words no pool text names)"))
def test_classes_no_pool_text_names_are_refused(ws, record, slug):
    toy_pool(ws)
    verb, extra = VERBS[slug]
    outcome = refused(ws.steervis(*verb, "--classes", "xyzzy,qwfp", *extra))
    if slug == "react":
        made = list((ws.home / "models" / "react").glob(f"*/{CARD_NAME}"))
        outcome.also(not made, ", no model trained", ", BUT A MODEL WAS TRAINED ON UNRELATED PAIRS")
    record(outcome)


@pytest.mark.parametrize("slug", _rows("no-pool", "`steervis {} --classes circle` before any pool is built"))
def test_no_pool_is_refused(ws, record, slug):
    verb, extra = VERBS[slug]
    record(refused(ws.fresh(f"no-pool-{slug}").steervis(*verb, "--classes", "circle", *extra)))


@row("input-retrieve-some-unknown",
     "`steervis retrieve --classes circle,xyzzy` (one word no pool text names)")
def test_one_unknown_class_word_is_named_in_a_warning(ws, record):
    toy_pool(ws)
    out = ws.root / "retrieved-some.parquet"
    proc = ws.steervis("retrieve", "--classes", "circle,xyzzy", "--k", "3", "--quiet", "--out", out)
    warned = "xyzzy" in proc.stderr and proc.returncode == 0
    record(Outcome(seen_line(proc), proc.returncode, "a warning names xyzzy; pairs retrieved for both"
                   if warned else "NO WARNING NAMING XYZZY", warned))


def link_pool_packages(ws: Workspace) -> bool:
    """Link the user's unpacked pool packages and copy minidomains into ``ws`` (nothing of theirs
    written)."""
    from steervis.paths import steervis_home

    user = steervis_home()  # this process's cache: the user's, not the workspace's
    trees = user / "downloads" / "unpacked"
    minidomains = user / "data" / "minidomains"
    if (not all((trees / t / ".complete").exists() for t in POOL_TREES)
            or not (minidomains / "manifest.parquet").exists()):
        return False
    (ws.home / "downloads" / "unpacked").mkdir(parents=True, exist_ok=True)
    for tree in POOL_TREES:  # complete trees are only read (fetch returns them at once)
        link = ws.home / "downloads" / "unpacked" / tree
        if not link.exists():
            link.symlink_to(trees / tree, target_is_directory=True)
    if not (ws.home / "data" / "minidomains").exists():  # a copy: 9 MB, and the build only reads it
        shutil.copytree(minidomains, ws.home / "data" / "minidomains", symlinks=True)
    return True


@row("kill-pool-build", "kill -9 `steervis data build pool --max-items 120` after 30 finished images",
     group="kill -9")
def test_a_killed_pool_build_resumes_byte_for_byte(ws, record):
    sub, clean = ws.fresh("kill-pool"), ws.fresh("kill-pool-clean")
    if not (link_pool_packages(sub) and link_pool_packages(clean)):
        pytest.skip("the pool's packages are not in this cache (run `steervis data build pool` once)")
    args = ["data", "build", "pool", "--max-items", "120"]
    data = sub.home / "data"
    before: dict[str, int] = {}  # image → mtime, as the kill found them in the build's staging folder

    def point() -> bool:
        staged = {str(p.relative_to(d)): p for d in data.glob("pool.partial-*") for p in d.rglob("*.png")}
        if len(staged) < 30:
            return False
        before.update({rel: p.stat().st_mtime_ns for rel, p in staged.items() if p.exists()})
        return True

    killed, rerun = kill_at(sub, args, point)
    clean.steervis(*args)
    a, b = data / "pool" / "manifest.parquet", clean.home / "data" / "pool" / "manifest.parquet"
    equal = rerun.returncode == 0 and a.exists() and b.exists() and a.read_bytes() == b.read_bytes()
    kept = sum(1 for rel, t in before.items() if (data / "pool" / rel).exists()
               and (data / "pool" / rel).stat().st_mtime_ns == t)
    outcome = resumed(killed, rerun, equal, "manifest (120 pairs, byte for byte)")
    record(outcome.also(kept == len(before) > 0, f"; {kept} of the {len(before)} images finished before the "
                        "kill reused, not redrawn", f"; ONLY {kept} of the {len(before)} images reused"))


@row("kill-react-customize", "kill -9 `steervis react customize --base tiny-clip` after its first epoch's "
     "checkpoint", group="kill -9")
def test_a_killed_react_customize_resumes(ws, record):
    args = ["react", "customize", "--classes", "circle,square,star", *TINY_REACT]
    sub, clean = ws.fresh("kill-react"), ws.fresh("kill-react-clean")
    toy_pool(sub), toy_pool(clean)
    checkpoints = sub.home / "models" / "checkpoints"
    killed, rerun = kill_at(sub, args, lambda: any(checkpoints.glob("*/trainer-state.json")))
    clean.steervis(*args)

    def model(w: Workspace) -> Path | None:
        found = sorted((w.home / "models" / "react").glob(f"*/{CARD_NAME}"))
        return found[0].parent if len(found) == 1 else None

    a, b = model(sub), model(clean)
    equal = rerun.returncode == 0 and a is not None and b is not None and same_tensors(a, b) and (
        read_card(a).metrics["losses"] == read_card(b).metrics["losses"])
    record(resumed(killed, rerun, equal, "weights and losses"))
