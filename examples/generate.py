"""Regenerate the example files from caselink's demo generator (fixed seed, so the output is stable).

    .venv/bin/python examples/generate.py          # rewrite examples/cases.csv and cases.geojson
    .venv/bin/python examples/generate.py --check  # exit 1 if the committed files are out of date
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from caselink.demo import Scenario, build_from, rates, write_records_csv, write_records_geojson
from caselink.demo.regions import EAST_LONDON, GREATER_MANCHESTER

HERE = Path(__file__).resolve().parent
SEED = 2014

# 36 East London death reports around the Barking deaths (June-October 2014), plus the four.
EAST_LONDON_SAMPLE = Scenario("example_east_london", "examples/cases.csv", EAST_LONDON, "2014-06-01",
                              "2014-10-31", 36, rates.LONDON_MIX, ())
# 7 Greater Manchester reports with a planted GHB series of 3 (series_id set): a second file a
# user can ingest beside the first, in GeoJSON.
MANCHESTER_SAMPLE = Scenario("example_manchester", "examples/cases.geojson", GREATER_MANCHESTER,
                             "2016-03-01", "2016-09-30", 7, rates.LONDON_MIX, (("ghb_poisoner", 3),))


def write_examples(folder: Path) -> None:
    write_records_csv(build_from(EAST_LONDON_SAMPLE, SEED, with_port_series=True), folder / "cases.csv")
    write_records_geojson(build_from(MANCHESTER_SAMPLE, SEED), folder / "cases.geojson")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead")
    args = parser.parse_args(argv)
    if not args.check:
        write_examples(HERE)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        write_examples(Path(scratch))
        stale = [name for name in ("cases.csv", "cases.geojson")
                 if (Path(scratch) / name).read_bytes() != (HERE / name).read_bytes()]
    if stale:
        print(f"examples out of date: {', '.join(stale)}; run examples/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
