"""Who is acting, for the audit log, when no one said: one rule for the terminal and the library."""

from __future__ import annotations

import getpass
import os


def acting_officer(officer: str | None) -> str:
    """The acting identity: explicit name, then $CASELINK_USER, then the operating-system login."""
    if officer and officer.strip():
        return officer.strip()
    from_env = os.environ.get("CASELINK_USER", "").strip()
    if from_env:
        return from_env
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"
