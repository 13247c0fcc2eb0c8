"""Readers and writers of case files: CSV, JSON Lines, Parquet and GeoJSON."""

from caselink.io.readers import FORMATS, open_source
from caselink.io.writers import write

__all__ = ["FORMATS", "open_source", "write"]
