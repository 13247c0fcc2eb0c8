"""No command's ``--out`` may overwrite the SQLite store it reads (``--out caselink.db``, meant as ``--db``).

``export`` was fixed first; ``train``, ``oversight report`` and ``audit checkpoint`` replaced the store
and its audit log with a model, an HTML report or a checkpoint the same way, exit 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.mark.parametrize("argv", [
    ["train", "--out", "{db}"],
    ["oversight", "report", "--out", "{db}"],
    ["audit", "checkpoint", "--key", "{key}", "--out", "{db}"],
    ["audit", "checkpoint", "--key", "{key}", "--out", "{db}-wal"],
])
def test_out_naming_the_store_is_refused_and_the_store_survives(argv: list[str], cli: Any, tmp_path: Path,
                                                                sqlite_url: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"case_id": "A1", "found_at": "2015-03-01T10:00", "lat": 51.5, "lon": 0.1,
                                  "cause": "fall"}) + "\n")
    assert cli("ingest", str(source), "--db", sqlite_url).exit_code == 0
    assert cli("audit", "keygen", "--out", str(tmp_path / "key")).exit_code == 0
    database = tmp_path / "caselink.db"
    assert sqlite_url.endswith(str(database))
    args = [a.format(db=database, key=tmp_path / "key") for a in argv]
    result = cli(*args, "--db", sqlite_url)
    assert result.exit_code == 2 and result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("caselink: error: --out:") and "the store itself" in result.stderr
    assert database.read_bytes().startswith(b"SQLite format 3")
    assert cli("stats", "--db", sqlite_url, "--json").exit_code == 0
