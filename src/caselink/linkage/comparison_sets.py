"""Named comparison sets that training can start from instead of the shipped default model.

The shipped default (``caselink/data/default_model.json``) is built for deaths: kilometre-scale
distances, cause, toxicology, victims, entities, narratives.  Other data needs other levels: a
burglar works a patch of a few hundred metres to a few km over days to weeks, and burglary records
carry only place, time window and scene (MO) codes.  ``caselink train --comparisons burglary`` fits a
model on such a set; the default model and how it scores deaths are untouched.

A set gives the comparisons (with starting m and u, which training replaces and shrinks towards)
and reuses the default blocking rules, so candidate pairs are the same whichever set scores them.
"""

from __future__ import annotations

from typing import Any

from caselink.linkage.comparisons import (
    DISTANCE_SQL,
    GAP_SQL,
    _comparison,
    _else,
    _level,
    _null,
    _shared,
    _shared_bits,
    base_settings,
)
from caselink.linkage.model import DEFAULT_THRESHOLD, FORMAT, FORMAT_VERSION, LinkageModel, load_model

DEFAULT = "default"
BURGLARY = "burglary"
BURGLARY_MO_COUNT = "burglary-mo-count"


class ComparisonSetError(Exception):
    """An unknown comparison set name; the message lists the known ones."""


def _distance_levels() -> dict[str, Any]:
    # Fixed a priori for a burglar's patch (100 m to a few km), not fitted to any split.
    d = DISTANCE_SQL
    return _comparison("distance", "distance between the two places, less location blurring", [
        _null("x_km_l IS NULL OR x_km_r IS NULL"),
        _level(f"{d} <= 0.1", "within 100 m", 0.12, 0.0005),
        _level(f"{d} <= 0.25", "within 250 m", 0.12, 0.002),
        _level(f"{d} <= 0.5", "within 500 m", 0.1, 0.006),
        _level(f"{d} <= 1", "within 1 km", 0.15, 0.02),
        _level(f"{d} <= 2", "within 2 km", 0.15, 0.05),
        _level(f"{d} <= 4", "within 4 km", 0.12, 0.15),
        _level(f"{d} <= 8", "within 8 km", 0.12, 0.3),
        _else(0.12, 0.4735, "more than 8 km"),
    ])


def _time_levels() -> dict[str, Any]:
    # Days to weeks: a burglar's spree, then a month, a season, a year.
    g = GAP_SQL
    return _comparison("time_gap", "days between the two time windows (0 when they overlap)", [
        _null("t_lo_l IS NULL OR t_lo_r IS NULL"),
        _level(f"{g} <= 1", "within a day", 0.15, 0.015),
        _level(f"{g} <= 3", "within 3 days", 0.08, 0.012),
        _level(f"{g} <= 7", "within a week", 0.1, 0.02),
        _level(f"{g} <= 14", "within 2 weeks", 0.12, 0.04),
        _level(f"{g} <= 30", "within a month", 0.2, 0.09),
        _level(f"{g} <= 60", "within 2 months", 0.1, 0.15),
        _level(f"{g} <= 120", "within 4 months", 0.1, 0.27),
        _else(0.15, 0.403, "more than 4 months"),
    ])


def _mo_bits() -> dict[str, Any]:
    bits = _shared_bits("mo", "mo_bits")
    return _comparison("mo", "scene (MO) codes: total information of those shared", [
        _null("len(mo_l) = 0 OR len(mo_r) = 0"),
        _level(f"{bits} >= 12", "shared codes worth 12+ bits", 0.1, 0.0005),
        _level(f"{bits} >= 8", "shared codes worth 8-12 bits", 0.15, 0.005),
        _level(f"{bits} >= 5", "shared codes worth 5-8 bits", 0.2, 0.03),
        _level(f"{bits} >= 2.5", "shared codes worth 2.5-5 bits", 0.2, 0.15),
        _level(f"{bits} > 0", "shared common codes only", 0.2, 0.4),
        _else(0.15, 0.4145, "no code in common"),
    ])


def _mo_count() -> dict[str, Any]:
    shared = _shared("mo")
    return _comparison("mo", "scene (MO) codes: how many are shared", [
        _null("len(mo_l) = 0 OR len(mo_r) = 0"),
        _level(f"{shared} >= 3", "3 codes shared", 0.2, 0.02),
        _level(f"{shared} = 2", "2 codes shared", 0.3, 0.15),
        _level(f"{shared} = 1", "1 code shared", 0.3, 0.45),
        _else(0.2, 0.38, "no code in common"),
    ])


def _burglary(mo: dict[str, Any]) -> list[dict[str, Any]]:
    return [_distance_levels(), _time_levels(), mo]


SETS = {
    BURGLARY: lambda: _burglary(_mo_bits()),
    BURGLARY_MO_COUNT: lambda: _burglary(_mo_count()),
}


def names() -> list[str]:
    return [DEFAULT, *SETS]


def comparison_set(name: str) -> list[dict[str, Any]]:
    """The comparisons of the named set (not ``default``, which lives in the shipped model file)."""
    try:
        return SETS[name]()
    except KeyError:
        raise ComparisonSetError(
            f"unknown comparison set '{name}'; choose one of: {', '.join(names())}") from None


def base_model(name: str) -> LinkageModel:
    """The starting model for training on the named set; ``default`` is the shipped default model."""
    if name == DEFAULT:
        return load_model(None)
    settings = base_settings()
    settings["comparisons"] = comparison_set(name)
    return LinkageModel(format=FORMAT, format_version=FORMAT_VERSION, name=f"untrained-{name}",
                        series_threshold=DEFAULT_THRESHOLD, corroboration_threshold=None, provenance={"comparison_set": name},
                        splink_settings=settings)
