"""``scan --where "cause = 'drug_toxicity' AND victim_age < 30"``: a filter written as SQL, never run as SQL.

Why not hand the text to the database: free SQL typed at a prompt over a store of deaths is an
injection route (``1=1; DROP TABLE cases``).  DESIGN §4 writes the scan's filter this way, so the
text is parsed (sqlglot) into a small expression tree, checked against a closed grammar, and
evaluated on the cases already read, with pandas.  Anything outside the grammar (functions,
sub-queries, a second statement, an unknown column) is refused with one line naming it.

Grammar: comparisons ``= != <> < <= > >=`` between a column and a literal, ``IN (...)``,
``NOT IN``, ``IS [NOT] NULL``, ``BETWEEN``, joined with ``AND``, ``OR``, ``NOT`` and parentheses.
Vocabulary values fold as at ingest (``cause = 'overdose'`` is ``drug_toxicity``); dates compare
as the records give them (the agency's clock).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from caselink import vocab

# Columns a filter may name, and how a literal compared with each is read.
TEXT_COLUMNS = ("agency", "area", "outcome", "incident_type", "victim_ethnicity", "case_id")
FOLDED = {"cause": vocab.CAUSE_SYNONYMS, "place_type": vocab.PLACE_TYPE_SYNONYMS,
          "classification": vocab.CLASSIFICATION_SYNONYMS}
NUMBER_COLUMNS = ("victim_age", "lat", "lon", "location_precision_m")
DATE_COLUMNS = ("found_at",)
COLUMNS = (*TEXT_COLUMNS, *FOLDED, "victim_sex", *NUMBER_COLUMNS, *DATE_COLUMNS)


class WhereError(ValueError):
    """The filter cannot be read; the message says what to change."""


def columns_of(text: str) -> list[str]:
    """The case columns ``text`` names (to read them), refusing anything outside the grammar."""
    tree = _parse(text)
    names: list[str] = []
    _check(tree, names)
    return sorted(set(names))


def apply_where(cases: pd.DataFrame, text: str) -> pd.DataFrame:
    """The rows of ``cases`` for which the filter holds (a NULL comparison does not hold, as in SQL)."""
    tree = _parse(text)
    _check(tree, [])
    holds, _ = _evaluate(tree, cases)
    return cases[holds]


def _parse(text: str) -> Any:
    import sqlglot
    from sqlglot.errors import ParseError

    if not text.strip():
        raise WhereError("give one condition, e.g. \"cause = 'drug_toxicity' AND victim_age < 30\"")
    try:
        statements = [s for s in sqlglot.parse(f"SELECT 1 WHERE {text}", read="sqlite") if s is not None]
    except ParseError as exc:
        raise WhereError(f"cannot read it as a condition ({str(exc).splitlines()[0]})") from None
    if len(statements) > 1:
        raise WhereError("one condition only: a ';' outside quotes starts another statement")
    if len(statements) != 1 or statements[0].args.get("where") is None:
        raise WhereError("give one condition, e.g. \"cause = 'drug_toxicity' AND victim_age < 30\"")
    return statements[0].args["where"].this


def _column_name(node: Any) -> str:
    from sqlglot import exp

    if not isinstance(node, exp.Column) or node.table:
        raise WhereError(f"'{node.sql()}' is not a case column; use one of {', '.join(COLUMNS)}")
    name = node.name.lower()
    if name not in COLUMNS:
        raise WhereError(f"unknown column '{node.name}'; use one of {', '.join(COLUMNS)} "
                         "(list fields such as substances have their own options, e.g. --substance ghb)")
    return name


def _literal(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return -float(node.this.this)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else float(node.this)
    raise WhereError(f"'{node.sql()}' is not a plain value; compare a column with a number or a 'quoted' text")


_COMPARISONS: dict[str, Callable[[pd.Series, Any], pd.Series]] = {
    "EQ": lambda s, v: s == v, "NEQ": lambda s, v: s != v, "GT": lambda s, v: s > v,
    "GTE": lambda s, v: s >= v, "LT": lambda s, v: s < v, "LTE": lambda s, v: s <= v,
}


def _check(node: Any, names: list[str]) -> None:
    from sqlglot import exp

    if isinstance(node, exp.Paren):
        _check(node.this, names)
    elif isinstance(node, exp.And | exp.Or):
        _check(node.this, names)
        _check(node.expression, names)
    elif isinstance(node, exp.Not):
        _check(node.this, names)
    elif type(node).__name__.upper() in _COMPARISONS:
        names.append(_column_name(node.this))
        _literal(node.expression)
    elif isinstance(node, exp.In):
        names.append(_column_name(node.this))
        if node.args.get("query") is not None or not node.expressions:
            raise WhereError("IN takes a list of values, e.g. cause IN ('fall', 'drowning')")
        for value in node.expressions:
            _literal(value)
    elif isinstance(node, exp.Between):
        names.append(_column_name(node.this))
        _literal(node.args["low"])
        _literal(node.args["high"])
    elif isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        names.append(_column_name(node.this))
    else:
        raise WhereError(f"'{node.sql()}' is not allowed here; use comparisons, IN, BETWEEN, IS NULL, "
                         "AND, OR, NOT and parentheses")


def _value(column: str, raw: Any) -> Any:
    """A literal read as the column's values are stored."""
    if column in NUMBER_COLUMNS:
        if isinstance(raw, str):
            raise WhereError(f"{column} is a number; write it without quotes")
        return raw
    if isinstance(raw, float):
        raise WhereError(f"{column} is text or a date; put the value in quotes")
    if column in DATE_COLUMNS:
        try:
            return pd.Timestamp(raw)
        except ValueError:
            raise WhereError(f"'{raw}' is not a date; use YYYY-MM-DD") from None
    if column in FOLDED:
        return vocab.fold(raw, FOLDED[column])
    if column == "victim_sex":
        return vocab.SEX_SYNONYMS.get(raw.strip().lower(), raw.strip().upper())
    return raw


def _evaluate(node: Any, cases: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """SQL's three-valued logic as two masks: (holds, known).  A comparison with an unrecorded value
    is unknown, so neither it nor its NOT holds, as in SQL."""
    from sqlglot import exp

    if isinstance(node, exp.Paren):
        return _evaluate(node.this, cases)
    if isinstance(node, exp.And | exp.Or):
        (a, a_known), (b, b_known) = _evaluate(node.this, cases), _evaluate(node.expression, cases)
        if isinstance(node, exp.And):
            return a & b, (a_known & b_known) | (a_known & ~a) | (b_known & ~b)
        return a | b, (a_known & b_known) | a | b
    if isinstance(node, exp.Not):
        inner, known = _evaluate(node.this, cases)
        return ~inner & known, known
    column = _column_name(node.this)
    series = cases[column]
    recorded = series.notna().to_numpy(bool)
    if isinstance(node, exp.Is):
        return ~recorded, np.ones(len(series), dtype=bool)
    if isinstance(node, exp.In):
        result = series.isin([_value(column, _literal(v)) for v in node.expressions])
    elif isinstance(node, exp.Between):
        low, high = (_value(column, _literal(node.args[k])) for k in ("low", "high"))
        result = (series >= low) & (series <= high)
    else:
        try:
            result = _COMPARISONS[type(node).__name__.upper()](series, _value(column, _literal(node.expression)))
        except TypeError:
            raise WhereError(f"cannot compare {column} with {node.expression.sql()}") from None
    return result.fillna(False).to_numpy(bool) & recorded, recorded
