"""The four Barking deaths of 2014-15, as packaged in ``caselink/data/port-series.csv``.

The file is a copy of ``shared/data/port-series/port-series.csv`` (public facts from the trial,
the inquests and the 2017 High Court judgment; case ids and narratives pseudonymised), kept with
its ids unchanged so that anything said about "MPS-2014-0828-K" in the docs is true of the demo.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import Any

from caselink.demo.records import blank_record
from caselink.schema import LIST_FIELDS

PORT_SERIES_ID = "port"
_INT_FIELDS = ("location_precision_m", "victim_age")
_FLOAT_FIELDS = ("lat", "lon")


def port_series_text() -> str:
    """The packaged CSV, byte for byte."""
    return resources.files("caselink").joinpath("data/port-series.csv").read_text(encoding="utf-8")


def load_port_series() -> list[dict[str, Any]]:
    """The four records as raw dicts with every schema key: lists as lists, numbers as numbers,
    missing fields as None, and every value in the file unchanged."""
    records = []
    for row in csv.DictReader(io.StringIO(port_series_text())):
        record = blank_record_for(row.get("agency") or "MPS")
        for name, value in row.items():
            if name in LIST_FIELDS:
                record[name] = [item for item in value.split(";") if item]
            elif value == "":
                record[name] = None
            elif name in _INT_FIELDS:
                record[name] = int(value)
            elif name in _FLOAT_FIELDS:
                record[name] = float(value)
            else:
                record[name] = value
        records.append(record)
    return records


def blank_record_for(agency: str) -> dict[str, Any]:
    from caselink.demo.regions import EAST_LONDON

    record = blank_record(EAST_LONDON)
    record["agency"] = agency
    return record
