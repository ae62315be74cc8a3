"""`steervis fit` and `steervis predict` end to end: toy images, tiny describer, tiny LM; the files they
write."""

import json

import pandas as pd
import pytest

from steervis.card import read_card
from steervis.cli import main
from steervis.data.synthetic import make_toy_dataset

FAST = ["--preset", "decide-tiny", "--describe-preset", "describe-tiny", "--quiet"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_dataset(tmp_path_factory.mktemp("toy"))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A private STEERVIS_HOME (description store) shared by this module's tests: describe once."""
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("home")
        mp.setenv("STEERVIS_HOME", str(path))
        yield path


@pytest.fixture(scope="module")
def fitted(toy, home, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "adapter"
    assert main(["fit", "--data", str(toy), "--domains", "photo", "--out", str(out), *FAST]) == 0
    return out


def test_fit_writes_adapter_card_and_resolved_config(fitted, toy):
    card = read_card(fitted, kind="decider")
    assert card.decider.classes == ["circle", "square", "triangle"] and card.data["domains"] == ["photo"]
    assert card.base == "tiny-llama" and card.decider.describe["matcher"] == "tiny-clip"
    assert card.data["n_images"] == 12 and card.data["image_hash"] and card.metrics["steps"] >= 1
    assert (fitted / "adapter" / "adapter_model.safetensors").exists()
    assert "model: tiny-llama" in (fitted / "decide.yaml").read_text()


def test_predict_folder_to_csv_and_image_to_json(fitted, toy, tmp_path):
    csv = tmp_path / "p.csv"
    assert main(["predict", "--adapter", str(fitted), str(toy / "sketch"), "--out", str(csv)]) == 0
    rows = pd.read_csv(csv)
    assert len(rows) == 12 and set(rows["label"]) <= {"circle", "square", "triangle"}
    assert rows["description"].str.startswith("Tags:").all()
    assert rows[["p:circle", "p:square", "p:triangle"]].sum(1).round(4).eq(1).all()
    assert (tmp_path / "p.csv.config.yaml").exists()
    image = next((toy / "sketch" / "square").iterdir())
    js = tmp_path / "one.json"
    assert main(["predict", "--adapter", str(fitted), str(image), "--out", str(js),
                 "--set", "decide.inference=generate"]) == 0
    (row,) = json.loads(js.read_text())
    assert (row["label"] in row["probabilities"]
            and "inference: generate" in (tmp_path / "one.json.config.yaml").read_text())


def test_bad_input_is_an_error_message_not_a_traceback(fitted, toy, tmp_path, capsys):
    (toy / "cartoon" / "circle").mkdir(parents=True, exist_ok=True)
    assert main(["fit", "--data", str(toy), "--domains", "cartoon", "--out", str(tmp_path / "x"), *FAST]) == 2
    assert "cartoon" in capsys.readouterr().err
    assert main(["fit", "--data", str(toy), "--domains", "phot", "--out", str(tmp_path / "x"), *FAST]) == 2
    assert "phot" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # nothing half-written
    assert main(["predict", "--adapter", str(tmp_path), str(toy), "--out", str(tmp_path / "p.csv")]) == 2
    assert "is not a steervis model" in capsys.readouterr().err
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    assert main(["predict", "--adapter", str(fitted), str(bad), "--out", str(tmp_path / "p.csv")]) == 2
    assert "broken.png cannot be used" in capsys.readouterr().err
    assert main(["predict", "--adapter", str(fitted), str(toy), "--out", str(tmp_path / "p.txt")]) == 2
    assert ".csv or .json" in capsys.readouterr().err


def test_fit_on_one_class_and_out_that_is_a_file_are_refused_before_training(toy, home, tmp_path, capsys):
    one = tmp_path / "one"
    (one / "photo").mkdir(parents=True)
    (one / "photo" / "circle").symlink_to(toy / "photo" / "circle", target_is_directory=True)  # leads outside
    assert main(["fit", "--data", str(one), "--out", str(tmp_path / "a"), "--follow-links", *FAST]) == 2
    assert "one class, 'circle'" in capsys.readouterr().err and not (tmp_path / "a").exists()
    (tmp_path / "file").write_text("x")
    assert main(["fit", "--data", str(toy), "--out", str(tmp_path / "file"), *FAST]) == 2
    assert "is a file" in capsys.readouterr().err and (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("damage", ["bad-json", "empty-card", "no-adapter", "truncated-weights"])
def test_predict_with_a_damaged_adapter_folder_is_one_sentence(fitted, toy, tmp_path, capsys, damage,
                                                               damage_adapter):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(fitted, folder)
    damage_adapter(folder, damage)
    assert main(["predict", "--adapter", str(folder), str(toy / "sketch"),
                 "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("steervis: error:") and err.count("\n") == 1 and "Traceback" not in err


def test_predict_on_a_manifest_skips_unusable_rows_and_says_so(fitted, toy, tmp_path, capsys):
    (toy / "notes.png").write_text("not an image")
    pd.DataFrame({"path": ["sketch/circle/circle_000.png", "notes.png", "gone.png", "../../../etc/passwd"]}) \
        .to_csv(toy / "list.csv", index=False)
    out = tmp_path / "p.csv"
    assert main(["predict", "--adapter", str(fitted), str(toy / "list.csv"), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 1 and "skipped 3 input(s)" in capsys.readouterr().out


def test_fit_with_class_tags_records_the_classes_and_predict_reads_them(toy, home, tmp_path):
    out = tmp_path / "classes"
    assert main(["fit", "--data", str(toy), "--domains", "photo", "--out", str(out), *FAST,
                 "--describe-set", "class_tags=1"]) == 0
    describe = read_card(out, kind="decider").decider.describe
    assert describe["class_tags"] == 1 and describe["classes"] == ["circle", "square", "triangle"]
    csv = tmp_path / "p.csv"
    assert main(["predict", "--adapter", str(out), str(toy / "sketch"), "--out", str(csv)]) == 0
    first_tags = pd.read_csv(csv)["description"].str.split("\n").str[1].str[2:]
    assert first_tags.isin(["circle", "square", "triangle"]).all()  # the same class tags as in training
