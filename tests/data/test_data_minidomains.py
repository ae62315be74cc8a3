"""minidomains build logic on tiny fake package trees (fast), and the real build's invariants (slow)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from steervis.data import fetch, minidomains
from steervis.data.images import sha256_file
from steervis.data.manifest import read_manifest
from steervis.errors import SteervisError

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36"><circle cx="18" cy="18" r="{r}" '
       'fill="{c}"/></svg>')


def _stamp(path: Path, color, box=(20, 20, 80, 60), size=(400, 300)):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    img.paste(color + (255,), box)
    img.save(path)


@pytest.fixture
def fake(tmp_path, tmp_home, monkeypatch):
    """Fake unpacked packages + a 3-class mapping; 'fox' falls short of the ≥2 images × ≥3 domains rule."""
    import matplotlib

    trees = {k: tmp_path / "pkgs" / k for k in ("photo", "clipart", "twemoji", "openmoji", "openmoji_black")}
    _stamp(trees["photo"] / "animals/dog.png", (120, 80, 40))
    _stamp(trees["photo"] / "animals/dingo.png", (200, 150, 90), box=(0, 0, 400, 300))
    for i, color in enumerate([(10, 10, 10), (250, 0, 0), (0, 0, 250)]):
        _stamp(trees["clipart"] / f"mammals/dog_{i}.png", color, box=(10 * i, 5, 100, 90))
        _stamp(trees["clipart"] / f"mammals/cat_{i}.png", color, box=(5, 10 * i, 90, 100))
    _stamp(trees["clipart"] / "mammals/fox.png", (230, 120, 0))
    (trees["clipart"] / "mammals/dup_of_dog_0.png").write_bytes(
        (trees["clipart"] / "mammals/dog_0.png").read_bytes())
    for key, lower, color in (("twemoji", True, "#f80"), ("openmoji", False, "#0a0"),
                              ("openmoji_black", False, "#000")):
        trees[key].mkdir(parents=True)
        for code in ("2708", "2605"):
            name = code.lower() if lower else code.upper()
            (trees[key] / f"{name}.svg").write_text(SVG.format(r=10 + int(code[-1]), c=color))
    trees["symbola"] = Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"  # has ✈ and ★
    sources = {
        "dog": {"photo": ["animals/d*.png"], "clipart": ["mammals/dog_*.png", "mammals/dup_of_dog_0.png"],
                "emoji": ["2708"]},
        "cat": {"photo": [], "clipart": ["mammals/cat_*.png", "mammals/missing.png"], "emoji": ["2605"]},
        "fox": {"photo": [], "clipart": ["mammals/fox.png"], "emoji": []},
    }
    calls = {"fetch": 0}

    def fake_fetch(progress=True):
        calls["fetch"] += 1
        return trees

    monkeypatch.setattr(minidomains, "fetch_trees", fake_fetch)
    monkeypatch.setattr(minidomains, "load_sources", lambda extra=False: sources)
    return {"root": tmp_path / "out" / "minidomains", "trees": trees, "calls": calls, "home": tmp_home}


def test_build_layout_manifest_and_selection(fake, capsys):
    root = minidomains.build_minidomains(fake["root"], progress=True)
    assert root == fake["root"].resolve() and minidomains.is_complete(root)
    assert not list(root.parent.glob("*.partial-*"))
    manifest = read_manifest(root)
    assert set(manifest["class"]) == {"dog", "cat"}  # fox dropped by the rule
    counts = manifest.groupby(["class", "domain"]).size().to_dict()
    assert counts[("dog", "photo")] == 2 and counts[("dog", "clipart")] == 3  # duplicate pixels dropped
    assert counts[("dog", "cartoon")] == 2 and counts[("dog", "sketch")] == 2  # svg ×2; black svg + glyph
    assert ("cat", "photo") not in counts and counts[("cat", "clipart")] == 3
    for rel, digest in zip(manifest["path"], manifest["sha256"], strict=True):
        img = Image.open(root / rel)
        assert img.mode == "RGB" and max(img.size) <= 256 and sha256_file(root / rel) == digest
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png")) == sorted(manifest["path"])
    assert set(manifest["licence"]) >= {"GPL-2.0", "public-domain", "CC-BY-4.0", "CC-BY-SA-4.0"}
    assert (root / "photo/dog/tuxpaint-animals-dog.png").is_file()
    sheets = fake["home"] / "data" / "minidomains-contact"
    assert (sorted(p.name for p in sheets.iterdir())
            == ["cartoon.png", "clipart.png", "photo.png", "sketch.png"])
    out = capsys.readouterr().out
    assert "2 classes" in out and "total" in out


def test_idempotent_and_byte_identical_rebuild(fake):
    root = minidomains.build_minidomains(fake["root"], progress=False)
    first = (root / "manifest.parquet").read_bytes()
    assert minidomains.build_minidomains(fake["root"], progress=False) == root
    assert fake["calls"]["fetch"] == 1  # complete: returned without fetching anything
    minidomains.build_minidomains(fake["root"], force=True, progress=False)
    assert fake["calls"]["fetch"] == 2
    assert (root / "manifest.parquet").read_bytes() == first


def test_killed_build_leaves_nothing_complete_and_resumes(fake, monkeypatch):
    real_write = minidomains.write_manifest

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(minidomains, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        minidomains.build_minidomains(fake["root"], progress=False)
    assert not fake["root"].exists() and not minidomains.is_complete(fake["root"])
    partial = list(fake["root"].parent.glob("minidomains.partial-*"))
    assert len(partial) == 1 and list(partial[0].rglob("*.png"))
    (partial[0] / "photo" / "dog" / "stale.png").write_bytes(b"left over")

    rendered = []
    real_render = minidomains.render
    monkeypatch.setattr(minidomains, "render",
                        lambda item, font=None: rendered.append(item) or real_render(item, font))
    monkeypatch.setattr(minidomains, "write_manifest", real_write)
    root = minidomains.build_minidomains(fake["root"], progress=False)
    assert minidomains.is_complete(root)
    kept = set(read_manifest(root)["path"])
    # kept images all reused; only pruned redone
    assert rendered and not {item.rel for item in rendered} & kept
    assert not (root / "photo" / "dog" / "stale.png").exists()
    assert not list(root.parent.glob("*.partial-*"))


def test_apt_lists_empty_without_root_says_what_to_run(tmp_path, monkeypatch):
    def no_lists(cmd, cwd):
        return subprocess.CompletedProcess(cmd, 100, "",
                                           "E: Unable to locate package tuxpaint-stamps-default")

    monkeypatch.setattr(fetch, "_run", no_lists)
    monkeypatch.setattr(fetch.os, "geteuid", lambda: 1000)
    with pytest.raises(SteervisError, match="sudo apt-get update"):
        fetch.download_deb("tuxpaint-stamps-default", tmp_path)


def test_apt_lists_empty_as_root_runs_update(tmp_path, monkeypatch):
    seen = []

    def apt(cmd, cwd):
        seen.append(cmd[:2])
        if cmd[:2] == ["apt-get", "download"] and ["apt-get", "update"] not in seen:
            return subprocess.CompletedProcess(cmd, 100, "", "E: Unable to locate package pkg")
        if cmd[:2] == ["apt-get", "download"]:
            (cwd / "pkg_1.0_all.deb").write_bytes(b"deb")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch, "_run", apt)
    monkeypatch.setattr(fetch.os, "geteuid", lambda: 0)
    deb = fetch.download_deb("pkg", tmp_path)
    assert deb.name == "pkg_1.0_all.deb" and ["apt-get", "update"] in seen


def test_shipped_mapping_is_well_formed():
    sources = minidomains.load_sources()
    everything = minidomains.load_sources(extra=True)
    assert 20 <= len(sources) <= 40 and len(everything) > len(sources)
    for cls, spec in everything.items():
        assert cls == cls.lower() and " " not in cls
        assert spec["emoji"], f"{cls} has no emoji: it could not reach 3 domains"
        for code in spec["emoji"]:
            assert all(int(part, 16) > 0 for part in code.split("-"))
        for pattern in spec["photo"] + spec["clipart"]:
            assert not pattern.startswith("/") and ".." not in pattern and pattern.endswith(".png")


@pytest.mark.slow
def test_real_minidomains_invariants(minidomains_root):
    manifest = read_manifest(minidomains_root)
    assert set(manifest["domain"]) == set(minidomains.DOMAINS)
    per = manifest.groupby(["class", "domain"]).size().unstack(fill_value=0)
    assert len(per) >= 20
    assert ((per >= 2).sum(axis=1) >= 3).all(), per[(per >= 2).sum(axis=1) < 3]
    for rel, digest in zip(manifest["path"], manifest["sha256"], strict=True):
        assert sha256_file(minidomains_root / rel) == digest, rel
    sample = manifest.groupby("domain").head(3)
    for rel in sample["path"]:
        img = Image.open(minidomains_root / rel)
        assert img.mode == "RGB" and max(img.size) <= 256


def test_minidomains_and_the_pool_fetch_through_one_helper(tmp_path, monkeypatch):
    from steervis.data import pool

    def deb(name):
        (tmp_path / name / "usr/share/fonts/truetype").mkdir(parents=True, exist_ok=True)
        return tmp_path / name

    (tmp_path / "fonts-symbola/usr/share/fonts/truetype").mkdir(parents=True)
    (tmp_path / "fonts-symbola/usr/share/fonts/truetype/Symbola.ttf").write_bytes(b"")
    monkeypatch.setattr(fetch, "deb_tree", deb)
    monkeypatch.setattr(fetch, "npm_tree", lambda: tmp_path / "npm")
    monkeypatch.setattr(fetch, "pip_package_dir", lambda name: tmp_path / name)
    with pytest.raises(SteervisError, match="Source photo is missing .*stamps"):
        minidomains.fetch_trees(progress=False)
    with pytest.raises(SteervisError, match="Pool source openclipart is missing"):
        pool.fetch_pool_trees(progress=False)
    got = fetch.fetch_sources(["fonts-symbola"], progress=False)
    assert got["symbola"].name == "Symbola.ttf" and got["openmoji-npm"] == tmp_path / "npm"
