"""What steervis may write over: the user's folders are refused, never removed; outputs appear whole or
marked."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest

from steervis.atomic import atomic_dir, replace_dir
from steervis.disk import check_writable, os_error_sentence, output_lock
from steervis.errors import SteervisError
from steervis.outputs import check_out_dir, read_stamp, require_finished, write_stamp


@pytest.fixture
def users_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work")
    return folder


def test_a_folder_of_the_users_own_is_refused_even_with_overwrite(users_folder):
    for overwrite in (False, True):
        with pytest.raises(SteervisError, match=r"holds files steervis did not write \(thesis.txt\)"):
            check_out_dir(users_folder, overwrite=overwrite)
    assert (users_folder / "thesis.txt").read_text() == "years of work"


def test_a_previous_steervis_output_needs_overwrite(tmp_path):
    out = tmp_path / "adapter"
    with atomic_dir(out, kind="adapter") as tmp:
        (tmp / "card.json").write_text("{}")
    with pytest.raises(SteervisError, match="previous steervis adapter: add --overwrite"):
        check_out_dir(out)
    assert check_out_dir(out, overwrite=True) == out.resolve()
    assert check_out_dir(tmp_path / "new") == (tmp_path / "new").resolve()


@pytest.mark.parametrize("out, data, word", [("toy", "toy", "is"), ("toy/photo", "toy", "lies inside"),
                                             (".", "toy", "holds"), ("..", "toy", "holds")])
def test_an_output_over_the_input_is_refused(tmp_path, monkeypatch, out, data, word):
    (tmp_path / "toy" / "photo").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "toy" if out == ".." else tmp_path)
    data = "." if out == ".." else data
    with pytest.raises(SteervisError, match=f"{word} the input folder"):
        check_out_dir(out, inputs=[data])


def test_replace_dir_never_deletes_a_users_folder(tmp_path, users_folder):
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(SteervisError, match="left as it is"):
        replace_dir(staging, users_folder)
    assert (users_folder / "thesis.txt").exists() and staging.exists()


def test_a_folder_inside_the_cache_is_steervis_own(tmp_home):
    folder = tmp_home / "models" / "x"
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_text("old")
    staging = tmp_home / "staging"
    staging.mkdir()
    (staging / "weights.bin").write_text("new")
    replace_dir(staging, folder)
    assert (folder / "weights.bin").read_text() == "new"


def test_the_stamp_is_written_last_and_marks_a_finished_folder(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(RuntimeError), atomic_dir(out, kind="run", config_hash="abc"):
        raise RuntimeError("killed while writing")
    assert not out.exists() and not list(tmp_path.iterdir())  # nothing half-written, no staging left
    with atomic_dir(out, kind="run", config_hash="abc") as tmp:
        (tmp / "metrics.json").write_text("{}")
    assert read_stamp(out)["config_hash"] == "abc" and require_finished(out)["kind"] == "run"
    write_stamp(out, "run", "abc", state="started")
    assert read_stamp(out) is None
    with pytest.raises(SteervisError, match="incomplete"):
        require_finished(out)


LOCK_HOLDER = """
import sys, time
from steervis.disk import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(30)
"""


def test_a_second_writer_of_one_output_is_refused(tmp_path, tmp_home):
    out = tmp_path / "adapter"
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(out)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SteervisError, match="Another steervis process is writing"), output_lock(out):
            pass
    finally:
        holder.kill()
        holder.wait()
    with output_lock(out):  # free again once the holder is gone
        pass
    assert not any(p.name.endswith(".lock") for p in tmp_path.iterdir())  # no lock file in the user's folders


def test_preflight_refuses_an_unwritable_place_and_a_full_disk(tmp_path, monkeypatch):
    with pytest.raises(SteervisError, match="is not writable"):
        check_writable("/proc/steervis/out.csv", 0, "the predictions")
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10 << 20, 9 << 20, 1 << 20))
    with pytest.raises(SteervisError, match="Not enough free space .* 1 MB free .* about 64 MB needed"):
        check_writable(tmp_path / "a", 64 << 20, "the adapter")
    check_writable(tmp_path / "a", 1 << 10, "the adapter")


def test_an_os_error_is_one_sentence_naming_the_path():
    full = OSError(errno.ENOSPC, "No space left on device", "/data/out/predictions.parquet")
    assert os_error_sentence(full).startswith("The disk is full while writing /data/out/predictions.parquet")
    denied = PermissionError(errno.EACCES, "Permission denied", "/data/photo")
    assert os_error_sentence(denied) == ("Permission denied for /data/photo: check its permissions, or "
                                         "choose another place.")
    assert os_error_sentence(OSError(errno.EIO, "Input/output error")).startswith(
        "Input/output error (OSError)")


def test_the_cli_turns_an_os_error_into_one_sentence(monkeypatch, capsys, tmp_home):
    from steervis import cli

    def boom(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/x/y.parquet")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["models"].set_defaults(func=boom)
    assert cli.main(["models"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["steervis: error: The disk is full while writing /x/y.parquet: free some space, then "
                   "rerun the same command to resume."]



def test_files_added_to_an_earlier_output_are_never_deleted(tmp_path):
    out = tmp_path / "adapter"
    with atomic_dir(out, kind="adapter") as tmp:
        (tmp / "card.json").write_text('{"card_version": 1}')
    (out / "my_notes.md").write_text("mine")
    with pytest.raises(SteervisError, match=r"beside its earlier output \(my_notes.md\): move them out"):
        check_out_dir(out, overwrite=True)
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(SteervisError, match="left as it is"):
        replace_dir(staging, out)
    assert (out / "my_notes.md").read_text() == "mine"


@pytest.mark.parametrize("planted", [{".steervis.json": "{}"}, {".steervis.json": "not json"},
                                     {"card.json": '{"title": "my card"}'},
                                     {"config.yaml": "x: 1", "parts/a": ""}])
def test_a_look_alike_of_a_steervis_marker_does_not_make_a_folder_ours(tmp_path, planted):
    folder = tmp_path / "mine"
    for name, text in {**planted, "thesis.tex": "years of work"}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    with pytest.raises(SteervisError, match="holds files steervis did not write"):
        check_out_dir(folder, overwrite=True)


def test_an_output_of_another_kind_is_not_replaced(tmp_path):
    out = tmp_path / "run"
    with atomic_dir(out, kind="run"):
        pass
    with pytest.raises(SteervisError, match="holds a steervis run, not a toy dataset"):
        check_out_dir(out, overwrite=True, kind="toy dataset")


def test_a_swap_killed_between_its_renames_puts_the_earlier_output_back(tmp_path):
    out = tmp_path / "adapter"
    with atomic_dir(out, kind="adapter") as tmp:
        (tmp / "card.json").write_text('{"card_version": 1}')
    out.rename(tmp_path / ".adapter.old-123-abcd")  # what a kill after the first rename leaves
    assert check_out_dir(out, overwrite=True) == out.resolve()
    assert (out / "card.json").exists() and not (tmp_path / ".adapter.old-123-abcd").exists()


def test_the_cache_root_itself_is_never_replaced(tmp_home):
    from steervis.outputs import may_replace

    (tmp_home / "models").mkdir(parents=True)
    assert not may_replace(tmp_home) and may_replace(tmp_home / "models")
