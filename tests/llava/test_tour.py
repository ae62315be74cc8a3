"""The README's VLM tour runs as written (on a tiny VLM saved where stage 2 lives), and `steervis models`
lists it."""

import re
from pathlib import Path

from PIL import Image

from steervis.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _save_tiny_stage2():
    from steervis.llava import VLM, VLMConfig
    from steervis.llava.model import trained_dir

    vlm = VLM.create(VLMConfig(lm="tiny-llama"))
    vlm.stages = {"1": {"data": {"conversations": 8}, "training": {"steps": 2, "loss_last": 3.5}},
                          "2": {"data": {"conversations": 5}, "training": {"steps": 1, "loss_last": 2.25}}}
    vlm.save(trained_dir(2))


def test_readme_vlm_tour_runs(tmp_home, tmp_path, monkeypatch, capsys):
    _save_tiny_stage2()
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (48, 40), "orange").save("photo.png")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    tour = next(b for b in blocks if "VLM.load" in b)
    scope: dict = {}
    exec(compile(tour, "README.md", "exec"), scope)
    assert isinstance(scope["answer"], str) and len(scope["captions"][0]) == 3
    assert scope["probs"].shape == (1, 3) and abs(float(scope["probs"].sum()) - 1) < 1e-5


def test_models_lists_the_vlms_trained_here(tmp_home, capsys):
    _save_tiny_stage2()
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.strip().startswith("stage2"))
    assert "tiny-llama" in line and "stages 1+2" in line and "5 conversations" in line and "2.25" in line
