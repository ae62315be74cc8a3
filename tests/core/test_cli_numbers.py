"""Numeric CLI values are checked where they are parsed, and model names are told from paths by their
grammar."""

from __future__ import annotations

import argparse

import pytest

from steervis.cli import main
from steervis.commands._options import FRACTION, POSITIVE_INT, Bounds, positive_int
from steervis.errors import SteervisError
from steervis.registry import is_explicit_path, is_hub_id


def usage_error(argv: list[str], capsys) -> str:
    """argparse's verdict on ``argv``: exit 2 and one error line (after the usage lines), returned."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert len(errors) == 1
    return errors[0]


@pytest.mark.parametrize(("argv", "flag", "allowed"), [
    (["caption", "x.png", "--batch-size", "0"], "--batch-size", "at least 1"),
    (["caption", "x.png", "--batch-size", "-3"], "--batch-size", "at least 1"),
    (["caption", "x.png", "--limit", "-1"], "--limit", "at least 1"),
    (["caption", "x.png", "--samples", "-1"], "--samples", "at least 0"),
    (["caption", "x.png", "--batch-size", "two"], "--batch-size", "at least 1"),
    (["vlm", "eval", "--images", "-1"], "--images", "at least 0"),
    (["vlm", "eval", "--per-image", "-2"], "--per-image", "at least 0"),
    (["chat", "--max-new-tokens", "0"], "--max-new-tokens", "at least 1"),
    (["vlm", "engine", "--min-overlap", "1.5"], "--min-overlap", "from 0 to 1"),
    (["vlm", "engine", "--batch-size", "0"], "--batch-size", "at least 1"),
    (["retrieve", "--classes", "a,b", "--k", "0"], "--k", "at least 1"),
])
def test_a_number_out_of_range_is_one_line_naming_the_flag_and_the_range(argv, flag, allowed, capsys):
    line = usage_error(argv, capsys)
    assert line.startswith(f"steervis {argv[0]}") and f"argument {flag}: " in line and allowed in line


def test_bounds_accept_their_range_and_say_it_in_words():
    assert positive_int("3") == 3 and FRACTION("0.25") == 0.25
    for bad in ("0", "-1", "1.5", "nan"):
        with pytest.raises(argparse.ArgumentTypeError):
            POSITIVE_INT(bad)
    assert float("nan") not in FRACTION and True not in POSITIVE_INT and 2.0 not in POSITIVE_INT
    assert Bounds(0, 1, low_open=True, integer=False).describe() == "a number above 0 and at most 1"


@pytest.mark.parametrize(("opts", "said"), [
    (["k=-1"], "bench retrieval: k must be a whole number of at least 1, not -1"),
    (["k=many"], "Config value k='many' must be a whole number"),
    (["kk=3"], "Unknown config key 'kk'. Did you mean 'k'?"),
])
def test_bench_options_are_typed_and_ranged_before_the_target_runs(opts, said, capsys):
    assert main(["bench", "retrieval", *[x for o in opts for x in ("--set", o)]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("steervis: error: ") and said in err[0]


def test_bench_options_read_numbers_yaml_leaves_as_text_and_name_what_is_missing(tmp_home, monkeypatch,
                                                                                   capsys):
    from steervis.commands._targets import target_options
    from steervis.eval.benchmarks import BENCHMARKS

    def target(adapter: str, C: float = 0.1, sizes: list[int] | tuple[int, ...] = (2,)) -> dict:  # noqa: N803
        return {"adapter": adapter, "C": C}

    options = target_options("bench", "t", target, None, ["adapter=2024", "C=1e-4"])
    # 2024 kept as typed where text is wanted; 1e-4 (text to YAML) a number where a number is
    assert (options.adapter, options.C, options.sizes) == ("2024", 1e-4, [2])
    with pytest.raises(SteervisError, match="bench t: C must be a number above 0, not 0"):
        target_options("bench", "t", target, None, ["C=0"])
    with pytest.raises(SteervisError, match="sizes must be a whole number of at least 1 each, not -2"):
        target_options("bench", "t", target, None, ["sizes=[2,-2]"])
    monkeypatch.setattr(BENCHMARKS, "get", lambda name: target)
    assert main(["bench", "t", "--set", "C=0.5"]) == 2
    assert "bench t needs adapter: give each as --set adapter=VALUE." in capsys.readouterr().err
    assert main(["bench", "t", "--set", "adapter=a", "--set", "C=0.5"]) == 0
    assert '"C": 0.5' in capsys.readouterr().out
    assert main(["bench", "t", "--print-config"]) == 0  # nothing missing is asked for: it only prints
    assert capsys.readouterr().out.splitlines() == ["adapter: null", "C: 0.1", "sizes:", "- 2"]


def test_the_old_bench_opt_spelling_names_the_new_one(capsys):
    assert main(["bench", "retrieval", "--opt", "k=3"]) == 2
    assert capsys.readouterr().err.strip() == ("steervis: error: bench takes no --opt: write --set k=3 "
                                               "(options are --set KEY=VALUE).")


@pytest.mark.parametrize("name",
                         ["llava-hf/llava-1.5-7b-hf", "openai/clip-vit-base-patch32", "Org_1/a.b-c_d"])
def test_a_hub_id_may_hold_dots(name):
    assert is_hub_id(name) and not is_explicit_path(name)


@pytest.mark.parametrize("name",
                         ["./x.pt", "/abs", "~/x", "model.safetensors", "a/b/c", "../up", "dir\\model"])
def test_what_looks_like_a_path_is_a_path(name):
    assert is_explicit_path(name) and not is_hub_id(name)


@pytest.mark.parametrize("name",
                         ["org/name.", "org/.hidden", ".org/name", "org//name", "org/na me", "tiny-llava"])
def test_what_breaks_the_hub_grammar_is_no_hub_id(name):
    assert not is_hub_id(name)


def test_what_exists_on_disk_never_changes_what_a_name_means(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    (tmp_path / "org" / "model").mkdir(parents=True)
    assert not is_explicit_path("runs") and not is_explicit_path("walks")  # bare names, folder or not
    assert is_hub_id("org/model") and not is_explicit_path("org/model")  # spelt as a hub id: a hub id
    assert is_explicit_path("./runs") and is_explicit_path("./org/model")  # a folder is meant: write a path


def test_open_vlm_takes_a_dotted_hub_id_for_a_hub_id_and_a_path_for_a_path(tmp_path):
    from steervis.llava.vlms import open_vlm

    with pytest.raises(SteervisError, match="'llava-hf/llava-1.5-7b-hf' is not available") as err:
        open_vlm("llava-hf/llava-1.5-7b-hf")  # offline in tests: the hub's sentence, not a missing file
    assert "does not exist" not in str(err.value)
    with pytest.raises(SteervisError, match="does not exist: give a folder written by `steervis vlm train`"):
        open_vlm(str(tmp_path / "model.safetensors"))
    with pytest.raises(SteervisError, match=r"holds no saved VLM \(no card.json\)"):
        open_vlm(str(tmp_path))
