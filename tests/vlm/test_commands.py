import io

from PIL import Image

from steervis.cli import main


def test_caption_and_chat_commands_run_on_the_tiny_hub_llava(tmp_path, capsys, monkeypatch):
    image = tmp_path / "red.png"
    Image.new("RGB", (32, 32), "red").save(image)
    assert main(["caption", str(image), "--model", "tiny-llava"]) == 0
    assert capsys.readouterr().out.startswith(f"{image}\t")
    monkeypatch.setattr("sys.stdin", io.StringIO("what is it?\nand its colour?\n"))
    assert main(["chat", "--image", str(image), "--model", "tiny-llava", "--max-new-tokens", "3", "--timing"]) == 0
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
