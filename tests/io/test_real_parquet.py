"""Parquet as pandas and pyarrow really write it: nanosecond timestamps, time zones, nullable ints.

Each test pins what a typical analyst's frame (``df.to_parquet``) becomes in the store, and that
the export of it re-imports to the same ``record_hash``.
"""

from __future__ import annotations

from pathlib import Path

from caselink.io import open_source
from caselink.store import CaseStore


def record_hashes(url: str) -> dict[str, str]:
    with CaseStore.open(url) as store:
        return {row["case_id"]: row["record_hash"] for row in store.iter_stored()}


def test_a_nanosecond_timestamp_column_round_trips_to_the_same_record_hash(cli, tmp_path: Path, sqlite_url):
    # pandas' datetime64[ns] (its default unit before 3.0) reached the hash as a pandas Timestamp, whose
    # repr is not a datetime's: the export of the case re-imported as "1 updated", a spurious version.
    import pyarrow as pa
    import pyarrow.parquet as pq

    nanoseconds = [1403148600_000000000, 1414287000_123456789]  # 04:30 BST; the second 01:30 (GMT) + 123456789 ns
    pq.write_table(pa.table({
        "case_id": ["N1", "N2"],
        "found_at": pa.array(nanoseconds, pa.timestamp("ns", tz="Europe/London")),
        "died_from": pa.array([1403125200_000000000, None], pa.timestamp("ns")),
        "lat": [51.5393, 51.54], "lon": [0.081, 0.08]}), tmp_path / "ns.parquet")
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(tmp_path / "ns.parquet")])
        first, second = store.get_case("N1"), store.get_case("N2")
    assert first.found_at.isoformat() == "2014-06-19T04:30:00+01:00"
    assert second.found_at.isoformat() == "2014-10-26T01:30:00.123456+00:00"  # the second 01:30, in GMT

    out = tmp_path / "out.csv"
    exported = cli("export", "--format", "csv", "--out", str(out), "--db", sqlite_url,
                   "--justification", "round trip", "--officer", "tester")
    assert exported.exit_code == 0, exported.stderr
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    with CaseStore.open(fresh) as store:
        store.ingest([open_source(out)])
    assert record_hashes(fresh) == record_hashes(sqlite_url)
    with CaseStore.open(sqlite_url) as store:
        result = store.ingest([open_source(out)])
    assert (result.n_new, result.n_updated, result.n_unchanged) == (0, 0, 2)
