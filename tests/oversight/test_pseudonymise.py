"""The pseudonymised research export: keyed hashes, weeks, grid, no free text, small cells, a disclosure."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from typing import Any

from caselink.oversight.pseudonymise import grid_cell, iso_week


def _export(cli: Any, url: str, out: Any, recipient: str | None) -> Any:
    args = ["export", "--db", url, "--pseudonymise", "--out", str(out), "--justification", "research on effort",
            "--officer", "Data Officer"]
    return cli(*args, *(["--recipient", recipient] if recipient else []))


def test_research_export_is_pseudonymised_and_logged(history: dict[str, Any], cli: Any) -> None:
    url, tmp = history["url"], history["tmp"]
    first, second, other = tmp / "a1.csv", tmp / "a2.csv", tmp / "b.csv"
    for out, recipient in ((first, "University A"), (second, "University A"), (other, "University B")):
        result = _export(cli, url, out, recipient)
        assert result.exit_code == 0, result.stderr
    text = first.read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == len(history["records"])
    for record in history["records"][:50]:
        assert record["case_id"] not in text
        if record["narrative"]:
            assert record["narrative"][:30] not in text
    assert "narrative" not in rows[0] and "area" not in rows[0] and "case_id" not in rows[0]
    assert all(re.fullmatch(r"\d{4}-W\d{2}", row["found_week"]) for row in rows)
    assert not any(":finder" in row["entities"] for row in rows)
    for column in ("victim_ethnicity", "age_band", "cause", "place_type"):
        counts = Counter(row[column] for row in rows if row[column] not in ("", "suppressed"))
        assert all(n >= 5 for n in counts.values()), column
    tags = Counter(tag for row in rows for tag in row["victim_tags"].split(";") if tag and tag != "suppressed")
    assert all(n >= 5 for n in tags.values()) and "gay_bisexual_men" in tags
    again = [row["pid"] for row in csv.DictReader(second.read_text(encoding="utf-8").splitlines())]
    elsewhere = [row["pid"] for row in csv.DictReader(other.read_text(encoding="utf-8").splitlines())]
    assert again == [row["pid"] for row in rows]  # stable for one recipient
    assert not set(elsewhere) & set(again)       # unlinkable between recipients
    log = json.loads(cli("audit", "log", "--db", url, "--action", "disclosure", "--json").stdout)["entries"]
    assert len(log) == 3 and log[0]["justification"] == "research on effort"
    assert log[0]["details"]["recipient"] == "University A" and log[0]["details"]["pseudonymised"] is True


def test_a_pseudonymised_export_needs_a_recipient(history: dict[str, Any], cli: Any) -> None:
    out = history["tmp"] / "nobody.csv"
    result = _export(cli, history["url"], out, None)
    assert result.exit_code == 2 and "--recipient" in result.stderr
    assert not out.exists()


def test_weeks_and_grid_cells() -> None:
    from datetime import datetime

    assert iso_week(datetime(2014, 8, 28, 7)) == "2014-W35"
    assert iso_week(datetime(2015, 1, 1)) == "2015-W01"
    centre = grid_cell(51.5401, 0.0812)
    assert grid_cell(51.5405, 0.0815) == centre and abs(centre[0] - 51.5401) < 0.01


def test_weeks_are_the_agencys_own_calendar() -> None:
    """Monday 23 June 2014, 00:30 in London is Sunday 23:30 UTC: its week is W26, not W25."""
    from datetime import datetime

    assert iso_week(datetime(2014, 6, 22, 23, 30), 60) == "2014-W26"
    assert iso_week(datetime(2014, 6, 22, 23, 30)) == "2014-W25"


def test_pseudonymised_csv_cells_never_open_as_formulas(cli: Any, sqlite_url: str, tmp_path: Any) -> None:
    rows = ["case_id,agency,found_at,lat,lon,cause"]
    rows += [f"P{i},=HYPERLINK(\"http://x\"),2014-06-{10 + i:02d},51.5,0.05,natural" for i in range(6)]
    source = tmp_path / "cases.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert cli("ingest", str(source), "--db", sqlite_url).exit_code == 0
    out = tmp_path / "pseudo.csv"
    assert _export(cli, sqlite_url, out, "University A").exit_code == 0
    exported = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert {row["agency"] for row in exported} == {"'=HYPERLINK(\"http://x\")"}
