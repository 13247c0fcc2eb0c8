"""Demo and scenario data for linkage: the Barking demo and other backgrounds with planted series.

Interface (relied on by ``caselink demo`` and the linkage benchmarks):

* :func:`build_demo_records` - the four Barking deaths plus a seeded East London background;
* :data:`SCENARIOS` and :func:`build_scenario` - other places, sizes and mixes, each with planted
  series labelled by ``series_id`` and hard unlabelled confounders;
* :func:`write_records_csv` - the records as a CSV ``caselink ingest`` reads.

Records are raw dicts in the case schema (DESIGN §2): lists as lists, times as ISO strings; every
one passes :func:`caselink.schema.normalise_record`.  Rates and sources: ``docs/demo.md``.
"""

from __future__ import annotations

from caselink.demo.files import write_records_csv, write_records_geojson
from caselink.demo.port_series import PORT_SERIES_ID, load_port_series
from caselink.demo.scenarios import (
    SCENARIO_CATALOGUE,
    SCENARIOS,
    Scenario,
    build_demo_records,
    build_from,
    build_scenario,
)

__all__ = [
    "PORT_SERIES_ID", "SCENARIOS", "SCENARIO_CATALOGUE", "Scenario", "build_demo_records", "build_from",
    "build_scenario",
    "load_port_series", "write_records_csv", "write_records_geojson",
]
