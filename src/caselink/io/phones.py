"""Phones written the national way of a country other than the UK, made international before ingest.

The record's rule (docs/schema.md) gives a UK number its national form, so ``+44 7700 900123`` and
``07700 900123`` are one phone; a number of another country keeps its ``+``.  A Baltimore file that
writes ``410-555-0100`` and a federal one that writes ``+1 410 555 0100`` then never matched.  Which
country a national number belongs to cannot be read from the number, so it is never guessed: the
importer names it (``caselink ingest --phone-country US``), as ``--tz`` names the zone of local times,
and every national number of that import is read as that country's.  ``GB`` (the default) changes
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from caselink.store.ingest import RecordSource

DEFAULT_PHONE_COUNTRY = "GB"

# ISO 3166 code -> (calling code, trunk prefix dialled before a national number, international prefix).
# Only countries whose national numbering is this simple; add others with their own three values.
COUNTRIES: dict[str, tuple[str, str, str]] = {
    "GB": ("44", "0", "00"),
    "IE": ("353", "0", "00"),
    "US": ("1", "1", "011"),
    "CA": ("1", "1", "011"),
    "AU": ("61", "0", "0011"),
    "NZ": ("64", "0", "00"),
    "FR": ("33", "0", "00"),
    "DE": ("49", "0", "00"),
    "NL": ("31", "0", "00"),
    "BE": ("32", "0", "00"),
    "AT": ("43", "0", "00"),
    "CH": ("41", "0", "00"),
    "SE": ("46", "0", "00"),
    "ES": ("34", "", "00"),
    "PT": ("351", "", "00"),
    "DK": ("45", "", "00"),
    "NO": ("47", "", "00"),
    "PL": ("48", "", "00"),
}
# Fewer digits than this is not a number of anyone (999, withheld): left for the record's own rule.
_MIN_DIGITS = 5


def country_code(name: str) -> str:
    """The ISO code for ``name`` (any case); ValueError, saying which codes there are, when caselink does
    not know its numbering (the one message the CLI option and the library argument both give)."""
    code = name.strip().upper()
    if code not in COUNTRIES:
        raise ValueError(f"'{name}' is not a country caselink knows the numbering of; use one of "
                         f"{', '.join(sorted(COUNTRIES))}")
    return code


def international(value: str, country: str) -> str:
    """``value`` (a phone as written) in international form for ``country``; unchanged when it
    already is, or holds too few digits to be a number."""
    text = value.strip()
    if text.startswith("+"):
        return text
    calling, trunk, exit_prefix = COUNTRIES[country]
    digits = re.sub(r"\D", "", text)
    if len(digits) < _MIN_DIGITS:
        return text
    if digits.startswith(exit_prefix):  # dialled abroad from this country: 011 44 7700 ... in the US
        return "+" + digits[len(exit_prefix):]
    if trunk and digits.startswith(trunk):
        digits = digits[len(trunk):]
    return f"+{calling}{digits}"


def _international_items(items: list[Any], country: str) -> list[Any]:
    converted = []
    for item in items:
        if isinstance(item, str):
            kind, sep, value = item.partition(":")
            if sep and kind.strip().lower() == "phone":
                item = f"{kind}:{international(value, country)}"
        converted.append(item)
    return converted


class NationalPhones(RecordSource):
    """``source`` with each national phone in its ``entities`` made international for ``country``."""

    def __init__(self, source: RecordSource, country: str) -> None:
        self.path = source.path
        self._source = source
        self._country = country

    def warnings(self) -> list[str]:
        return self._source.warnings()

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        from caselink.normalise import read_list_cell

        for line, row in self._source:
            value = row.get("entities")
            if isinstance(value, str) and value.strip():
                row["entities"] = _international_items(read_list_cell("entities", value), self._country)
            elif isinstance(value, list | tuple):
                row["entities"] = _international_items(list(value), self._country)
            yield line, row


def with_phone_country(sources: list[RecordSource], country: str) -> list[RecordSource]:
    """``sources`` reading national phones as ``country``'s; as they are for the default, GB."""
    if country == DEFAULT_PHONE_COUNTRY:
        return sources
    return [NationalPhones(source, country) for source in sources]
