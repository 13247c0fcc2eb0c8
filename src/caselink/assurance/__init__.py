"""Assurance: checklists of basic steps, actions, the policy file of decisions, escalation rules.

Every function takes a ``sqlalchemy.Connection`` inside the caller's transaction (``with
store.engine.begin() as connection``), writes its audit entry there too, and raises an
:class:`AssuranceError` subclass with a one-line message, before writing, on bad input.
"""

from caselink.assurance.actions import (
    OPEN_STATES,
    STATES,
    TRANSITIONS,
    VERBS,
    action_history,
    get_action,
    list_actions,
    transition_action,
)
from caselink.assurance.checklists import Checklist, Step, apply_checklists, load_checklists, parse_checklist
from caselink.assurance.decisions import KINDS, decide, list_decisions, signoff
from caselink.assurance.errors import (
    AssuranceError,
    ConfigFileError,
    IllegalTransition,
    MissingField,
    UnknownAction,
    UnknownCase,
    UnknownDecision,
)
from caselink.assurance.rules import Rule, evaluate_escalations, list_escalations, load_rules, parse_rules

__all__ = [
    "KINDS", "OPEN_STATES", "STATES", "TRANSITIONS", "VERBS", "AssuranceError", "Checklist", "ConfigFileError",
    "IllegalTransition", "MissingField", "Rule", "Step", "UnknownAction", "UnknownCase", "UnknownDecision",
    "action_history", "apply_checklists", "decide", "evaluate_escalations", "get_action", "list_actions",
    "list_decisions", "list_escalations", "load_checklists", "load_rules", "parse_checklist", "parse_rules", "signoff",
    "transition_action",
]
