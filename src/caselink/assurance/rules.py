"""Escalation rules as data, and the one small engine that evaluates them over case state.

A rule names a subject (action, decision, entity), a condition over that subject's facts, the
time its clock starts (``since``), and escalation levels (``escalate_to`` after ``after_hours``).
``require_signoff: true`` on a decision rule makes a matching decision pending until a supervisor
signs it off.  Each (rule, subject, level) is raised once and logged; it is resolved (and logged)
when the condition stops holding, and reopened if it holds again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select

from caselink.assurance.conditions import holds, hours_between, utc_naive, validate_condition
from caselink.assurance.errors import AssuranceError, ConfigFileError
from caselink.assurance.facts import (
    DEFAULT_SINCE,
    SUBJECT_FACTS,
    TIME_FACTS,
    action_facts,
    decision_facts,
    entity_facts,
    subject_case_ids,
    subject_id,
)
from caselink.assurance.models import DecisionRow, EscalationRow
from caselink.assurance.yamlfile import load_located
from caselink.audit import record_event, sha256_text

ESCALATIONS: Table = EscalationRow.__table__  # type: ignore[assignment]
DECISIONS: Table = DecisionRow.__table__  # type: ignore[assignment]
RULE_KEYS = ("id", "description", "subject", "when", "since", "levels", "require_signoff", "message")
LEVEL_KEYS = ("escalate_to", "after_hours")
SYSTEM_OFFICER = "caselink:escalation-rules"
_PLACEHOLDER = re.compile(r"\{([a-z_.]+)\}")


@dataclass(frozen=True)
class Level:
    escalate_to: str
    after_hours: float


@dataclass(frozen=True)
class Rule:
    id: str
    subject: str
    when: dict[str, Any]
    since: str
    levels: tuple[Level, ...]
    require_signoff: bool
    message: str
    description: str

    def render(self, facts: dict[str, Any]) -> str:
        def fill(match: re.Match[str]) -> str:
            value = facts.get(match.group(1))
            if match.group(1) == "entity":
                return f"a {facts.get('kind', 'entity')} entity"  # never the value itself: it is personal data
            if isinstance(value, datetime):  # facts hold naive UTC: say so, or it reads as local time
                return f"{value:%Y-%m-%d %H:%M} UTC"
            return match.group(0) if value is None else str(value)
        return _PLACEHOLDER.sub(fill, self.message)


def default_rules_file() -> Path:
    return Path(str(resources.files("caselink") / "data" / "escalation_rules.yaml"))


def parse_rules(path: Path | str, text: str | None = None) -> list[Rule]:
    """Load and validate a rule file; ConfigFileError names the file and line of the first problem."""
    doc = load_located(path, text)
    if not isinstance(doc.data, dict) or set(doc.data) - {"rules"} or not isinstance(doc.data.get("rules"), list):
        raise doc.error((), "a rule file is a mapping with one key, rules: a list of rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(doc.data["rules"]):
        where: tuple[Any, ...] = ("rules", index)
        if not isinstance(raw, dict):
            raise doc.error(where, "each rule is a mapping with id, subject, when and levels")
        for key in raw:
            if key not in RULE_KEYS:
                raise doc.error(where + (key,), f"unknown key '{key}'; a rule has {', '.join(RULE_KEYS)}")
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not rule_id.strip():
            raise doc.error(where + ("id",), "each rule needs an id (text)")
        if rule_id in seen:
            raise doc.error(where + ("id",), f"rule id '{rule_id}' is used twice")
        seen.add(rule_id)
        subject = raw.get("subject")
        if subject not in SUBJECT_FACTS:
            raise doc.error(where + ("subject",), f"subject must be one of {', '.join(SUBJECT_FACTS)}, "
                                                  f"not {subject!r}")
        when = validate_condition(doc, where + ("when",), raw.get("when"), SUBJECT_FACTS[subject])
        since = raw.get("since", DEFAULT_SINCE[subject])
        if since not in TIME_FACTS[subject]:
            raise doc.error(where + ("since",), f"since must be one of {', '.join(TIME_FACTS[subject])}")
        raw_levels = raw.get("levels")
        if not isinstance(raw_levels, list) or not raw_levels:
            raise doc.error(where + ("levels",), "levels must be a non-empty list of {escalate_to, after_hours}")
        levels: list[Level] = []
        for level_index, raw_level in enumerate(raw_levels):
            at = where + ("levels", level_index)
            if not isinstance(raw_level, dict) or set(raw_level) - set(LEVEL_KEYS):
                raise doc.error(at, f"a level is a mapping of {', '.join(LEVEL_KEYS)}")
            to, after = raw_level.get("escalate_to"), raw_level.get("after_hours", 0)
            if not isinstance(to, str) or not to.strip():
                raise doc.error(at + ("escalate_to",), "escalate_to must name a role (e.g. supervisor)")
            if isinstance(after, bool) or not isinstance(after, int | float) or after < 0:
                raise doc.error(at + ("after_hours",), f"after_hours must be a number >= 0, not {after!r}")
            if levels and after < levels[-1].after_hours:
                raise doc.error(at + ("after_hours",), "levels must be in order of after_hours")
            levels.append(Level(to.strip(), float(after)))
        require_signoff = raw.get("require_signoff", False)
        if not isinstance(require_signoff, bool) or (require_signoff and subject != "decision"):
            raise doc.error(where + ("require_signoff",), "require_signoff is true or false, on decision rules only")
        message = raw.get("message", raw.get("description", rule_id))
        if not isinstance(message, str):
            raise doc.error(where + ("message",), "message must be text")
        description = raw.get("description", "")
        rules.append(Rule(rule_id, subject, when, since, tuple(levels), require_signoff, message,
                          description if isinstance(description, str) else ""))
    return rules


def load_rules(path: Path | str | None = None) -> list[Rule]:
    """Rules from ``path``, else ``$CASELINK_ESCALATION_RULES``, else the packaged defaults."""
    chosen = path or os.environ.get("CASELINK_ESCALATION_RULES") or default_rules_file()
    if not Path(chosen).is_file():
        raise ConfigFileError(f"{chosen}: no such rule file")
    return parse_rules(chosen)


def signoff_rules_matching(connection: Connection, decision_id: int, rules: Sequence[Rule]) -> list[str]:
    """Ids of ``require_signoff`` rules whose condition holds for this decision now."""
    facts = decision_facts(connection, only_ids=[decision_id])
    return [r.id for r in rules if r.require_signoff and facts and holds(r.when, facts[0])]


def _subjects(connection: Connection, subject: str, now: datetime,
              only: tuple[str, str] | None) -> list[dict[str, Any]]:
    if only is not None and only[0] != subject:
        return []
    ids = [int(only[1])] if only is not None and subject != "entity" else None
    if subject == "action":
        return action_facts(connection, now, ids)
    if subject == "decision":
        return decision_facts(connection, ids)
    return entity_facts(connection)


def _subject_key(subject: str, facts: dict[str, Any]) -> str:
    # Entities are personal data: the escalation and its audit entry hold only a hash of the value.
    raw = subject_id(subject, facts)
    return sha256_text(raw) if subject == "entity" else raw


def evaluate_escalations(connection: Connection, now: datetime | None = None,
                         rules: Sequence[Rule] | None = None,
                         only: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Raise, resolve and reopen escalations as of ``now``; return the open ones, newest-raised flagged.

    ``only=(subject, id)`` restricts evaluation to one subject (used right after a decision).
    """
    moment = utc_naive(now)
    rules = load_rules() if rules is None else list(rules)
    if only is None:
        _refuse_going_back(connection, moment)
    existing = {(r.rule_id, r.subject_type, r.subject_id, r.level): r
                for r in connection.execute(select(ESCALATIONS)).all()}
    holding: set[tuple[str, str, str, int]] = set()
    raised: set[int] = set()
    cache: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        if rule.subject not in cache:
            cache[rule.subject] = _subjects(connection, rule.subject, moment, only)
        for facts in cache[rule.subject]:
            if not holds(rule.when, facts):
                continue
            key_id = _subject_key(rule.subject, facts)
            case_ids = subject_case_ids(rule.subject, facts)
            if rule.require_signoff and not facts.get("requires_signoff"):
                connection.execute(DECISIONS.update().where(DECISIONS.c.id == facts["id"])
                                   .values(requires_signoff=True))
                facts["requires_signoff"] = True
            elapsed = hours_between(facts.get(rule.since), moment)
            for level_index, level in enumerate(rule.levels):
                if elapsed is None or elapsed < level.after_hours:
                    break
                key = (rule.id, rule.subject, key_id, level_index)
                holding.add(key)
                row = existing.get(key)
                if row is not None and row.status == "open":
                    continue
                message = rule.render(facts)
                seq = record_event(connection, action="escalation", officer=SYSTEM_OFFICER, case_ids=case_ids,
                                   details={"rule_id": rule.id, "subject": rule.subject, "subject_id": key_id,
                                            "level": level_index, "escalate_to": level.escalate_to,
                                            "event": "reopened" if row is not None else "raised"})
                if row is None:
                    new_id = connection.execute(ESCALATIONS.insert().values(
                        rule_id=rule.id, subject_type=rule.subject, subject_id=key_id, level=level_index,
                        escalate_to=level.escalate_to, case_ids=case_ids, message=message, raised_at=moment,
                        status="open", resolved_at=None, audit_seq=seq)).inserted_primary_key[0]  # type: ignore[index]
                    raised.add(int(new_id))
                else:
                    connection.execute(ESCALATIONS.update().where(ESCALATIONS.c.id == row.id).values(
                        status="open", raised_at=moment, resolved_at=None, message=message, audit_seq=seq))
                    raised.add(int(row.id))
    for key, row in existing.items():
        in_scope = only is None or (key[1], key[2]) == only
        if row.status == "open" and key not in holding and in_scope and key[0] in {r.id for r in rules}:
            record_event(connection, action="escalation", officer=SYSTEM_OFFICER, case_ids=list(row.case_ids),
                         details={"rule_id": key[0], "subject": key[1], "subject_id": key[2], "level": key[3],
                                  "escalate_to": row.escalate_to, "event": "resolved"})
            connection.execute(ESCALATIONS.update().where(ESCALATIONS.c.id == row.id)
                               .values(status="resolved", resolved_at=moment))
    return list_escalations(connection, raised_ids=raised)


