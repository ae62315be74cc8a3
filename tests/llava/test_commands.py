import io

from PIL import Image

from steervis.cli import main


def test_caption_and_chat_commands_run_on_the_tiny_hub_llava(tmp_path, capsys, monkeypatch):
    image = tmp_path / "red.png"
    Image.new("RGB", (32, 32), "red").save(image)
    assert main(["caption", str(image), "--model", "tiny-llava"]) == 0
    assert capsys.readouterr().out.startswith(f"{image}\t")
    monkeypatch.setattr("sys.stdin", io.StringIO("what is it?\nand its colour?\n"))
    assert main(["chat", "--image", str(image), "--model", "tiny-llava", "--max-new-tokens", "3",
                 "--timing"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("you> ") == 2 and captured.out.count("vlm> ") == 2
    assert captured.err.count("first token after") == 2


def test_commands_refuse_bad_input_in_one_sentence(tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert main(["caption", str(text), "--model", "tiny-llava"]) == 2
    assert main(["chat", "--image", str(text), "--model", "tiny-llava"]) == 2
    assert main(["caption", str(tmp_path / "missing.png"), "--model", "tiny-llava"]) == 2
    err = capsys.readouterr().err
    assert err.count("steervis: error:") == 3 and "Traceback" not in err


def test_no_image_an_over_long_prompt_and_a_wrong_model_are_one_sentence(tmp_path, capsys, monkeypatch):
    assert main(["caption"]) == 2  # no image at all: one sentence (a --config file may name the paths)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert main(["caption", str(empty), "--model", "tiny-llava"]) == 2
    (tmp_path / "folder").mkdir()
    assert main(["caption", str(tmp_path / "folder"), "--model", "tiny-llava"]) == 2
    image = tmp_path / "red.png"
    Image.new("RGB", (32, 32), "red").save(image)
    monkeypatch.setattr("sys.stdin", io.StringIO("why " * 3000 + "\n"))
    assert main(["chat", "--image", str(image), "--model", "tiny-llava"]) == 2
    assert main(["vlm", "eval", "--model", str(tmp_path / "no-such-model")]) == 2
    assert main(["vlm", "train", "--stage", "2", "--init", str(tmp_path / "nothing"),
                 "--set", "train.max_steps=1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("steervis: error:") == 6
    assert "caption needs at least one PATH" in err and "tokens; this model reads at most 2048" in err
    assert all(len(line) < 300 for line in err.splitlines())


def test_a_bare_init_name_is_not_a_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s1").mkdir()  # a folder of that name here changes nothing: a folder is written as a path
    assert main(["vlm", "train", "--stage", "2", "--init", "s1", "--out", str(tmp_path / "s2")]) == 2
    assert "give stage1, stage2 or a folder written as a path (./s1)" in capsys.readouterr().err
