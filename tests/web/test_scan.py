"""The scan results page and its /api/scan twin: typed filters, bounded parameters, logged runs.

A small store (36 cases) with five GHB deaths planted within 300 m and three days keeps each scan
to a fraction of a second with 19 replicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from caselink.audit import read_entries
from caselink.io import open_source
from caselink.store import CaseStore
from caselink.web import WebSettings, auth, create_app
from tests.web.conftest import write_cases

PLANTED = [f"CL-{i}" for i in range(1, 6)]
FAST = {"permutations": 19, "seed": 7}


def _rows() -> list[dict[str, Any]]:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(31):  # background: natural deaths spread over ~20 km and 300 days
        day = date(2014, 1, 1) + timedelta(days=int(rng.integers(0, 300)))
        rows.append({"case_id": f"BG-{i:02d}", "found_at": f"{day.isoformat()}T12:00",
                     "lat": round(51.4 + rng.random() * 0.2, 5), "lon": round(-0.2 + rng.random() * 0.3, 5),
                     "cause": "natural", "victim_sex": "F",
                     "victim_age": int(rng.integers(30, 90)), "place_type": "residence"})
    for i, case_id in enumerate(PLANTED):  # the cluster: five GHB deaths of young men, 300 m, three days
        rows.append({"case_id": case_id, "found_at": f"{date(2014, 6, 10) + timedelta(days=i % 3)}T12:00",
                     "lat": 51.5362 + 0.0005 * i, "lon": 0.0810 + 0.0007 * i, "cause": "drug_toxicity",
                     "substances": "ghb", "victim_sex": "M", "victim_age": 22 + i, "place_type": "street",
                     "victim_tags": "gay_bisexual_men"})
    return rows


@pytest.fixture(scope="module")
def scan_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scan_web")
    with CaseStore.open(f"sqlite:///{folder / 'scan.db'}") as store:
        store.ingest([open_source(write_cases(folder / "cases.csv", _rows()))])
        for role in ("analyst", "admin"):
            auth.add_user(store.engine, role, role, None)  # token-only users: no slow password hashing
    return folder / "scan.db"


@pytest.fixture
def scan_app(scan_template: Path, tmp_path: Path) -> Any:
    target = tmp_path / "scan.db"
    target.write_bytes(scan_template.read_bytes())
    return create_app(f"sqlite:///{target}", WebSettings(secure_cookies=False))


@pytest.fixture
def client(scan_app: Any) -> Iterator[TestClient]:
    token = auth.issue_token(scan_app.state.engine, "analyst")[1]
    with TestClient(scan_app, headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False) as c:
        yield c


def _combinations(app: Any) -> list[Any]:
    with app.state.engine.connect() as connection:
        return list(read_entries(connection, action="combination"))


def test_api_finds_the_planted_cluster_and_logs_the_run(client: TestClient, scan_app: Any) -> None:
    response = client.get("/api/scan", params={**FAST, "max_radius_km": 1, "max_days": 7})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["n_cases"] == 36 and "reason" not in body
    best = body["clusters"][0]
    assert best["rank"] == 1 and sorted(best["case_ids"]) == PLANTED
    assert best["observed"] == 5 and best["start"] == "2014-06-10" and best["end"] == "2014-06-12"
    assert best["p_value"] == pytest.approx(1 / 20)  # no replicate reaches the planted cluster
    assert {m["case_id"]: m["cluster"] for m in body["members"] if m["case_id"] in PLANTED} == dict.fromkeys(PLANTED, 1)
    assert all(m["lat"] is not None and m["lon"] is not None for m in body["members"])
    (entry,) = _combinations(scan_app)
    assert entry.officer == "analyst" and set(PLANTED) <= set(entry.case_ids)
    assert entry.details is not None and entry.details["view"] == "scan" and entry.details["n_cases"] == 36
    assert entry.details["parameters"]["permutations"] == 19


def test_same_seed_same_answer(client: TestClient) -> None:
    params = {**FAST, "max_radius_km": 1}
    assert client.get("/api/scan", params=params).json()["clusters"] == \
        client.get("/api/scan", params=params).json()["clusters"]


def test_typed_filters_choose_the_cases(client: TestClient) -> None:
    body = client.get("/api/scan", params={**FAST, "substance": "GHB", "max_radius_km": 1, "max_days": 2}).json()
    assert body["n_cases"] == 5  # folded like ingest: GHB -> ghb
    natural = client.get("/api/scan", params={**FAST, "cause": "natural", "sex": "f", "min_age": 30}).json()
    assert natural["n_cases"] == 31
    assert not any(c in PLANTED for cluster in natural["clusters"] for c in cluster["case_ids"])


def test_no_cluster_says_why(client: TestClient, scan_app: Any) -> None:
    body = client.get("/api/scan", params={**FAST, "cause": "natural", "max_radius_km": 0.01, "max_days": 1}).json()
    assert body["clusters"] == [] and body["members"] == []
    assert body["reason"].startswith("no space-time cluster: among 31 cases, no circle of up to 0.01 km")
    assert _combinations(scan_app)[-1].case_ids == []  # the run is logged even when it finds nothing


@pytest.mark.parametrize(("params", "field"), [
    ({"permutations": 1000}, "permutations"), ({"permutations": -1}, "permutations"),
    ({"max_radius_km": 0}, "max_radius_km"), ({"max_radius_km": 51}, "max_radius_km"),
    ({"max_days": 0}, "max_days"), ({"seed": -3}, "seed"), ({"sex": "Q"}, "sex"), ({"from": "June"}, "from"),
    ({"cause": "x' OR 1=1 --"}, "filters"), ({"to": "2013-01-01"}, "filters"),
    ({"cause": "drug_toxicity", "max_days": 1, "from": "2014-06-10", "to": "2014-06-11"}, "filters"),
])
def test_bad_input_is_a_422_naming_the_field(client: TestClient, scan_app: Any, params: dict[str, Any],
                                             field: str) -> None:
    response = client.get("/api/scan", params={**FAST, **params})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert _combinations(scan_app) == []  # nothing scanned, nothing logged


def test_page_shows_the_form_first_then_the_results(client: TestClient, scan_app: Any) -> None:
    form = client.get("/scan", headers={"Accept": "text/html"})
    assert form.status_code == 200 and 'id="scan-form"' in form.text and 'id="clusters"' not in form.text
    assert _combinations(scan_app) == []  # opening the page runs nothing
    # Exactly what the browser submits: every field, the empty ones too.
    query = ("run=1&cause=&substance=ghb&place_type=&sex=&min_age=&max_age=&from=&to=&max_radius_km=1"
             "&max_days=7&permutations=19&seed=&time_aggregation=day")
    page = client.get("/scan?" + query, headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert 'id="clusters"' in page.text and 'id="map"' in page.text and "/static/scan.js" in page.text
    linked = [case_id for case_id in PLANTED if f'href="/cases/{case_id}"' in page.text]
    assert len(linked) >= 2 and 'href="/cases/BG-' not in page.text  # only GHB deaths were scanned
    assert "tile" not in page.text.split('id="map"', 1)[1].split(">", 1)[0].replace('data-tiles=""', "")


def test_page_puts_messages_beside_the_field(client: TestClient) -> None:
    page = client.get("/scan?run=1&sex=Q&permutations=19", headers={"Accept": "text/html"})
    assert page.status_code == 422 and 'id="error-sex"' in page.text and "not one of F, M, X, U" in page.text
    empty = client.get("/scan?run=1&cause=nothing_like_this&permutations=19", headers={"Accept": "text/html"})
    assert empty.status_code == 422 and 'id="error-filters"' in empty.text and "no case matches" in empty.text


def test_page_says_why_there_is_no_cluster(client: TestClient) -> None:
    page = client.get("/scan?run=1&cause=natural&max_radius_km=0.01&max_days=1&permutations=9",
                      headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'id="no-cluster"' in page.text and 'id="map"' not in page.text


def test_admin_may_not_scan(scan_app: Any) -> None:
    token = auth.issue_token(scan_app.state.engine, "admin")[1]
    with TestClient(scan_app, headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False) as c:
        assert c.get("/api/scan").status_code == 403
