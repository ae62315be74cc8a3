"""``caption`` skips a bad file with a warning; ``chat`` never writes past the model's context
(tiny-llava)."""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from steervis.cli import main


def test_caption_skips_a_bad_file_with_one_warning_and_captions_the_rest(tmp_path, capsys, caplog):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.png", "c.png"):
        Image.new("RGB", (32, 32), "red").save(folder / name)
    (folder / "b.png").write_text("not an image")
    with caplog.at_level(logging.WARNING):
        assert main(["caption", str(folder), "--model", "tiny-llava", "--batch-size", "2"]) == 0
    captioned = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert captioned == [str(folder / "a.png"), str(folder / "c.png")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"skipping {folder / 'b.png'}: not an image (format not recognised)"]


def test_caption_of_only_bad_files_is_one_sentence(tmp_path, capsys):
    for name in ("x.png", "y.png"):
        (tmp_path / name).write_text("not an image")
    assert main(["caption", str(tmp_path / "x.png"), str(tmp_path / "y.png"), "--model", "tiny-llava"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("steervis:")]
    assert err == [f"steervis: error: None of the 2 inputs is a usable image; e.g. {tmp_path / 'x.png'} "
                   "cannot be used: not an image (format not recognised)."]


def test_chat_caps_an_answer_at_the_context_with_one_warning(capsys, caplog, monkeypatch):
    from steervis.llava.model import VLM

    # tiny-llava reads 1024; 24 keeps the test short
    monkeypatch.setattr(VLM, "context_tokens", lambda self: 24)
    monkeypatch.setattr("sys.stdin", io.StringIO("hello\nagain\nand once more\n"))
    with caplog.at_level(logging.WARNING):
        assert main(["chat", "--model", "tiny-llava", "--max-new-tokens", "10000000"]) == 0
    assert capsys.readouterr().out.count("vlm> ") == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings[0].startswith("--max-new-tokens 10000000 is beyond this model's 24-token context")
    # the history made room, not an error
    assert all("earlier turns are forgotten" in w for w in warnings[1:])


def test_an_answer_never_takes_more_than_the_room_the_prompt_leaves(monkeypatch):
    from steervis.llava.model import VLM, PromptTooLong
    from steervis.llava.vlms import open_vlm

    vlm = open_vlm("tiny-llava")
    prompt = vlm.conversation([("hello", None)])
    assert vlm.room(prompt) == 1024 - len(prompt.ids)
    seen = {}

    def fake_generate(lm, prompts, max_new_tokens, **_):
        seen["budget"] = max_new_tokens
        return [""]

    monkeypatch.setattr("steervis.lm.generate.generate", fake_generate)
    vlm.chat("hello", max_new_tokens=10_000_000)
    assert seen["budget"] == 1024 - len(prompt.ids)
    monkeypatch.setattr(VLM, "context_tokens", lambda self: len(prompt.ids))
    with pytest.raises(PromptTooLong, match="fills this model's"):
        vlm.chat("hello")
