"""The demo with the shipped model: the Barking series is alerted at its second death, and the third
joins the same series (the headline target of issue 3)."""

from __future__ import annotations

import json
from pathlib import Path

PORT_IDS = ["MPS-2014-0619-W", "MPS-2014-0828-K", "MPS-2014-0920-D", "MPS-2015-0914-T"]


def test_demo_replay_contract_and_barking_alert(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("demo", "--db", str(tmp_path / "demo.db"), "--json")
    assert result.exit_code == 0, result.stderr
    alerts = json.loads(result.stdout)["alerts"]
    barking = [a for a in alerts if a["new_case_id"] in PORT_IDS]
    assert barking, "the Barking series raised no alert"
    first = barking[0]
    assert (first["at"], first["new_case_id"], first["kind"]) == ("2014-08-28", PORT_IDS[1], "new_series")
    assert set(PORT_IDS[:2]) <= set(first["case_ids"])
    third = [a for a in barking if a["new_case_id"] == PORT_IDS[2]]
    assert third and third[0]["series_id"] == first["series_id"], "the third death must join the same series"
    # few alerts in the background: the model must not bury analysts
    assert len(alerts) - len(barking) <= 10
    # The store is left as a live import leaves one: the same alerts stored for triage, checklists applied.
    stored = json.loads(cli("alerts", "--db", str(tmp_path / "demo.db"), "--status", "all", "--json").stdout)
    def kinds(rows: list[dict]) -> list[tuple[str, str]]:  # type: ignore[type-arg]
        return sorted((a["new_case_id"], a["kind"]) for a in rows)

    assert kinds(stored["alerts"]) == kinds(alerts)
    actions = json.loads(cli("actions", "list", "--db", str(tmp_path / "demo.db"), "--case", PORT_IDS[1],
                             "--json").stdout)["actions"]
    assert actions, "the second Barking death got no basic-steps checklist"
    text = cli("demo", "--db", str(tmp_path / "demo.db"))
    assert "would have raised the alarm on" in text.stdout and "October 2015" in text.stdout
