"""The export → re-import round trip, as the round-trip tests take it (one copy of the steps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caselink.io import open_source
from caselink.store import CaseStore


def export_and_reimport(cli: Any, db_url: str, tmp_path: Path, fmt: str) -> tuple[str, Any]:
    """Export ``db_url`` as ``fmt``, import the file into a fresh store and again into the same store.

    Returns the fresh store's URL and the second import's result (an unchanged round trip is all
    "unchanged")."""
    out = tmp_path / f"out.{fmt}"
    exported = cli("export", "--format", fmt, "--out", str(out), "--db", db_url,
                   "--justification", "round-trip test", "--officer", "tester")
    assert exported.exit_code == 0, exported.stderr
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    with CaseStore.open(fresh) as store:
        store.ingest([open_source(out)])
    with CaseStore.open(db_url) as store:
        return fresh, store.ingest([open_source(out)])
