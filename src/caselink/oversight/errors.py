"""Oversight errors: one-line messages the CLI prints as they are (exit 2 when the caller asked
for something impossible, 1 when the system failed)."""

from __future__ import annotations


class OversightError(Exception):
    """Refused before anything was written or printed; ``str(exc)`` is the one-line message."""

    bad_input = True
