"""The toy dataset is deterministic, in the benchmark layout, and usable through the CLI."""

from __future__ import annotations

import pytest
from PIL import Image

from steervis.cli import main
from steervis.data.contact import contact_sheets
from steervis.data.folder import load_folder
from steervis.data.images import sha256_file
from steervis.data.manifest import read_manifest
from steervis.data.synthetic import make_toy_dataset


def test_two_builds_give_identical_manifest_bytes(tmp_path):
    a = make_toy_dataset(tmp_path / "a")
    b = make_toy_dataset(tmp_path / "b")
    assert (a / "manifest.parquet").read_bytes() == (b / "manifest.parquet").read_bytes()
    assert (sorted(p.relative_to(a) for p in a.rglob("*.png"))
            == sorted(p.relative_to(b) for p in b.rglob("*.png")))


def test_seed_changes_images(tmp_path):
    a = make_toy_dataset(tmp_path / "a", seed=0)
    b = make_toy_dataset(tmp_path / "b", seed=1)
    assert read_manifest(a)["sha256"].tolist() != read_manifest(b)["sha256"].tolist()


def test_manifest_matches_files_and_styles_differ(tmp_path):
    root = make_toy_dataset(tmp_path / "t", domains=("photo", "sketch", "dashed"), classes=("star", "cross"),
                            per_class=2, size=48)
    manifest = read_manifest(root)
    assert len(manifest) == 12
    for rel, digest in zip(manifest["path"], manifest["sha256"], strict=True):
        assert sha256_file(root / rel) == digest
    photo = Image.open(root / "photo/star/star_000.png")
    sketch = Image.open(root / "sketch/star/star_000.png")
    assert photo.size == (48, 48)
    assert photo.getpixel((0, 0)) != (255, 255, 255)  # tinted background
    assert sketch.getpixel((0, 0)) == (255, 255, 255) and (0, 0, 0) in {c for _, c in sketch.getcolors()}


def test_contact_sheets(tmp_path):
    root = make_toy_dataset(tmp_path / "t")
    sheets = contact_sheets(root, tmp_path / "sheets")
    assert [s.name for s in sheets] == ["photo.png", "sketch.png"]
    assert Image.open(sheets[0]).height >= 3 * 64


def test_cli_toy_and_summary(tmp_path, capsys):
    assert main(["data", "toy", "--root", str(tmp_path / "toy"), "--per-class", "2"]) == 0
    assert len(load_folder(tmp_path / "toy").frame) == 12
    assert main(["data", "summary", "--data", str(tmp_path / "toy")]) == 0
    out = capsys.readouterr().out
    assert "12 images, 3 classes, 2 domains" in out and "skipped 0 files" in out
    assert main(["data", "summary", "--data", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_toy_rejects_unknown_shape(tmp_path, capsys):
    assert main(["data", "toy", "--root", str(tmp_path / "t"), "--classes", "circel"]) == 2
    assert "circel" in capsys.readouterr().err


@pytest.mark.parametrize("argv",
                         [["data", "--help"], ["data", "build", "--help"], ["data", "summary", "--help"]])
def test_help_has_worked_example(argv, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    assert "steervis data" in capsys.readouterr().out


def test_cli_toy_takes_a_config_file_prints_it_and_writes_it_beside_the_output(tmp_path, capsys):
    config = tmp_path / "toy.yaml"
    config.write_text(f"root: {tmp_path / 'toy'}\nclasses: [star, cross]\nper_class: 2\n")
    assert main(["data", "toy", "--config", str(config), "--set", "size=32", "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert "size: 32" in printed and "- star" in printed
    assert not (tmp_path / "toy").exists()  # printing the config does no work
    assert main(["data", "toy", "--config", str(config), "--per-class", "3"]) == 0  # a flag beats the file
    assert len(list((tmp_path / "toy" / "sketch" / "star").glob("*.png"))) == 3
    assert "per_class: 3" in (tmp_path / "toy" / "config.yaml").read_text()
    assert main(["data", "toy"]) == 2 and "--root" in capsys.readouterr().err
