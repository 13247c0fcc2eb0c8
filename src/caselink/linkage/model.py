"""The linkage model file: Splink's own settings JSON inside a small, versioned caselink envelope.

The envelope carries what Splink has no place for: the series threshold, where the parameters came
from (so ``docs/model.md`` and the file itself agree), and a format version.  A file that does not
parse, or parses but does not fit, raises :class:`ModelError` with one line saying which.
"""

from __future__ import annotations

import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

FORMAT = "caselink-linkage-model"
FORMAT_VERSION = 1
DEFAULT_THRESHOLD = 0.9
# A pair less likely than this never helps corroborate a series, however strong the other two pairs.
CORROBORATION_FLOOR = 0.001


class ModelError(Exception):
    """The model file cannot be used; the message names the file and the problem."""


class LinkageModel(BaseModel):
    """A loaded model.  ``splink_settings`` is passed to Splink unchanged."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(FORMAT, description="Always 'caselink-linkage-model'.")
    format_version: int = Field(FORMAT_VERSION, description="Bumped when the envelope changes.")
    name: str = Field("untrained", description="Short name shown in outputs.")
    series_threshold: float = Field(DEFAULT_THRESHOLD, gt=0.0, lt=1.0,
                                    description="Pair probability at or above which two cases are linked.")
    corroboration_threshold: float | None = Field(
        None, gt=0.0, lt=1.0,
        description="Probability at or above which three cases that all pair with each other form a series "
                    "although no single pair reaches series_threshold; the three pairs' evidence is combined "
                    "(none: only series_threshold links).")
    provenance: dict[str, Any] = Field(default_factory=dict, description="How the parameters were obtained.")
    splink_settings: dict[str, Any]

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value != FORMAT:
            raise ValueError(f"format must be '{FORMAT}'")
        return value

    @field_validator("splink_settings")
    @classmethod
    def _settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        comparisons = value.get("comparisons")
        if not isinstance(comparisons, list) or not comparisons:
            raise ValueError("splink_settings.comparisons must be a non-empty list")
        for comparison in comparisons:
            levels = comparison.get("comparison_levels") if isinstance(comparison, dict) else None
            if not isinstance(levels, list) or not levels:
                raise ValueError("every comparison needs comparison_levels")
            for level in levels:
                if not isinstance(level, dict) or "sql_condition" not in level:
                    raise ValueError("every comparison level needs a sql_condition")
                if level.get("is_null_level"):
                    continue
                for key in ("m_probability", "u_probability"):
                    p = level.get(key)
                    if not isinstance(p, int | float) or not 0.0 < p <= 1.0:
                        raise ValueError(
                            f"{comparison.get('output_column_name')}: level '{level.get('label_for_charts')}' "
                            f"needs {key} in (0, 1]")
        prior = value.get("probability_two_random_records_match")
        if not isinstance(prior, int | float) or not 0.0 < prior < 1.0:
            raise ValueError("splink_settings.probability_two_random_records_match must be in (0, 1)")
        if not value.get("blocking_rules_to_generate_predictions"):
            raise ValueError("splink_settings.blocking_rules_to_generate_predictions must not be empty")
        return value

    @property
    def pair_threshold(self) -> float:
        """The lowest pair probability any series rule reads: scoring may drop pairs below it."""
        if self.corroboration_threshold is None:
            return self.series_threshold
        return min(self.series_threshold, CORROBORATION_FLOOR)

    @property
    def prior_weight(self) -> float:
        """log2 of the prior odds that two random cases are linked (the start of every pair's weight)."""
        prior = float(self.splink_settings["probability_two_random_records_match"])
        return math.log2(prior / (1.0 - prior))

    def comparison_names(self) -> list[str]:
        return [c["output_column_name"] for c in self.splink_settings["comparisons"]]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.model_dump(), indent=2) + "\n", encoding="utf-8")


def load_model(path: str | Path | None = None) -> LinkageModel:
    """The model at ``path``, else the one named by ``$CASELINK_MODEL``, else the shipped default.

    The environment variable also reaches the scoring that ``caselink ingest`` runs, which has no
    ``--model`` option of its own.
    """
    if path is None and os.environ.get("CASELINK_MODEL", "").strip():
        path = os.environ["CASELINK_MODEL"].strip()
    if path is None:
        text = resources.files("caselink.data").joinpath("default_model.json").read_text(encoding="utf-8")
        where = "default model"
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelError(
                f"{where}: cannot read model file ({exc.strerror}); give --model an existing file") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{where}: not valid JSON (line {exc.lineno}: {exc.msg}); "
                         "give a file written by 'caselink train'") from None
    if not isinstance(payload, dict):
        raise ModelError(f"{where}: expected a JSON object written by 'caselink train'")
    try:
        model = LinkageModel.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"]) or "model"
        raise ModelError(f"{where}: {location}: {first['msg']} (not a caselink linkage model; "
                         "write one with 'caselink train')") from None
    try:
        if path is not None:  # the shipped model is checked by its tests, not at every start
            check_sql(model.splink_settings)
    except ValueError as exc:
        raise ModelError(f"{where}: {exc} (write models with 'caselink train')") from None
    return model


def _columns(sql: str) -> set[str]:
    """The column names an SQL condition reads (lambda parameters aside); ValueError if it does not parse."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        raise ValueError(f"'{sql}' is not valid SQL") from None
    params = {p.name for lam in tree.find_all(exp.Lambda) for p in lam.expressions}
    return {c.name for c in tree.find_all(exp.Column) if c.name not in params}


def check_sql(settings: dict[str, Any]) -> None:
    """Refuse SQL that cannot run on caselink's case table, and blocking that would compare every pair.

    Why: such a file used to load and then end ``link``, ``replay``, ``explain`` or an import in a
    DuckDB traceback; and DESIGN §3 forbids all-pairs blocking (a 100,000-case store is 5e9 pairs).
    """
    from sqlglot import exp

    from caselink.linkage.features import FEATURE_COLUMNS

    known = set(FEATURE_COLUMNS)
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            sql = str(level["sql_condition"])
            if sql.strip().upper() == "ELSE":
                continue
            where = f"{comparison.get('output_column_name')}: level '{level.get('label_for_charts')}'"
            try:
                columns = _columns(sql)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            for name in sorted(columns):
                if not (name.endswith(("_l", "_r")) and name[:-2] in known):
                    raise ValueError(f"{where}: unknown column '{name}' (columns are a case-table column "
                                     "with _l or _r, e.g. found_day_l)")
    import sqlglot

    for rule in settings["blocking_rules_to_generate_predictions"]:
        sql = str(rule.get("blocking_rule", "")) if isinstance(rule, dict) else str(rule)
        columns = _columns(sql)  # raises "not valid SQL"
        for name in sorted(columns - known):
            raise ValueError(f"blocking rule '{sql}': unknown column '{name}'")
        tree = sqlglot.parse_one(sql, read="duckdb")
        joins = [eq for eq in tree.find_all(exp.EQ)
                 if isinstance(eq.left, exp.Column) and isinstance(eq.right, exp.Column)
                 and {eq.left.table, eq.right.table} == {"l", "r"}]
        if not joins:
            raise ValueError(f"blocking rule '{sql}' would compare every pair of cases; give it an equality "
                             "such as l.cell_a = r.cell_a (DESIGN §3: blocking is never all pairs)")
