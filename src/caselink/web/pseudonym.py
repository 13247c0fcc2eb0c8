"""Pseudonyms for sensitive fields shown to the oversight role.

A keyed HMAC (key kept in the store, never in code) maps each value to a stable token, so an
oversight reviewer can still see that two victims share a tag or an ethnicity — which disparity
analysis needs — without learning what it is.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from caselink.schema import SENSITIVE_FIELDS


def pseudonym(key: str, field: str, value: str) -> str:
    mac = hmac.new(key.encode(), f"{field}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"{field.split('_')[-1]}-{mac[:10]}"


def pseudonymise(record: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of ``record`` with every sensitive field replaced by pseudonyms (lists item by item)."""
    out = dict(record)
    for name in SENSITIVE_FIELDS:
        value = out.get(name)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out[name] = [pseudonym(key, name, str(v)) for v in value]
        else:
            out[name] = pseudonym(key, name, str(value))
    out["pseudonymised"] = [name for name in SENSITIVE_FIELDS if record.get(name) not in (None, [], ())]
    return out