def _refuse_going_back(connection: Connection, moment: datetime) -> None:
    """Escalations are live state (a supervisor's queue): evaluating them as of a moment before their
    last change would resolve everything raised since, and log resolutions that never happened."""
    if moment > utc_naive() + timedelta(minutes=1):
        # Raised "in the future", they would also block every real evaluation until then.
        raise AssuranceError(f"--now {moment:%Y-%m-%d %H:%M} UTC is in the future; escalations are live state")
    latest = connection.execute(select(func.max(ESCALATIONS.c.raised_at), func.max(ESCALATIONS.c.resolved_at))).first()
    changes = [t for t in (latest or ()) if t is not None]
    if changes and moment < max(changes):
        raise AssuranceError(f"--now {moment:%Y-%m-%d %H:%M} UTC is before the escalations' last change "
                             f"({max(changes):%Y-%m-%d %H:%M} UTC): they are live state and only move forward; "
                             "to look back use `caselink oversight timeline|missed --now`")


def list_escalations(connection: Connection, status: str | None = "open",
                     raised_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """Escalations (open ones by default), oldest first; ``new`` marks those raised by this evaluation."""
    query = select(ESCALATIONS).order_by(ESCALATIONS.c.raised_at, ESCALATIONS.c.id)
    if status is not None:
        query = query.where(ESCALATIONS.c.status == status)
    out = []
    for row in connection.execute(query).mappings():
        item = dict(row)
        item["case_ids"] = list(item["case_ids"] or [])
        item["new"] = bool(raised_ids and item["id"] in raised_ids)
        for key in ("raised_at", "resolved_at"):
            if item[key] is not None:
                item[key] = item[key].isoformat() + "Z"
        out.append(item)
    return out
