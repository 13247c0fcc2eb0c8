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
    DISTANCE_NULL_SQL,
    DISTANCE_SQL,
    OVERLAP_GAP_SQL,
    _comparison,
    _else,
    _level,
    _null,
    _shared_bits,
    base_settings,
)
from caselink.linkage.model import DEFAULT_THRESHOLD, FORMAT, FORMAT_VERSION, LinkageModel, load_model

DEFAULT = "default"
BURGLARY = "burglary"


class ComparisonSetError(Exception):
    """An unknown comparison set name; the message lists the known ones."""


# Level edges about a factor sqrt(2) apart, so the level index is a log distance and a log gap and
# training can smooth m across neighbours (``training.kernel_smooth``).  Fixed a priori for a burglar's
# patch (50 m to a city) and spree (hours to half a year), not fitted to any split.
DISTANCE_EDGES_KM = (0.05, 0.07, 0.1, 0.14, 0.2, 0.3, 0.4, 0.6, 0.8, 1.1, 1.6, 2.3, 3.2, 4.5, 6.4, 9.0, 13.0)
GAP_EDGES_DAYS = (0.5, 1, 1.5, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 90, 128, 180)
CITY_KM = 15.0      # starting u: pairs spread uniformly over a disc of this radius ...
YEAR_DAYS = 365.0   # ... and over a year; training replaces u with the store's own


def _km(edge: float) -> str:
    return f"{edge * 1000:.0f} m" if edge < 1 else f"{edge:g} km"


def _days(edge: float) -> str:
    return f"{edge * 24:.0f} hours" if edge < 1 else ("a day" if edge == 1 else f"{edge:g} days")


def _graded(name: str, description: str, null_sql: str, value_sql: str, edges: tuple[float, ...],
            share: list[float], label: Any, beyond: str) -> dict[str, Any]:
    """Levels ``value <= edge`` for each edge, then "else"; m starts even, u at ``share``."""
    m = 1.0 / (len(edges) + 1)
    levels = [_null(null_sql)]
    levels.extend(_level(f"{value_sql} <= {edge}", f"within {label(edge)}", m, max(u, 1e-6))
                  for edge, u in zip(edges, share[:-1], strict=True))
    levels.append(_else(m, max(share[-1], 1e-6), beyond))
    return _comparison(name, description, levels)


def _distance_levels() -> dict[str, Any]:
    cumulative = [min(1.0, (edge / CITY_KM) ** 2) for edge in DISTANCE_EDGES_KM] + [1.0]
    share = [b - a for a, b in zip([0.0, *cumulative], cumulative, strict=False)]
    return _graded("distance", "distance between the two places, less location blurring",
                   DISTANCE_NULL_SQL, DISTANCE_SQL, DISTANCE_EDGES_KM, share, _km,
                   f"more than {_km(DISTANCE_EDGES_KM[-1])}")


def _time_levels() -> dict[str, Any]:
    cumulative = [min(1.0, edge / YEAR_DAYS) for edge in GAP_EDGES_DAYS] + [1.0]
    share = [b - a for a, b in zip([0.0, *cumulative], cumulative, strict=False)]
    return _graded("time_gap", "days between the two time windows (0 when they overlap)",
                   "t_lo_l IS NULL OR t_lo_r IS NULL", OVERLAP_GAP_SQL, GAP_EDGES_DAYS, share, _days,
                   f"more than {_days(GAP_EDGES_DAYS[-1])}")


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


def _burglary(mo: dict[str, Any]) -> list[dict[str, Any]]:
    return [_distance_levels(), _time_levels(), mo]


SETS = {BURGLARY: lambda: _burglary(_mo_bits())}
# How training treats each set (``training.train`` keyword arguments), measured on crimelinkage.
TRAINING_OPTIONS: dict[str, dict[str, Any]] = {
    DEFAULT: {},
    BURGLARY: {"exact_u": True, "smooth_levels": ("distance", "time_gap")},
}


def names() -> list[str]:
    return [DEFAULT, *SETS]


def comparison_set(name: str) -> list[dict[str, Any]]:
    """The comparisons of the named set (not ``default``, which lives in the shipped model file)."""
    if name not in SETS:
        raise _unknown(name)
    return SETS[name]()


def _unknown(name: str) -> ComparisonSetError:
    return ComparisonSetError(f"unknown comparison set '{name}'; choose one of: {', '.join(names())}")


def training_options(name: str) -> dict[str, Any]:
    """The ``train()`` options that go with the named set (none for ``default``: the shipped recipe)."""
    if name not in TRAINING_OPTIONS:
        raise _unknown(name)
    return dict(TRAINING_OPTIONS[name])


def base_model(name: str) -> LinkageModel:
    """The starting model for training on the named set; ``default`` is the shipped default model."""
    if name == DEFAULT:
        return load_model(None)
    settings = base_settings()
    settings["comparisons"] = comparison_set(name)
    return LinkageModel(format=FORMAT, format_version=FORMAT_VERSION, name=f"untrained-{name}",
                        series_threshold=DEFAULT_THRESHOLD, corroboration_threshold=None,
                        provenance={"comparison_set": name}, splink_settings=settings)
