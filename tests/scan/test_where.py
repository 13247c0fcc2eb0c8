"""``scan --where``: DESIGN §4's SQL-looking filter, read by a closed grammar and never run as SQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from caselink.scan.where import WhereError, apply_where, columns_of

CASES = pd.DataFrame({
    "case_id": ["A", "B", "C", "D"],
    "cause": ["drug_toxicity", "fall", None, "drug_toxicity"],
    "victim_age": [23.0, 71.0, 30.0, None],
    "victim_sex": ["M", "F", "M", "M"],
    "found_at": pd.to_datetime(["2014-06-19", "2014-08-28", "2014-09-20", "2015-09-14"]),
    "area": ["Barking", "Dagenham", None, "Barking"],
})


@pytest.mark.parametrize(("text", "ids"), [
    ("cause = 'drug_toxicity'", ["A", "D"]),
    ("cause = 'overdose'", ["A", "D"]),  # folds as at ingest
    ("victim_age < 30", ["A"]),  # D's age is not recorded: unknown, not a match
    ("NOT victim_age < 30", ["B", "C"]),  # ...nor a match of the negation, as in SQL
    ("cause = 'drug_toxicity' OR victim_age > 60", ["A", "B", "D"]),
    ("cause IN ('fall', 'drug toxicity') AND victim_sex = 'male'", ["A", "D"]),
    ("cause NOT IN ('fall')", ["A", "D"]),
    ("cause IS NULL", ["C"]),
    ("area IS NOT NULL AND area <> 'Dagenham'", ["A", "D"]),
    ("found_at BETWEEN '2014-08-01' AND '2014-12-31'", ["B", "C"]),
    ("(victim_age >= 30 OR cause = 'fall') AND found_at < '2015-01-01'", ["B", "C"]),
])
def test_conditions_select_as_sql_would(text: str, ids: list[str]) -> None:
    assert list(apply_where(CASES, text)["case_id"]) == ids


@pytest.mark.parametrize(("text", "said"), [
    ("1=1; DROP TABLE cases", "one condition only"),
    ("cause = 'x' UNION SELECT * FROM users", "give one condition"),
    ("substances = 'ghb'", "unknown column 'substances'"),
    ("lower(cause) = 'fall'", "not a case column"),
    ("cause = (SELECT cause FROM cases)", "not a plain value"),
    ("cause IN (SELECT cause FROM cases)", "IN takes a list of values"),
    ("victim_age > '30'", "write it without quotes"),
    ("found_at > 2014", "put the value in quotes"),
    ("cause = area", "not a plain value"),
    ("", "give one condition"),
    ("cause = ", "cannot read it"),
])
def test_anything_outside_the_grammar_is_refused_by_name(text: str, said: str) -> None:
    with pytest.raises(WhereError, match=said):
        apply_where(CASES, text)


def test_the_columns_named_are_read() -> None:
    assert columns_of("victim_age < 30 AND (area = 'x' OR cause IS NULL)") == ["area", "cause", "victim_age"]


def test_scan_where_on_the_command_line(cli: Any, sqlite_url: str, tmp_path: Path) -> None:
    rows = ["case_id,found_at,lat,lon,cause,victim_age"]
    rows += [f"G{i},2020-07-{10 + i % 3},51.54{i},0.08,drug_toxicity,{20 + i}" for i in range(6)]
    rows += [f"O{i},2020-07-{10 + i % 3},51.54{i},0.08,drug_toxicity,{60 + i}" for i in range(6)]
    rows += [f"F{i},2020-0{1 + i % 9}-0{1 + i % 9},51.{40 + i},0.{10 + i},fall,80" for i in range(30)]
    path = tmp_path / "cases.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert cli("ingest", str(path), "--db", sqlite_url).exit_code == 0
    result = cli("scan", "--db", sqlite_url, "--where", "cause = 'overdose' AND victim_age < 30",
                 "--permutations", "19", "--seed", "1", "--json")
    assert result.exit_code == 0, result.stderr
    members = {c for cluster in json.loads(result.stdout)["clusters"] for c in cluster["case_ids"]}
    assert members and members <= {f"G{i}" for i in range(6)}
    refused = cli("scan", "--db", sqlite_url, "--where", "1=1; DROP TABLE cases")
    assert refused.exit_code == 2 and refused.stderr.startswith("caselink: error: --where: one condition only")
    assert json.loads(cli("stats", "--db", sqlite_url, "--json").stdout)["n_cases"] == 42
