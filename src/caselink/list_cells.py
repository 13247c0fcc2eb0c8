"""The items of a list cell written as an array by another system: JSON, Python/pandas/numpy, PostgreSQL.

Why a module of its own: each writer has its own quirks (pandas writes ``nan`` for a missing item, numpy
drops the commas, ``psql`` quotes only items with a comma), and none of them is caselink's own ``;``
joining; :mod:`caselink.normalise` asks here first and splits on separators only when no array fits.
Nothing is evaluated: Python lists are parsed, never run.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
import tokenize
from typing import Any


def array_items(text: str) -> list[str] | None:
    """The items of a cell written as an array (``["ghb", "alcohol"]`` by JSON, ``['ghb', 'alcohol']``
    by Python/pandas), or None when it is not one.  A missing item (JSON ``null``, pandas' ``None`` or
    ``nan``) is no item: read whole, ``['ghb', None]`` was split on its commas into ``['ghb'``."""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        parsed = _python_list(text)
    if not isinstance(parsed, list | tuple):
        return None
    items = [v for v in parsed if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not all(isinstance(v, str | int | float) for v in items):
        return None
    return [str(v) for v in items]


def _python_list(text: str) -> list[Any] | None:
    """A Python list or tuple of literals as ``repr`` writes it, ``nan`` included (which
    ``ast.literal_eval`` refuses as a name); nothing is evaluated."""
    try:
        node = ast.parse(text, mode="eval").body
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    items: list[Any] = []
    for element in node.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            items.extend(_adjacent_strings(text, element))
        elif isinstance(element, ast.Constant) and isinstance(element.value, int | float | None):
            items.append(element.value)
        elif isinstance(element, ast.Name) and element.id in ("nan", "NaN"):
            items.append(None)
        else:
            return None
    return items


def _adjacent_strings(text: str, element: ast.Constant) -> list[str]:
    """The strings of one list element: numpy writes an array ``['ghb' 'alcohol']``, without commas,
    which Python reads as the one string ``'ghbalcohol'``; each literal is an item of its own."""
    segment = ast.get_source_segment(text, element) or ""
    try:
        literals = [token.string for token in tokenize.generate_tokens(io.StringIO(segment).readline)
                    if token.type == tokenize.STRING]
    except (tokenize.TokenError, SyntaxError):
        literals = []
    if len(literals) < 2:
        return [str(element.value)]
    return [ast.literal_eval(literal) for literal in literals]


def pg_array_items(text: str) -> list[str] | None:
    """The items of a PostgreSQL array literal (``{ghb,alcohol}``, ``{"person:doe, j",phone:0770}``),
    as ``psql`` and ``COPY`` export a ``text[]`` column; None for a JSON object or anything else."""
    inner = text[1:-1]
    if not inner.strip():
        return []  # an empty array (or an empty JSON object): nothing recorded
    try:
        json.loads(text)
        return None  # a JSON object: never read as items
    except (ValueError, RecursionError):
        pass
    try:
        row = next(csv.reader([inner], skipinitialspace=True, escapechar="\\"))
    except (csv.Error, StopIteration):
        return None
    return [item for item in row if item.strip().upper() != "NULL"]
