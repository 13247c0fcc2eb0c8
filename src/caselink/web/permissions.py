"""Roles and permissions as data (DESIGN §7, issue 6).

Every route names one action from :data:`ACTIONS`; :data:`ROLE_ACTIONS` says which roles may take
it.  Keeping both as plain tables means the docs, the admin page and the route × role test read
the same source, and a new route cannot be added without deciding who may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("analyst", "investigator", "supervisor", "oversight", "admin")

PUBLIC = "public"          # no sign-in needed (sign-in page, static files, OpenAPI document)
SIGNED_IN = "signed_in"    # any signed-in user (home page, sign-out)

ACTIONS: dict[str, str] = {
    PUBLIC: "Open without signing in: the sign-in page, static assets and the API description.",
    SIGNED_IN: "Any signed-in user: the home page and signing out.",
    "case.search": "Search and list cases (summary fields only).",
    "case.read": "Read one case in full; each read is logged with its justification.",
    "alert.read": "See the linkage alerts inbox and each alert's reasons.",
    "alert.triage": "Acknowledge an alert, or dismiss it with a reason (the dismissal is a decision).",
    "alert.assign": "Assign an alert to an officer.",
    "series.read": "See a series: its map, timeline and the explanation of each link.",
    "scan.read": "See space-time scan results.",
    "decision.record": "Record a decision in a case's policy file (investigators: cases allocated to them).",
    "action.transition": "Move a checklist action to its next state (investigators: on cases allocated to them).",
    "decision.signoff": "Sign off a decision that an escalation rule sent up.",
    "audit.read": "Read the audit trail of a case.",
    "user.manage": "Add users, change roles, issue and revoke bearer tokens.",
}

_READ = {"case.search", "case.read", "alert.read", "series.read", "scan.read"}

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "analyst": frozenset(_READ | {"alert.triage"}),
    "investigator": frozenset(_READ | {"alert.triage", "decision.record", "action.transition"}),
    "supervisor": frozenset(_READ | {"alert.triage", "alert.assign", "decision.record", "action.transition",
                                     "decision.signoff", "audit.read"}),
    "oversight": frozenset(_READ | {"audit.read"}),
    "admin": frozenset({"user.manage"}),
}

# Actions limited, for investigators, to cases where they own an action (allocated to them).
ALLOCATION_SCOPED = frozenset({"decision.record", "action.transition"})


@dataclass(frozen=True)
class Principal:
    """Who is asking: resolved from a session cookie or a bearer token on every request."""

    name: str
    role: str
    session_id_hash: str | None = None  # None for bearer tokens
    csrf_token: str | None = None

    def may(self, action: str) -> bool:
        if action in (PUBLIC, SIGNED_IN):
            return True
        return action in ROLE_ACTIONS.get(self.role, frozenset())

    @property
    def via_session(self) -> bool:
        return self.session_id_hash is not None


def role_may(role: str | None, action: str) -> bool:
    """Whether ``role`` (None: not signed in) may take ``action``: the matrix the tests walk."""
    if action == PUBLIC:
        return True
    if role is None:
        return False
    return Principal("x", role).may(action)
