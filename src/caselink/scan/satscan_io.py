"""Readers for SaTScan's case (.cas), coordinates (.geo) and parameter (.prm) files.

They exist so that tests and benchmarks can run caselink's scan on exactly the inputs SaTScan was given
and compare the answers; they are not a general SaTScan front end (no covariates, no population files).
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SaTScanInput", "read_cases", "read_coordinates", "read_parameters", "read_satscan"]


def _parse_date(text: str) -> date:
    year, month, day = (int(part) for part in text.strip().split("/"))
    return date(year, month, day)


def read_cases(path: str | Path) -> pd.DataFrame:
    """A .cas file ``<location> <count> <YYYY/MM/DD>`` as rows ``location, count, day``."""
    frame = pd.read_csv(path, sep=r"\s+", header=None, names=["location", "count", "day"],
                        dtype={"location": str, "count": int, "day": str}, engine="python")
    frame["day"] = [_parse_date(text) for text in frame["day"]]
    return frame


def read_coordinates(path: str | Path) -> pd.DataFrame:
    """A .geo file ``<location> <c1> <c2>``: latitude/longitude or Cartesian x/y, as the .prm says."""
    return pd.read_csv(path, sep=r"\s+", header=None, names=["location", "c1", "c2"],
                       dtype={"location": str, "c1": float, "c2": float}, engine="python")


def read_parameters(path: str | Path) -> dict[str, str]:
    """The .prm file as a flat ``name -> value`` mapping (section names dropped; names are unique)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, comment_prefixes=(";",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    flat: dict[str, str] = {}
    for section in parser.sections():
        flat.update(parser[section])
    return flat


@dataclass(frozen=True)
class SaTScanInput:
    """One SaTScan analysis: one row per case (counts expanded) plus the settings caselink mirrors."""

    location: np.ndarray  # location id of each case (str)
    c1: np.ndarray  # latitude, or x
    c2: np.ndarray  # longitude, or y
    day: np.ndarray  # datetime64[D] of each case
    coordinates: str  # "latlon" or "cartesian"
    start: date
    end: date
    max_radius_km: float
    max_days: int
    max_share: float
    prospective: bool
    time_aggregation: str
    min_cases: int
    permutations: int


def read_satscan(prm_path: str | Path) -> SaTScanInput:
    """Load a space-time permutation analysis from its .prm and the .cas/.geo files beside it."""
    prm_path = Path(prm_path)
    params = read_parameters(prm_path)
    folder = prm_path.parent
    cases = read_cases(folder / Path(params["CaseFile"]).name)
    coords = read_coordinates(folder / Path(params["CoordinatesFile"]).name).set_index("location")
    missing = set(cases["location"]) - set(coords.index)
    if missing:
        raise ValueError(f"{len(missing)} case locations have no coordinates, e.g. {sorted(missing)[0]}")
    expanded = cases.loc[cases.index.repeat(cases["count"])]
    located = coords.loc[expanded["location"]]
    units = {"3": "day", "2": "month", "1": "year"}[params.get("TimeAggregationUnits", "3")]
    length = int(params.get("TimeAggregationLength", "1"))
    if units != "day" or length not in (1, 7):
        raise ValueError("only daily or 7-day time aggregation is supported")
    return SaTScanInput(
        location=expanded["location"].to_numpy(dtype=str),
        c1=located["c1"].to_numpy(dtype=float),
        c2=located["c2"].to_numpy(dtype=float),
        day=np.array(expanded["day"].tolist(), dtype="datetime64[D]"),
        coordinates="latlon" if params.get("CoordinatesType", "0") == "1" else "cartesian",
        start=_parse_date(params["StartDate"]),
        end=_parse_date(params["EndDate"]),
        max_radius_km=float(params["MaxSpatialSizeInDistanceFromCenter"])
        if params.get("UseDistanceFromCenterOption", "n") == "y" else float("inf"),
        max_days=int(params["MaxTemporalSize"]) * length,
        max_share=float(params.get("MaxSpatialSizeInPopulationAtRisk", "50")) / 100.0,
        prospective=params.get("AnalysisType") == "4",
        time_aggregation="week" if length == 7 else "day",
        min_cases=int(params.get("MinimumCasesInHighRateClusters", "2")),
        permutations=int(params.get("MonteCarloReps", "999")),
    )
