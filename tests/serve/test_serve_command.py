"""`steervis serve` on the command line: its config, a taken port and bad numbers in one sentence."""

from __future__ import annotations

import socket

import pytest

from steervis.cli import main


def test_print_config_shows_the_settings_and_serves_nothing(capsys):
    assert main(["serve", "--port", "9000", "--classes", "cat,dog", "--set", "options.matcher=tiny-clip",
                 "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert "host: 127.0.0.1" in printed and "port: 9000" in printed and "- cat" in printed
    assert "matcher: tiny-clip" in printed and "max_upload_mb: 20" in printed


def test_a_taken_port_is_one_sentence(tmp_home, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"Cannot listen on 127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "words"), [(["--port", "-1"], "--port"),
                                             (["--set", "max_upload_mb=0"], "max_upload_mb"),
                                             (["--set", "prot=1"], "Did you mean 'port'")])
def test_bad_settings_are_refused_before_serving(argv, words, tmp_home, capsys):
    try:
        code = main(["serve", *argv])
    except SystemExit as stop:  # argparse's own refusal of a flag value
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
