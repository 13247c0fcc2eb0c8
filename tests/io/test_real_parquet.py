"""Parquet as pandas and pyarrow really write it: nanosecond timestamps, time zones, nullable ints.

Each test pins what a typical analyst's frame (``df.to_parquet``) becomes in the store, and that
the export of it re-imports to the same ``record_hash``.
"""

from __future__ import annotations

from pathlib import Path

from caselink.io import open_source
from caselink.store import CaseStore
from tests.io.roundtrip_steps import export_and_reimport


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

    fresh, result = export_and_reimport(cli, sqlite_url, tmp_path, "csv")
    assert record_hashes(fresh) == record_hashes(sqlite_url)
    assert (result.n_new, result.n_updated, result.n_unchanged) == (0, 0, 2)


def test_a_damaged_row_group_is_one_line_naming_the_file_not_a_traceback(cli, tmp_path: Path, sqlite_url):
    # A copy cut short or a bad sector inside the data (the footer intact) ended the import in a traceback
    # (OSError: Corrupt snappy compressed data) raised from the middle of reading.
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_rows = 200
    path = tmp_path / "damaged.parquet"
    pq.write_table(pa.table({"case_id": [f"C{i}" for i in range(n_rows)], "found_at": ["2014-06-19"] * n_rows,
                             "lat": [51.5] * n_rows, "lon": [0.08] * n_rows,
                             "narrative": [f"found in the stairwell, case {i} " * 10 for i in range(n_rows)]}),
                   path, row_group_size=100, compression="snappy")
    chunk = pq.ParquetFile(path).metadata.row_group(1).column(4)
    start = chunk.data_page_offset + 40
    content = bytearray(path.read_bytes())
    content[start:start + 400] = bytes(400)
    path.write_bytes(bytes(content))

    result = cli("ingest", str(path), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"caselink: error: {path}: ") and len(result.stderr.strip().splitlines()) == 1
    with CaseStore.open(sqlite_url) as store:
        assert store.stats()["n_cases"] == 0


def test_a_fixed_size_binary_column_is_refused_not_stored_as_a_bytes_repr(cli, tmp_path: Path, sqlite_url):
    # Spark and BigQuery write a UUID without its logical type as FIXED_LEN_BYTE_ARRAY(16): the case id was
    # stored as "b'\\x124Vx...'", a Python repr no other source would ever match.
    import uuid

    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [uuid.UUID("12345678-1234-5678-1234-567812345678").bytes, uuid.UUID(int=7).bytes]
    pq.write_table(pa.table({"case_id": pa.array(ids, pa.binary(16)), "found_at": ["2014-06-19"] * 2,
                             "lat": [51.5, 51.6], "lon": [0.08, 0.09],
                             "checksum": pa.array([b"ab", b"cd"], pa.binary(2))}), tmp_path / "uuid.parquet")
    result = cli("ingest", str(tmp_path / "uuid.parquet"), "--db", sqlite_url)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'uuid.parquet'}: " in result.stderr and "'case_id'" in result.stderr, result.stderr
    assert "checksum" not in result.stderr  # a column that is not read cannot be wrong
    with CaseStore.open(sqlite_url) as store:
        assert store.stats()["n_cases"] == 0
