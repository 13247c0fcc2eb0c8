"""Usage errors (a bad option value, an unknown option or command, a missing argument) are one line.

They come from the argument parser, before any caselink code runs, so they are pinned through the
installed entry point ``caselink.cli:main`` rather than the in-process runner.
"""

from __future__ import annotations

import pytest

from caselink.cli import main


@pytest.mark.parametrize(("argv", "named"), [
    (["link", "--threshold", "abc"], "--threshold"),
    (["link", "--threshold", "5"], "--threshold"),
    (["link", "--bogus"], "--bogus"),
    (["init"], "'init'"),
    (["explain", "A"], "case_b"),
    (["actions", "allocate", "abc"], "action_id"),
])
def test_usage_error_is_one_line_exit_2(argv: list[str], named: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["caselink", *argv])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("caselink: error: ") and named in err
    assert "--help" in err and "╭" not in err


def test_bare_caselink_still_prints_its_help(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["caselink"])
    with pytest.raises(SystemExit):
        main()
    assert "Usage: caselink" in capsys.readouterr().out


def test_a_command_that_succeeds_exits_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["caselink", "--version"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("caselink ")
