"""Pseudonyms for sensitive fields shown to the oversight role.

A keyed HMAC (key kept in the store, never in code) maps each value to a stable token, so an
oversight reviewer can still see that two victims share a tag or an ethnicity — which disparity
analysis needs — without learning what it is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Any

from caselink.schema import SENSITIVE_FIELDS
from caselink.vocab import KNOWN_VICTIM_TAGS


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


# -- linkage reasons --------------------------------------------------------------------------------
# ``caselink.linkage.explain.series_reasons`` writes the victim tags every member shares as
# "victims all <tag words>, <tag words>"; other reason lines come from non-sensitive fields.
TAG_REASON_PREFIX = "victims all "
WITHHELD = "[a reason drawn from a sensitive field is withheld for your role]"
_SENSITIVE_WORDS = re.compile(
    r"\b(" + "|".join(sorted((re.escape(t.replace("_", " ")) for t in KNOWN_VICTIM_TAGS), key=len, reverse=True))
    + r"|ethnicity|ethnic|narratives?)\b", re.IGNORECASE)


def pseudonymise_reasons(reasons: Iterable[str], key: str) -> list[str]:
    """Reason lines safe for a pseudonymised reader: shared tags as their pseudonyms, others withheld.

    A tag line keeps its shape with each tag replaced by the same pseudonym the case page shows for
    it, so a reviewer can still match a series' shared tag to its members.  Any other line that names
    a known victim tag, ethnicity or narrative is replaced whole (a reason that quotes a sensitive
    field cannot be safely half-hidden).
    """
    out = []
    for line in reasons:
        if line.startswith(TAG_REASON_PREFIX):
            tags = [word.strip().replace(" ", "_") for word in line[len(TAG_REASON_PREFIX):].split(",")]
            out.append(TAG_REASON_PREFIX + ", ".join(pseudonym(key, "victim_tags", t) for t in tags if t))
        elif _SENSITIVE_WORDS.search(line):
            out.append(WITHHELD)
        else:
            out.append(line)
    return out
