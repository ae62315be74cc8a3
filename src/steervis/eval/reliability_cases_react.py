"""The rows of ``steervis bench reliability`` for the knowledge pool and REACT.

Bad input to ``steervis retrieve`` and ``steervis react customize`` (an empty class list, class words no pool
text names, no pool built), and kill -9 during ``steervis data build pool`` and ``steervis react customize``.
The pool rows use a toy pool (:func:`~steervis.data.synthetic.make_toy_pool`) in the workspace's cache; the
pool build reads the registry packages the user's own cache already holds (linked, read-only) and is skipped
when it has none.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from steervis.card import CARD_NAME, read_card
from steervis.eval.reliability import Outcome, Workspace, case, kill_at, refused, resumed, seen_line

# The packages `steervis data build pool` unpacks, under STEERVIS_HOME/downloads/unpacked.
POOL_TREES = ("fonts-symbola", "npm-openmoji", "openclipart-png", "openclipart-svg",
              "tuxpaint-stamps-default")
TINY_REACT = ["--base", "tiny-clip", "--k", "4", "--quiet"]


def toy_pool(ws: Workspace) -> Path:
    """The toy knowledge pool where ``steervis`` looks by default: the workspace's STEERVIS_HOME/data/pool."""
    from steervis.data.synthetic import make_toy_pool

    root = ws.home / "data" / "pool"
    return root if (root / "manifest.parquet").exists() else make_toy_pool(root)


def same_tensors(a: Path, b: Path) -> bool:
    """Whether two saved models hold the same ``*.safetensors`` files with bitwise-equal tensors."""
    from safetensors.torch import load_file

    names = sorted(p.relative_to(a) for p in a.rglob("*.safetensors"))
    if not names or names != sorted(p.relative_to(b) for p in b.rglob("*.safetensors")):
        return False
    for name in names:
        x, y = load_file(str(a / name)), load_file(str(b / name))
        if x.keys() != y.keys() or not all(x[k].shape == y[k].shape and bool((x[k] == y[k]).all())
                                           for k in x):
            return False
    return True


# ---- bad input: one sentence, exit 2 -----------------------------------------------------------------------
def _bad_classes(verb: list[str], slug: str) -> None:
    shown = " ".join(verb)

    @case(f"input-{slug}-empty-classes", f"`steervis {shown} --classes ','` (an empty class list)")
    def empty(ws: Workspace) -> Outcome:
        toy_pool(ws)
        return refused(ws.steervis(*verb, "--classes", ",",
                                   *(TINY_REACT if verb[0] == "react" else ["--quiet"])))

    @case(f"input-{slug}-unknown-classes",
          f"`steervis {shown} --classes xyzzy,qwfp` (words no pool text names)")
    def unknown(ws: Workspace) -> Outcome:
        toy_pool(ws)
        args = TINY_REACT if verb[0] == "react" else ["--quiet"]
        outcome = refused(ws.steervis(*verb, "--classes", "xyzzy,qwfp", *args))
        if verb[0] == "react":
            made = list((ws.home / "models" / "react").glob(f"*/{CARD_NAME}"))
            outcome.result += (", no model trained" if not made
                               else ", BUT A MODEL WAS TRAINED ON UNRELATED PAIRS")
        return outcome

    @case(f"input-{slug}-no-pool", f"`steervis {shown} --classes circle` before any pool is built")
    def no_pool(ws: Workspace) -> Outcome:
        sub = ws.fresh(f"no-pool-{slug}")
        args = TINY_REACT if verb[0] == "react" else ["--quiet"]
        return refused(sub.steervis(*verb, "--classes", "circle", *args))


_bad_classes(["retrieve"], "retrieve")
_bad_classes(["react", "customize"], "react")


@case("input-retrieve-some-unknown",
      "`steervis retrieve --classes circle,xyzzy` (one word no pool text names)")
def _some_unknown(ws: Workspace) -> Outcome:
    toy_pool(ws)
    out = ws.root / "retrieved-some.parquet"
    proc = ws.steervis("retrieve", "--classes", "circle,xyzzy", "--k", "3", "--quiet", "--out", out)
    warned = "xyzzy" in proc.stderr and proc.returncode == 0
    # retrieve's default matcher is ConSE (embedded packages); a cache without it says so in one sentence.
    return Outcome(seen_line(proc), proc.returncode,
                   "a warning names xyzzy; pairs retrieved for both" if warned
                   else refused(proc).result)


# ---- kill -9 and rerun ----------------------------------------------------------------------------------
def link_pool_packages(ws: Workspace) -> bool:
    """Link the user's unpacked pool packages and copy minidomains into ``ws`` (nothing of theirs is
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


@case("kill-pool-build", "kill -9 `steervis data build pool --max-items 120` after 30 finished images",
      group="kill -9")
def _kill_pool_build(ws: Workspace) -> Outcome:
    sub, clean = ws.fresh("kill-pool"), ws.fresh("kill-pool-clean")
    if not (link_pool_packages(sub) and link_pool_packages(clean)):
        return Outcome("", None,
                       "SKIPPED: the pool's packages are not in this cache (run `steervis data build "
                       "pool` once)")
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
    outcome.result += f"; {kept} of the {len(before)} images finished before the kill reused, not redrawn"
    return outcome


@case("kill-react-customize", "kill -9 `steervis react customize --base tiny-clip` after its first epoch's "
      "checkpoint", group="kill -9")
def _kill_react(ws: Workspace) -> Outcome:
    def args() -> list:
        return ["react", "customize", "--classes", "circle,square,star", *TINY_REACT]

    sub, clean = ws.fresh("kill-react"), ws.fresh("kill-react-clean")
    toy_pool(sub), toy_pool(clean)
    checkpoints = sub.home / "models" / "checkpoints"
    killed, rerun = kill_at(sub, args(), lambda: any(checkpoints.glob("*/trainer-state.json")))
    clean.steervis(*args())

    def model(w: Workspace) -> Path | None:
        found = sorted((w.home / "models" / "react").glob(f"*/{CARD_NAME}"))
        return found[0].parent if len(found) == 1 else None

    a, b = model(sub), model(clean)
    equal = rerun.returncode == 0 and a is not None and b is not None and same_tensors(a, b) and (
        read_card(a).metrics["losses"] == read_card(b).metrics["losses"])
    return resumed(killed, rerun, equal, "weights and losses")
