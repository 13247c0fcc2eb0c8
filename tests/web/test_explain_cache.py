"""The web's explanation cache never outlives the data an explanation was made from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caselink.io import open_source
from tests.web.conftest import CASES, write_cases


def _substances_step(api: Any) -> str:
    response = api("analyst").get("/api/series/S-0001/explain", params={"case_a": "BK-01", "case_b": "BK-02"})
    assert response.status_code == 200, response.text
    return next(step["level"] for step in response.json()["steps"] if step["comparison"] == "substances")


def test_an_edit_of_either_case_recomputes_the_explanation(app: Any, api: Any, tmp_path: Path) -> None:
    before = _substances_step(api)
    assert _substances_step(api) == before  # served again, same answer
    edited = [dict(row, substances="heroin") if row["case_id"] == "BK-02" else row for row in CASES]
    app.state.store.ingest([open_source(write_cases(tmp_path / "edit.csv", edited))])
    after = _substances_step(api)
    assert after != before, "the explanation still shows GHB in both after BK-02's toxicology was corrected"
    assert "no substance in common" in after


def test_a_waterfall_is_a_logged_consultation_of_both_cases(app: Any, api: Any) -> None:
    from caselink.audit import read_entries

    response = api("analyst").get("/api/series/S-0001/explain", params={"case_a": "BK-01", "case_b": "BK-02"},
                                  headers={"X-Justification": "link review"})
    assert response.status_code == 200, response.text
    with app.state.store.engine.connect() as connection:
        entries = [e for e in read_entries(connection, action="consultation") if e.details.get("view") == "explain"]
    assert [(e.case_ids, e.justification) for e in entries] == [(["BK-01", "BK-02"], "link review")]
