"""Ingest: load the channel extracts from the landing tree into the warehouse's ``raw`` schema.

Dagster-independent; the Dagster assets call ``load_day`` per extract and business date. See ``loader`` for
the file statuses and the replacement rules, ``validate`` for the row rules, ``fastpath`` for when DuckDB's
own readers are used, and ``spec`` for the contract as data.
"""

from cx_warehouse.ingest.landing import (
    Discovery,
    LandingFile,
    Unrecognised,
    business_dates,
    discover,
    parse_file_name,
    scan_landing,
)
from cx_warehouse.ingest.loader import (
    FileResult,
    ensure_raw_schema,
    load_all,
    load_day,
    load_file,
    unrecognised_files,
)

__all__ = [
    "Discovery",
    "FileResult",
    "LandingFile",
    "Unrecognised",
    "business_dates",
    "discover",
    "ensure_raw_schema",
    "load_all",
    "load_day",
    "load_file",
    "parse_file_name",
    "scan_landing",
    "unrecognised_files",
]
