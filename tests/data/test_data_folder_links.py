"""Symlinks in a dataset folder are followed only inside it; copies of one image under two labels are
reported."""

from __future__ import annotations

import logging
import shutil

import pytest

from steervis.data.folder import load_folder
from steervis.data.synthetic import make_toy_dataset
from steervis.errors import SteervisError


@pytest.fixture
def toy(tmp_path, tmp_home):
    return make_toy_dataset(tmp_path / "toy")


@pytest.fixture
def outside(tmp_path):
    """A folder of images beside the dataset (another dataset's, or the held-out ones)."""
    other = make_toy_dataset(tmp_path / "other", domains=("cartoon",), per_class=2)
    return other / "cartoon" / "circle"


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_class_folder_linked_outside_the_dataset_is_skipped_with_one_warning(toy, outside, caplog):
    (toy / "photo" / "star").symlink_to(outside, target_is_directory=True)
    with caplog.at_level(logging.WARNING):
        data = load_folder(toy)
    assert len(data.frame) == 24 and "star" not in data.classes
    assert data.skipped == [(str(toy.resolve() / "photo" / "star"), data.skipped[0][1])]
    assert "outside the dataset folder" in data.skipped[0][1] and "--follow-links" in data.skipped[0][1]
    [line] = warnings(caplog)
    assert (line.startswith("1 symlink(s) under") and "--follow-links" in line
            and str(outside.resolve()) in line)
    followed = load_folder(toy, follow_links=True)
    assert len(followed.frame) == 26 and "star" in followed.classes and followed.skipped == []


def test_file_and_nested_folder_links_outside_are_skipped_inside_ones_followed(toy, outside):
    cls = toy / "sketch" / "circle"
    (cls / "far.png").symlink_to(next(outside.glob("*.png")))
    (cls / "nested").symlink_to(outside, target_is_directory=True)
    (cls / "near.png").symlink_to(toy / "sketch" / "circle" / "circle_000.png")  # inside: followed
    (cls / "loop").symlink_to(cls, target_is_directory=True)  # inside, and a loop: read once
    data = load_folder(toy)
    assert len(data.frame) == 25
    assert sorted(p.rsplit("/", 1)[-1] for p, _ in data.skipped) == ["far.png", "nested"]


def test_a_domain_of_links_out_says_why_it_holds_no_images(tmp_path, outside):
    root = tmp_path / "links-only"
    (root / "photo").mkdir(parents=True)
    (root / "photo" / "circle").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SteervisError,
                       match=r"No images found.*1 symlink\(s\) leading outside it were not followed"):
        load_folder(root)


def test_a_folder_linked_inside_the_dataset_is_followed_and_its_copies_reported(toy, caplog):
    # photo/star is sketch/circle again: held-out images in a training domain, under the wrong label
    (toy / "photo" / "star").symlink_to("../sketch/circle", target_is_directory=True)
    with caplog.at_level(logging.WARNING):
        data = load_folder(toy)
    assert len(data.frame) == 28 and "star" in data.classes and data.skipped == []
    lines = warnings(caplog)
    assert len(lines) == 2
    assert lines[0].startswith("4 image(s) in") and "under two classes" in lines[0]
    assert "e.g. photo/star/circle_" in lines[0] and "and sketch/circle/circle_" in lines[0]
    assert lines[1].startswith("4 image(s) in") and "in two domains" in lines[1]


def test_a_toy_dataset_has_no_copies(toy, caplog):
    with caplog.at_level(logging.WARNING):
        load_folder(toy)
    assert warnings(caplog) == []


def test_a_copied_file_under_another_class_is_reported(toy, caplog):
    shutil.copy(toy / "photo" / "circle" / "circle_000.png", toy / "photo" / "square" / "copy.png")
    with caplog.at_level(logging.WARNING):
        load_folder(toy)
    [line] = warnings(caplog)
    assert "1 image(s)" in line and "under two classes" in line and "photo/circle/circle_000.png" in line


def test_data_summary_takes_follow_links(toy, outside, capsys):
    from steervis.cli import main

    (toy / "photo" / "star").symlink_to(outside, target_is_directory=True)
    assert main(["data", "summary", "--data", str(toy)]) == 0
    out = capsys.readouterr().out
    assert ": 24 images" in out and "skipped 1 file(s)" in out and "outside the dataset folder" in out
    assert main(["data", "summary", "--data", str(toy), "--follow-links"]) == 0
    assert ": 26 images" in capsys.readouterr().out


def test_the_verbs_that_read_data_take_follow_links():
    from steervis.cli import build_parser

    parser = build_parser()
    for verb in (["evaluate"], ["fit"], ["describe"], ["data", "summary", "--data", "x"]):
        assert parser.parse_args([*verb, "--follow-links"]).follow_links is True, verb
