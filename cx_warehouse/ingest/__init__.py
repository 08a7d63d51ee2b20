"""Ingest: load the channel extracts from the landing tree into the warehouse's ``raw`` schema.

Dagster-independent; the Dagster ingest asset loads the ``pending_files`` of its business dates with
``load_files``. See ``loader`` for the file statuses and the replacement rules, ``pending`` for how new and
changed files are found without reading the others, ``validate`` for the row rules, ``fastpath`` for when
DuckDB's own readers are used, and ``spec`` for the contract as data.
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
    load_files,
    unrecognised_files,
)
from cx_warehouse.ingest.pending import (
    KnownFile,
    Pending,
    file_stamp,
    manifest_state,
    pending_files,
    warehouse_manifest_state,
)

__all__ = [
    "Discovery",
    "FileResult",
    "KnownFile",
    "LandingFile",
    "Pending",
    "Unrecognised",
    "business_dates",
    "discover",
    "ensure_raw_schema",
    "file_stamp",
    "load_all",
    "load_day",
    "load_file",
    "load_files",
    "manifest_state",
    "parse_file_name",
    "pending_files",
    "scan_landing",
    "unrecognised_files",
    "warehouse_manifest_state",
]
