"""A store with a realistic history: the Barking demo background ingested, checklists applied,
historic decisions and next-of-kin actions imported from a legacy file, live transitions, a
decision with its sign-off, a linkage alert and a consultation."""

from __future__ import annotations

import csv
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

BARKING = "MPS-2014-0828-K"
LEGACY_COLUMNS = ["case_id", "kind", "value", "officer", "rationale", "decided_at", "alternatives", "step_id", "state",
                  "owner", "due_at", "allocated_at", "completed_at", "note"]


def write_legacy(records: list[dict[str, Any]], path: Path, seed: int = 1) -> int:
    """A legacy export: each unexpected death's first classification, some referrals, and the
    next-of-kin step; gay and bisexual men's deaths planted slower and more often not suspicious."""
    rng = random.Random(seed)
    rows = []
    for record in records:
        if record["classification"] in (None, "expected"):
            continue
        found = datetime.fromisoformat(record["found_at"])
        target = "gay_bisexual_men" in record["victim_tags"]
        value = "unexpected_not_suspicious" if target or rng.random() < 0.5 else record["classification"]
        rows.append({"case_id": record["case_id"], "kind": "classification", "value": value, "officer": "DS Smith",
                     "rationale": "initial assessment at the scene",
                     "decided_at": (found + timedelta(hours=rng.uniform(1, 12))).isoformat(timespec="minutes")})
        if rng.random() < 0.3:
            rows.append({"case_id": record["case_id"], "kind": "referral", "value": "homicide team",
                         "officer": "DI Jones", "rationale": "suspicious circumstances",
                         "decided_at": (found + timedelta(hours=30)).isoformat(timespec="minutes")})
        hours = rng.uniform(40, 90) if target else rng.uniform(2, 30)
        rows.append({"case_id": record["case_id"], "kind": "action", "step_id": "S12_NEXT_OF_KIN", "state": "completed",
                     "officer": "PC Brown", "allocated_at": (found + timedelta(hours=1)).isoformat(timespec="minutes"),
                     "completed_at": (found + timedelta(hours=hours)).isoformat(timespec="minutes")})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, LEGACY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def build_history(url: str, tmp_path: Path) -> dict[str, Any]:
    """Build the history into the store at ``url``; returns what the tests need to know of it."""
    from sqlalchemy import select
    from typer.testing import CliRunner

    from caselink.assurance import apply_checklists, decide, signoff, transition_action
    from caselink.assurance.models import ActionRow
    from caselink.cli import app
    from caselink.demo import build_demo_records, write_records_csv
    from caselink.io import open_source
    from caselink.linkage.models import AlertRow
    from caselink.store import CaseStore

    records = build_demo_records(seed=7, n_background=160)
    unexpected = [r for r in records if r["classification"] not in (None, "expected") and not r["victim_tags"]]
    for record in random.Random(3).sample(unexpected, 16):  # enough gay and bisexual men to be published
        record["victim_tags"] = ["gay_bisexual_men"]
    cases_csv = tmp_path / "cases.csv"
    write_records_csv(records, cases_csv)
    legacy = tmp_path / "legacy.csv"
    n_legacy = write_legacy(records, legacy)
    with CaseStore.open(url) as store:
        store.ingest([open_source(cases_csv)], officer="loader")
        with store.engine.begin() as connection:
            apply_checklists(connection, [r["case_id"] for r in records])
    def cli(*args: str) -> Any:
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    result = cli("decisions", "import", str(legacy), "--db", url, "--officer", "archivist", "--json")
    assert result.exit_code == 0, result.stderr
    with CaseStore.open(url) as store:
        with store.engine.begin() as connection:
            found = datetime(2014, 8, 28, 7, 0)
            action_id = connection.execute(select(ActionRow.id).where(
                ActionRow.case_id == BARKING, ActionRow.step_id == "S01_CLASSIFY")).scalar_one()
            transition_action(connection, action_id, "allocated", "Sgt Green", owner="PC White",
                              now=found + timedelta(hours=1))
            transition_action(connection, action_id, "completed", "PC White", now=found + timedelta(minutes=90))
            decision_id = decide(connection, BARKING, "classification", "unexpected_not_suspicious", "DS Smith",
                                 "no third-party involvement apparent", alternatives="under investigation",
                                 now=found + timedelta(hours=3), rules=[])
            signoff(connection, decision_id, "DI Jones", now=found + timedelta(hours=8), rules=[])
            connection.execute(AlertRow.__table__.insert().values(
                raised_at=found + timedelta(hours=2), at="2014-08-28", kind="new_series", new_case_id=BARKING,
                series_id="S-0001", case_ids=[BARKING, "MPS-2014-0619-W"], probability=0.97, reasons=[],
                status="dismissed", run_id=None, details=None))
    shown = cli("cases", "show", BARKING, "--db", url, "--justification", "IOPC review of case 2",
                "--officer", "Inspector Grey")
    assert shown.exit_code == 0, shown.stderr
    return {"url": url, "records": records, "legacy": legacy, "n_legacy": n_legacy, "tmp": tmp_path}


@pytest.fixture(scope="module")
def sqlite_history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Built once per module (it takes seconds); each test gets its own copy of the file."""
    folder = tmp_path_factory.mktemp("history")
    return build_history(f"sqlite:///{folder / 'template.db'}", folder)


@pytest.fixture
def history(sqlite_history: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    template = Path(sqlite_history["url"].removeprefix("sqlite:///"))
    copy = tmp_path / "caselink.db"
    shutil.copyfile(template, copy)
    return {**sqlite_history, "url": f"sqlite:///{copy}", "tmp": tmp_path}
