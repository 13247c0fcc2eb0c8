"""Fixtures for the web tests: a store with a few cases, one user per role, and in-process clients.

Each test gets a fresh app over a fresh database (no shared state between tests).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from caselink.io import open_source  # noqa: E402
from caselink.store import CaseStore  # noqa: E402
from caselink.web import WebSettings, auth, create_app  # noqa: E402
from caselink.web.permissions import ROLES  # noqa: E402

PASSWORD = "correct horse battery"
CASES = [
    {"case_id": "BK-01", "agency": "Met", "found_at": "2014-06-19T07:15", "lat": 51.5362, "lon": 0.0810,
     "place_type": "residence", "area": "Barking", "victim_age": 23, "victim_sex": "M", "cause": "drug_toxicity",
     "substances": "ghb", "mo": "body_moved", "victim_tags": "gay_bisexual_men", "victim_ethnicity": "White",
     "narrative": "Found outside a block of flats.", "classification": "unexpected_not_suspicious"},
    {"case_id": "BK-02", "agency": "Met", "found_at": "2014-08-28T08:00", "lat": 51.5390, "lon": 0.0780,
     "place_type": "churchyard_cemetery", "area": "Barking", "victim_age": 22, "victim_sex": "M",
     "cause": "drug_toxicity", "substances": "ghb", "mo": "propped_sitting", "victim_tags": "gay_bisexual_men",
     "narrative": "Found in the churchyard.", "classification": "unexpected_not_suspicious"},
    {"case_id": "XX-03", "agency": "Kent", "found_at": "2015-01-03", "lat": 51.27, "lon": 1.08,
     "place_type": "street", "area": "Canterbury", "victim_age": 70, "victim_sex": "F", "cause": "natural"},
]


def write_cases(path: Path, rows: list[dict[str, Any]]) -> Path:
    fields = sorted({k for row in rows for k in row})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def web_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session (argon2 hashing is slow on purpose); each test copies the file."""
    folder = tmp_path_factory.mktemp("web_template")
    with CaseStore.open(f"sqlite:///{folder / 'template.db'}") as store:
        store.ingest([open_source(write_cases(folder / "cases.csv", CASES))])
        for role in ROLES:
            auth.add_user(store.engine, role, role, PASSWORD)
        add_series_and_checklists(store.engine)
    return folder / "template.db"


def add_series_and_checklists(engine: Any) -> None:
    """A stored series S-0001 (BK-01, BK-02) with its alert, as linkage leaves them, and checklist actions.

    Written through the linkage area's models rather than by running Splink, to keep the web tests
    fast; the rows have exactly the shape ``caselink.linkage.incremental`` stores.
    """
    from datetime import datetime

    from caselink.assurance import apply_checklists, list_actions, transition_action
    from caselink.linkage.models import AlertRow, SeriesLinkRow, SeriesMemberRow, SeriesRow

    stamp = datetime(2014, 8, 28, 9, 0)
    reasons = ["all 2 within 0.4 km", "ghb in 2 of 2"]
    with engine.begin() as connection:
        connection.execute(SeriesRow.__table__.insert().values(
            series_id="S-0001", status="active", merged_into=None, created_at=stamp, updated_at=stamp, n_cases=2,
            score=0.97, first_found_at="2014-06-19", last_found_at="2014-08-28", reasons=reasons))
        connection.execute(SeriesMemberRow.__table__.insert(), [
            {"series_id": "S-0001", "case_id": "BK-01", "joined_at": stamp},
            {"series_id": "S-0001", "case_id": "BK-02", "joined_at": stamp}])
        connection.execute(SeriesLinkRow.__table__.insert().values(
            case_a="BK-01", case_b="BK-02", probability=0.97, match_weight=5.0, run_id=None))
        connection.execute(AlertRow.__table__.insert().values(
            raised_at=stamp, at="2014-08-28", kind="formed", new_case_id="BK-02", series_id="S-0001",
            case_ids=["BK-01", "BK-02"], probability=0.97, reasons=reasons, status="open", run_id=None,
            details="{}"))
        apply_checklists(connection, ["BK-01", "BK-02", "XX-03"])
        # One BK-02 action is allocated to the investigator, so they may write on BK-02 (not on BK-01).
        first = list_actions(connection, case_id="BK-02")[0]
        transition_action(connection, first["id"], "allocated", "supervisor", owner="investigator")


@pytest.fixture
def web_db(web_db_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "caselink.db"
    shutil.copyfile(web_db_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_factory(web_db: str) -> Callable[..., Any]:
    def make(**settings: Any) -> Any:
        return create_app(web_db, WebSettings(**{"secure_cookies": False, **settings}))
    return make


@pytest.fixture
def app(app_factory: Callable[..., Any]) -> Any:
    return app_factory()


@pytest.fixture
def tokens(app: Any) -> dict[str, str]:
    return {role: auth.issue_token(app.state.engine, role)[1] for role in ROLES}


@pytest.fixture
def api(app: Any, tokens: dict[str, str]) -> Iterator[Callable[..., TestClient]]:
    """``api("analyst")``: a client that sends that role's bearer token."""
    clients: list[TestClient] = []

    def client_for(role: str | None) -> TestClient:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
        client = TestClient(app, headers=headers, raise_server_exceptions=False)
        clients.append(client)
        return client

    yield client_for
    for client in clients:
        client.close()


def browser_signin(app: Any, name: str, password: str = PASSWORD) -> TestClient:
    """A cookie-holding client that signed in through the form, as a person would."""
    # On localhost, as a developer's browser: the apps here send cookies without Secure (plain http).
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False, base_url="http://localhost")
    page = client.get("/signin")
    token = page.text.split('name="signin_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/signin", data={"name": name, "password": password, "signin_token": token})
    assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient, path: str = "/me") -> str:
    html = client.get(path).text
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
