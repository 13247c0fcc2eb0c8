"""CSV as pandas, Excel and databases really write it: list cells with a missing item, BOMs, CRLF.

Each test pins the stored value of such a file, not only its exit code.
"""

from __future__ import annotations

from pathlib import Path

from caselink.io import open_source
from caselink.store import CaseStore


def test_a_list_cell_with_a_missing_item_is_read_as_its_other_items(tmp_path: Path, sqlite_url):
    # pandas writes a list column whose list holds a gap as ['ghb', None] or ['ghb', nan], and a JSON
    # array column as ["ghb", null]: the cell was split on its commas into "['ghb'" and "none]", so the
    # case no longer shared GHB with anyone.
    data = tmp_path / "pandas.csv"
    data.write_text("case_id,found_at,lat,lon,substances,mo\r\n"
                    "P1,2014-06-19,51.5,0.08,\"['GHB', None]\",\"['body_moved', nan, 'note_found']\"\r\n"
                    "P2,2014-06-19,51.5,0.08,\"[\"\"ghb\"\", null, \"\"alcohol\"\"]\",\"[None]\"\r\n",
                    encoding="utf-8-sig")
    with CaseStore.open(sqlite_url) as store:
        result = store.ingest([open_source(data)])
        first, second = store.get_case("P1"), store.get_case("P2")
    assert (first.substances, first.mo) == (("ghb",), ("body_moved", "note_found"))
    assert (second.substances, second.mo) == (("ghb", "alcohol"), ())
    assert not [w for w in result.warnings if "unknown value" in w], result.warnings


def test_a_numpy_array_cell_is_read_as_its_items_not_one_glued_item(tmp_path: Path, sqlite_url):
    # pd.read_parquet gives list columns as numpy arrays, and to_csv writes them as "['ghb' 'alcohol']"
    # (no commas): Python reads adjacent strings as one, so the case held the substance "ghbalcohol" and
    # the entity "person:a smithphone:07700900123".
    data = tmp_path / "numpy.csv"
    data.write_text("case_id,found_at,lat,lon,substances,entities\n"
                    "N1,2014-06-19,51.5,0.08,['ghb' 'alcohol'],\"['person:A Smith' 'phone:07700 900123']\"\n"
                    "N2,2014-06-19,51.5,0.08,\"['ketamine'\n 'ghb']\",['phone:07700 900124']\n", encoding="utf-8")
    with CaseStore.open(sqlite_url) as store:
        store.ingest([open_source(data)])
        first, second = store.get_case("N1"), store.get_case("N2")
    assert (first.substances, first.entities) == (("ghb", "alcohol"), ("person:a smith", "phone:07700900123"))
    assert (second.substances, second.entities) == (("ketamine", "ghb"), ("phone:07700900124",))


def test_a_header_row_repeated_mid_file_is_one_problem_saying_so(cli, tmp_path: Path, sqlite_url):
    # Two exports joined with `cat` (or Excel pasting a second sheet below the first): the second header was
    # three problems, "found_at: 'Found At' is not an ISO 8601 date", "lat: 'Latitude' is not a number"...
    data = tmp_path / "joined.csv"
    header = "Case ID,Found At,Latitude,Longitude\r\n"
    data.write_text(header + "A1,2014-06-19,51.5,0.08\r\n" + header + "A2,2014-06-20,51.6,0.09\r\n", encoding="utf-8")
    result = cli("ingest", str(data), "--db", sqlite_url)
    assert result.exit_code == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith(str(data))]
    assert problems == [f"{data}:3: row: repeats the header row (two files joined?); delete this line"], problems
