"""Assurance errors: each carries a one-line message the CLI and the web app show as is.

``bad_input`` tells front ends whether the caller asked for something impossible (CLI exit 2, HTTP
4xx) rather than the system failing.
"""

from __future__ import annotations


class AssuranceError(Exception):
    """Refused before anything was written; ``str(exc)`` is the one-line message."""

    bad_input = True


class UnknownCase(AssuranceError):
    pass


class UnknownAction(AssuranceError):
    pass


class UnknownDecision(AssuranceError):
    pass


class IllegalTransition(AssuranceError):
    pass


class MissingField(AssuranceError):
    """An officer, rationale or other required value is missing."""


class ConfigFileError(AssuranceError):
    """A malformed checklist or escalation-rule file; the message names the file and line."""
