"""Checklists: the default applies to the right cases, `when` gates steps, bad files are named by line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection

from caselink.assurance import ConfigFileError, UnknownCase, apply_checklists, list_actions, load_checklists
from caselink.assurance.checklists import parse_checklist


def test_default_checklist_is_the_shared_one() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "checklists" / "unexplained_death.yaml"
    (checklist,) = load_checklists(use_env=False)
    assert checklist.name == "unexplained_death" and len(checklist.steps) == 16
    if shared.exists():
        assert parse_checklist(shared).steps == checklist.steps


def test_apply_creates_each_step_once_with_due_times(connection: Connection) -> None:
    created = apply_checklists(connection, ["d1", "d2", "d3", "e1", "n1"])
    # d1 has a note (16 steps); d2 and d3 do not (15 each); expected deaths and non-fatal get none.
    assert created == 16 + 15 + 15
    assert apply_checklists(connection, ["d1", "d2", "d3"]) == 0
    d1 = {a["step_id"]: a for a in list_actions(connection, case_id="d1")}
    assert "S07_DOCUMENT_EXAMINATION" in d1
    assert "S07_DOCUMENT_EXAMINATION" not in {a["step_id"] for a in list_actions(connection, case_id="d2")}
    assert d1["S01_CLASSIFY"]["due_at"] == "2014-06-19T10:00:00Z"
    assert d1["S13_CORONER_CONCERNS"]["due_at"] == "2014-06-26T08:00:00Z"
    assert all(a["state"] == "for_allocation" and a["owner"] is None for a in d1.values())
    assert list_actions(connection, case_id="e1") == []


def test_overdue_filter(connection: Connection) -> None:
    from tests.assurance.conftest import EARLY

    apply_checklists(connection, ["d1"])
    assert list_actions(connection, overdue=True, now=EARLY) == []
    late = list_actions(connection, overdue=True, now=EARLY + timedelta(hours=2))
    assert [a["step_id"] for a in late] == ["S01_CLASSIFY"]
    assert len(list_actions(connection, overdue=False, now=EARLY + timedelta(hours=2))) == 15


def test_apply_to_unknown_case_writes_nothing(connection: Connection) -> None:
    with pytest.raises(UnknownCase, match="no case 'zz'"):
        apply_checklists(connection, ["d1", "zz"])
    assert list_actions(connection) == []


def test_user_checklist_folder_adds_steps(connection: Connection, tmp_path: Path) -> None:
    (tmp_path / "ghb.yaml").write_text(
        "name: ghb_deaths\napplies_to: {substances: [ghb, gbl]}\nsteps:\n"
        "  - {id: G01, title: Check for earlier GHB deaths nearby, due_hours: 6}\n", encoding="utf-8")
    checklists = load_checklists([tmp_path], use_env=False)
    assert [c.name for c in checklists] == ["unexplained_death", "ghb_deaths"]


BAD_FILES = [
    ("name: x\nsteps:\n  - {id: A, title: t, due_hours: -3}\n", 3, "due_hours"),
    ("name: x\nsteps:\n  - {id: A, title: t, due_hours: 1}\n  - {id: A, title: u, due_hours: 1}\n", 4, "used twice"),
    ("name: x\napplies_to: {colour: red}\nsteps:\n  - {id: A, title: t, due_hours: 1}\n", 2, "unknown field"),
    ("name: x\nsteps:\n  - {id: A, title: t, due_hours: 1, when: {mo: {has: x}}}\n", 3, "operator"),
    ("name: x\nsteps: [\n", 3, "not valid YAML"),
    ("name: x\nstep:\n  - {id: A}\n", 2, "unknown key"),
    ("name: x\nsteps:\n\n  - id: A\n    title: t\n    due_hours: soon\n", 6, "due_hours"),
    ("", 1, "empty"),
]


@pytest.mark.parametrize(("body", "line", "words"), BAD_FILES)
def test_malformed_checklist_is_named_with_its_line(tmp_path: Path, body: str, line: int, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        parse_checklist(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert words in message and "\n" not in message


def test_cli_checklists(cli: object, tmp_path: Path, assurance_db: object) -> None:
    url = assurance_db.url  # type: ignore[attr-defined]
    listed = cli("checklists", "list")  # type: ignore[operator]
    assert listed.exit_code == 0 and "S07_DOCUMENT_EXAMINATION" in listed.stdout
    bad = tmp_path / "extra"
    bad.mkdir()
    (bad / "broken.yaml").write_text("name: x\nsteps:\n  - {id: A, title: t, due_hours: 0}\n")
    refused = cli("checklists", "apply", "--db", url, "--checklists", str(bad))  # type: ignore[operator]
    assert refused.exit_code == 2 and "broken.yaml:3:" in refused.stderr
    assert "0 action" in cli("actions", "list", "--db", url).stdout  # type: ignore[operator]
    applied = cli("checklists", "apply", "--db", url, "--case", "d2", "--json")  # type: ignore[operator]
    assert applied.exit_code == 0 and '"n_actions_created": 15' in applied.stdout
    unknown = cli("checklists", "apply", "--db", url, "--case", "zz")  # type: ignore[operator]
    assert unknown.exit_code == 2 and "no case 'zz'" in unknown.stderr
    assert "`caselink cases list` shows the ids" in unknown.stderr  # says what to do, as decide does
    checked = cli("checklists", "check", str(bad / "broken.yaml"))  # type: ignore[operator]
    assert checked.exit_code == 2 and ":3:" in checked.stderr


def test_an_unclassified_death_gets_the_checklist_that_starts_by_classifying_it(cli: object, tmp_path: Path,
                                                                                 sqlite_url: str) -> None:
    import json

    source = tmp_path / "deaths.csv"
    source.write_text("case_id,found_at,lat,lon,classification\nU1,2014-06-19T08:00,51.5,0.05,\n"
                      "X1,2014-06-20T08:00,51.5,0.06,expected\n", encoding="utf-8")
    assert cli("ingest", str(source), "--db", sqlite_url).exit_code == 0  # type: ignore[operator]

    def steps(case_id: str) -> list[str]:
        listed = cli("actions", "list", "--db", sqlite_url, "--case", case_id, "--json")  # type: ignore[operator]
        return [a["step_id"] for a in json.loads(listed.stdout)["actions"]]

    assert "S01_CLASSIFY" in steps("U1") and steps("X1") == []
