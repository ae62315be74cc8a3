"""load_folder reads any <root>/<domain>/<class>/<image> folder, skips bad files with reasons, never
crashes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from steervis.data.folder import load_folder, summary_text
from steervis.data.manifest import read_manifest, write_manifest
from steervis.data.synthetic import make_toy_dataset
from steervis.errors import SteervisError


@pytest.fixture
def toy(tmp_path):
    return make_toy_dataset(tmp_path / "toy")


def test_toy_folder_loads_sorted_and_complete(toy):
    data = load_folder(toy)
    assert data.domains == ["photo", "sketch"]
    assert data.classes == ["circle", "square", "triangle"]
    assert len(data.frame) == 24 and data.skipped == []
    assert list(data.frame.columns) == ["path", "domain", "class", "sha256"]
    ordered = data.frame.sort_values(["domain", "class", "path"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(data.frame, ordered)
    assert all(p.startswith(str(toy.resolve())) for p in data.frame["path"])
    table = data.counts()
    assert table.loc["circle", "photo"] == 4 and table.loc["total", "total"] == 24


def test_filters_and_did_you_mean(toy):
    data = load_folder(toy, domains=["sketch"], classes=["square"])
    assert data.domains == ["sketch"] and data.classes == ["square"] and len(data.frame) == 4
    with pytest.raises(SteervisError, match="Did you mean 'photo'"):
        load_folder(toy, domains=["foto"])
    with pytest.raises(SteervisError, match="Did you mean 'circle'"):
        load_folder(toy, classes=["circel"])


def test_bad_files_are_skipped_with_reasons(toy):
    cls = toy / "photo" / "circle"
    (cls / "zero.png").write_bytes(b"")
    (cls / "notes.png").write_text("not an image")
    good = (cls / "circle_000.png").read_bytes()
    (cls / "cut.png").write_bytes(good[: len(good) // 2])
    Image.new("1", (7000, 7000)).save(cls / "bomb.png")
    (cls / ".DS_Store").write_bytes(b"\0")  # OS litter: ignored, not reported
    data = load_folder(toy)
    assert len(data.frame) == 24
    reasons = {name.rsplit("/", 1)[-1]: reason for name, reason in data.skipped}
    assert set(reasons) == {"zero.png", "notes.png", "cut.png", "bomb.png"}
    assert "zero-byte" in reasons["zero.png"]
    assert "not an image" in reasons["notes.png"]
    assert "truncated" in reasons["cut.png"]
    assert "decompression bomb" in reasons["bomb.png"]
    report = summary_text(data)
    assert "skipped 4 file(s)" in report and "zero-byte" in report


def test_a_manifest_hash_is_checked_and_unchanged_files_are_not_rehashed(toy, tmp_home, monkeypatch):
    from steervis.data import hashes
    from steervis.data.images import sha256_file

    manifest = read_manifest(toy)
    manifest.loc[0, "sha256"] = "f" * 64  # the manifest claims other bytes (an image edited since)
    write_manifest(toy, manifest.to_dict("records"))
    path = str((toy / manifest.loc[0, "path"]).resolve())
    assert load_folder(toy).frame.set_index("path").loc[path, "sha256"] == sha256_file(path)
    calls = []
    monkeypatch.setattr(hashes, "sha256_file", lambda p: calls.append(p) or sha256_file(p))
    load_folder(toy)
    assert calls == []  # size, mtime and inode unchanged: the remembered hash, no read
    Path(path).write_bytes(Path(path).read_bytes() + b"\0")  # edited in place
    assert load_folder(toy).frame.set_index("path").loc[path, "sha256"] == sha256_file(path)
    assert calls == [Path(path)]


def test_manifest_rows_for_missing_files_are_not_listed(toy):
    (toy / "photo" / "circle" / "circle_000.png").unlink()
    data = load_folder(toy)
    assert len(data.frame) == 23


def test_missing_or_empty_root_is_a_clear_error(tmp_path):
    with pytest.raises(SteervisError, match="does not exist"):
        load_folder(tmp_path / "nope")
    (tmp_path / "empty" / "photo" / "dog").mkdir(parents=True)
    with pytest.raises(SteervisError, match="No images found"):
        load_folder(tmp_path / "empty")


def test_all_files_bad_is_a_clear_error(tmp_path):
    cls = tmp_path / "ds" / "photo" / "dog"
    cls.mkdir(parents=True)
    (cls / "a.png").write_bytes(b"")
    with pytest.raises(SteervisError, match="None of the 1 files"):
        load_folder(tmp_path / "ds")


def test_works_without_manifest(toy):
    (toy / "manifest.parquet").unlink()
    shutil.rmtree(toy / "sketch")
    data = load_folder(toy)
    assert data.domains == ["photo"] and len(data.frame) == 12 and data.frame["sha256"].str.len().eq(64).all()
