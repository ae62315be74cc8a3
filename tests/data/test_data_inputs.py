"""What predict reads: manifest rows that cannot be used are skipped with a reason; folders follow
symlinks."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from steervis.data.images import sha256_file
from steervis.data.inputs import frame_from_input
from steervis.data.synthetic import make_toy_dataset
from steervis.errors import SteervisError


@pytest.fixture
def toy(tmp_path, tmp_home):
    return make_toy_dataset(tmp_path / "toy", per_class=2, size=32)


def test_manifest_rows_missing_not_an_image_or_outside_are_skipped_with_reasons(toy, tmp_path):
    folder = tmp_path / "m"
    (folder / "img").mkdir(parents=True)
    shutil.copy(next((toy / "photo" / "circle").iterdir()), folder / "img" / "ok.png")
    (folder / "img" / "text.png").write_text("not an image")
    secret = tmp_path / "secret.png"
    shutil.copy(folder / "img" / "ok.png", secret)  # a real image, but outside the manifest's folder
    rows = ["img/ok.png", "img/text.png", "img/gone.png", "../secret.png", str(secret)]
    pd.DataFrame({"path": rows}).to_csv(folder / "list.csv", index=False)
    frame = frame_from_input(folder / "list.csv")
    assert frame["path"].tolist() == [str(folder / "img" / "ok.png")]
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in frame.attrs["skipped"]}
    assert "not an image" in reasons["text.png"] and "No such file" in reasons["gone.png"]
    assert reasons["secret.png"].startswith("outside the manifest's folder")
    pd.DataFrame({"path": ["../secret.png"]}).to_csv(folder / "bad.csv", index=False)
    with pytest.raises(SteervisError, match="None of the 1 inputs"):
        frame_from_input(folder / "bad.csv")


def test_a_manifest_sha256_is_checked_against_the_file(toy):
    rel = "photo/circle/" + sorted(p.name for p in (toy / "photo" / "circle").iterdir())[0]
    pd.DataFrame({"path": [rel], "sha256": ["0" * 64]}).to_parquet(toy / "list.parquet")
    frame = frame_from_input(toy / "list.parquet")
    assert frame.loc[0, "sha256"] == sha256_file(toy / rel) != "0" * 64


def test_a_folder_follows_symlinked_class_folders_like_the_dataset_loader(toy, tmp_path):
    target = tmp_path / "in"
    target.mkdir()
    (target / "circles").symlink_to(toy / "photo" / "circle", target_is_directory=True)
    (target / "loop").symlink_to(target, target_is_directory=True)  # a cycle ends, it does not hang
    frame = frame_from_input(target)
    assert len(frame) == 2
