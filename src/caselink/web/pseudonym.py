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

# Entity values (a finder's name, a phone number) are personal data about people other than the
# victim: a pseudonymised reader sees each one's kind and a keyed pseudonym of the whole token, so
# that two deaths sharing a phone still visibly share it.
ENTITIES = "entities"


def pseudonym(key: str, field: str, value: str) -> str:
    mac = hmac.new(key.encode(), f"{field}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"{field.split('_')[-1]}-{mac[:10]}"


def entity_pseudonym(key: str, token: str) -> str:
    """``kind:value`` as ``kind:entities-<keyed hash of the token>`` (the kind says nothing personal)."""
    kind, _, _ = token.partition(":")
    return f"{kind}:{pseudonym(key, ENTITIES, token)}"


def pseudonymise(record: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of ``record`` with every sensitive field and each entity value replaced by pseudonyms."""
    out = dict(record)
    if out.get(ENTITIES):
        out[ENTITIES] = [entity_pseudonym(key, str(token)) for token in out[ENTITIES]]
    for name in SENSITIVE_FIELDS:
        value = out.get(name)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out[name] = [pseudonym(key, name, str(v)) for v in value]
        else:
            out[name] = pseudonym(key, name, str(value))
    out["pseudonymised"] = [name for name in (*SENSITIVE_FIELDS, ENTITIES) if record.get(name) not in (None, [], ())]
    return out


# -- linkage reasons --------------------------------------------------------------------------------
# ``caselink.linkage.explain.series_reasons`` writes the victim tags every member shares as
# "victims all <tag words>, <tag words>"; other reason lines come from non-sensitive fields.
TAG_REASON_PREFIX = "victims all "
# ``series_reasons`` quotes a shared entity whole: "the same phone in 2 (phone:07700900123)".
_ENTITY_REASON = re.compile(r"^(the same .+ in \d+ )\((.+)\)$")
ERASED = "[erased]"
WITHHELD = "[a reason drawn from a sensitive field is withheld for your role]"
_SENSITIVE_WORDS = re.compile(
    r"\b(" + "|".join(sorted((re.escape(t.replace("_", " ")) for t in KNOWN_VICTIM_TAGS), key=len, reverse=True))
    + r"|ethnicity|ethnic|narratives?)\b", re.IGNORECASE)


def pseudonymise_reasons(reasons: Iterable[str], key: str) -> list[str]:
    """Reason lines safe for a pseudonymised reader: shared tags and entities as their pseudonyms,
    others naming a sensitive field withheld.

    A tag line keeps its shape with each tag replaced by the same pseudonym the case page shows for
    it, so a reviewer can still match a series' shared tag to its members.  Any other line that names
    a known victim tag, ethnicity or narrative is replaced whole (a reason that quotes a sensitive
    field cannot be safely half-hidden).
    """
    out = []
    for line in reasons:
        if line == TAG_REASON_PREFIX + ERASED:  # the tags were erased: nothing to hide, nothing to match
            out.append(line)
        elif line.startswith(TAG_REASON_PREFIX):
            tags = [word.strip().replace(" ", "_") for word in line[len(TAG_REASON_PREFIX):].split(",")]
            out.append(TAG_REASON_PREFIX + ", ".join(pseudonym(key, "victim_tags", t) for t in tags if t))
        elif (entity := _ENTITY_REASON.match(line)) is not None:
            token = entity.group(2)
            out.append(line if token == ERASED else f"{entity.group(1)}({entity_pseudonym(key, token)})")
        elif _SENSITIVE_WORDS.search(line):
            out.append(WITHHELD)
        else:
            out.append(line)
    return out


# -- audit entries ----------------------------------------------------------------------------------
# Two kinds of entry hold an unkeyed SHA-256 of personal data: escalations about a shared entity (its
# ``subject_id``, assurance.rules) and erasures (``value_sha256``, one per erased field).  A phone
# number's or a tag's hash is reversed by trying the few candidates, so a pseudonymised reader sees a
# keyed pseudonym of the entity's hash instead (equal entities still match) and no erased value's hash.
WITHHELD_HASH = "withheld for your role"


def pseudonymise_audit_entry(entry: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of one audit entry (as ``AuditEntry.as_dict``) fit for a pseudonymised reader."""
    details = entry.get("details")
    if not isinstance(details, dict):
        return entry
    if entry.get("action") == "escalation" and details.get("subject") == "entity" and details.get("subject_id"):
        details = {**details, "subject_id": pseudonym(key, ENTITIES, str(details["subject_id"]))}
    elif entry.get("action") == "erasure" and isinstance(details.get("value_sha256"), dict):
        details = {**details, "value_sha256": {name: WITHHELD_HASH for name in details["value_sha256"]}}
    else:
        return entry
    return {**entry, "details": details}
