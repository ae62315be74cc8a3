"""open_image turns every kind of broken file into BadImage with a reason; PNG writes are deterministic."""

from __future__ import annotations

import pytest
from PIL import Image

from steervis.data.images import BadImage, crop_to_content, fit, open_image, png_bytes, sha256_file, write_png


def _png(path, size=(8, 6), mode="RGB", color=(10, 20, 30)):
    Image.new(mode, size, color).save(path)
    return path


def test_open_image_good_png_is_rgb(tmp_path):
    img = open_image(_png(tmp_path / "ok.png"))
    assert img.mode == "RGB" and img.size == (8, 6)
    assert img.getpixel((0, 0)) == (10, 20, 30)


def test_alpha_is_composited_on_white(tmp_path):
    path = _png(tmp_path / "clear.png", mode="RGBA", color=(255, 0, 0, 0))
    assert open_image(path).getpixel((3, 3)) == (255, 255, 255)


def _zero(tmp_path):
    (tmp_path / "zero.png").write_bytes(b"")
    return tmp_path / "zero.png"


def _text(tmp_path):
    (tmp_path / "text.png").write_text("this is not an image\n" * 20)
    return tmp_path / "text.png"


def _truncated(tmp_path):
    full = tmp_path / "full.png"
    Image.effect_noise((64, 64), 50).convert("RGB").save(full)
    data = full.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    return tmp_path / "cut.png"


def _truncated_jpeg(tmp_path):
    full = tmp_path / "full.jpg"
    Image.effect_noise((64, 64), 50).convert("RGB").save(full, quality=90)
    data = full.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    return tmp_path / "cut.jpg"


def _bomb(tmp_path):
    # 7000×7000 1-bit pixels compress to a few kB yet decode to 49 MP (> the 40 MP default limit).
    Image.new("1", (7000, 7000), 0).save(tmp_path / "bomb.png")
    return tmp_path / "bomb.png"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p / "missing.png", "unreadable"),
        (_zero, "zero-byte"),
        (_text, "not an image"),
        (_truncated, "truncated"),
        (_truncated_jpeg, "truncated"),
        (_bomb, "decompression bomb"),
        (lambda p: p, "not a regular file"),
    ],
    ids=["missing", "zero-byte", "non-image", "truncated-png", "truncated-jpeg", "bomb", "directory"],
)
def test_open_image_rejects_with_reason(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(BadImage) as info:
        open_image(path)
    assert reason in info.value.reason
    assert str(path) in str(info.value)


def test_max_pixels_is_a_parameter(tmp_path):
    path = _png(tmp_path / "big.png", size=(100, 100))
    assert open_image(path, max_pixels=10_000).size == (100, 100)
    with pytest.raises(BadImage, match="decompression bomb"):
        open_image(path, max_pixels=9_999)


def test_fit_never_upscales_and_caps_longest_side():
    assert fit(Image.new("RGB", (40, 20))).size == (40, 20)
    assert fit(Image.new("RGB", (1000, 500)), 256).size == (256, 128)


def test_crop_to_content_and_blank():
    img = Image.new("RGB", (100, 100), "white")
    img.paste((0, 0, 0), (40, 40, 60, 50))
    assert crop_to_content(img, margin=0).size == (20, 10)
    with pytest.raises(BadImage, match="blank"):
        crop_to_content(Image.new("RGB", (10, 10), "white"))


def test_png_writes_are_deterministic(tmp_path):
    img = Image.effect_noise((32, 32), 40).convert("RGB")
    a, b = write_png(img, tmp_path / "a.png"), write_png(img, tmp_path / "b.png")
    assert a == b == sha256_file(tmp_path / "a.png")
    assert png_bytes(img) == (tmp_path / "b.png").read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))
