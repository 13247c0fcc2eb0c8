"""The one condition language shared by checklists (``applies_to``, ``when``) and escalation rules.

A condition is a mapping ``fact: expected``.  ``expected`` may be a scalar (equal; for a list-valued
fact, contained in it), a list (one of; for a list-valued fact, any overlap), or a mapping of one
operator (``eq ne in not_in contains gt gte lt lte``).  All entries must hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from caselink.assurance.yamlfile import LocatedYaml, Path_

OPERATORS = ("eq", "ne", "in", "not_in", "contains", "gt", "gte", "lt", "lte")
_SCALAR = (str, int, float, bool)


def validate_condition(doc: LocatedYaml, path: Path_, condition: Any, facts: tuple[str, ...]) -> dict[str, Any]:
    """Check a condition's shape and fact names; raise the file's ConfigFileError at the bad line."""
    if condition is None:
        return {}
    if not isinstance(condition, dict):
        raise doc.error(path, "must be a mapping of field: value")
    for name, expected in condition.items():
        if name not in facts:
            raise doc.error(path + (name,), f"unknown field '{name}'; known: {', '.join(facts)}")
        if isinstance(expected, dict):
            if len(expected) != 1 or next(iter(expected)) not in OPERATORS:
                raise doc.error(path + (name,), f"an operator mapping has one key of {', '.join(OPERATORS)}")
            op, operand = next(iter(expected.items()))
            if op in ("gt", "gte", "lt", "lte") and (not isinstance(operand, int | float)
                                                     or isinstance(operand, bool)):
                raise doc.error(path + (name,), f"'{op}' needs a number, not {operand!r}")
            if op in ("in", "not_in") and not isinstance(operand, list):
                raise doc.error(path + (name,), f"'{op}' needs a list")
        elif isinstance(expected, list):
            if not expected or not all(isinstance(v, _SCALAR) or v is None for v in expected):
                raise doc.error(path + (name,), "a list of values must be non-empty and hold plain values")
        elif not (isinstance(expected, _SCALAR) or expected is None):
            raise doc.error(path + (name,), f"unsupported value {expected!r}")
    return dict(condition)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected or actual == expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(actual) == float(expected)
    if expected is None or actual is None:
        return actual is expected
    return str(actual) == str(expected)


def _number(actual: Any) -> float | None:
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return None
    return float(actual)


def holds(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """True when every entry of ``condition`` holds for ``facts`` (a missing fact holds nothing)."""
    for name, expected in condition.items():
        actual = facts.get(name)
        many = isinstance(actual, list | tuple | set)
        items: list[Any] = list(actual) if isinstance(actual, list | tuple | set) else []
        if isinstance(expected, dict):
            op, operand = next(iter(expected.items()))
            if op in ("gt", "gte", "lt", "lte"):
                value = _number(actual)
                if value is None or not {
                    "gt": value > operand, "gte": value >= operand, "lt": value < operand, "lte": value <= operand,
                }[op]:
                    return False
                continue
            if op == "contains":
                ok = many and any(_same(a, operand) for a in items)
            elif op in ("in", "not_in"):
                inside = (any(_same(a, v) for a in items for v in operand) if many
                          else any(_same(actual, v) for v in operand))
                ok = inside if op == "in" else not inside
            elif op == "eq":
                ok = _same(actual, operand)
            else:  # ne
                ok = not _same(actual, operand)
            if not ok:
                return False
        elif isinstance(expected, list):
            if many:
                if not any(_same(a, v) for a in items for v in expected):
                    return False
            elif not any(_same(actual, v) for v in expected):
                return False
        elif many:
            if not any(_same(a, expected) for a in items):
                return False
        elif not _same(actual, expected):
            return False
    return True


def utc_naive(now: datetime | None = None) -> datetime:
    """``now`` (default: the current time) as naive UTC, the form the store keeps times in."""
    if now is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def hours_between(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else (end - start).total_seconds() / 3600.0
