"""Two cases ingested through the CLI and explained: the waterfall step of one comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def explained_step(cli: Any, tmp_path: Path, header: str, rows: tuple[str, str], comparison: str) -> dict[str, Any]:
    """The ``caselink explain --json`` step of ``comparison`` for the two CSV ``rows`` (ids first)."""
    url = f"sqlite:///{tmp_path / 'pair.db'}"
    data = tmp_path / "pair.csv"
    data.write_text(header + "".join(rows), encoding="utf-8")
    assert cli("ingest", str(data), "--db", url).exit_code == 0
    explained = cli("explain", *(row.split(",", 1)[0] for row in rows), "--db", url, "--json")
    assert explained.exit_code == 0, explained.stderr
    return next(s for s in json.loads(explained.stdout)["steps"] if s["comparison"] == comparison)
