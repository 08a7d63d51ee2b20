"""What is new in the landing tree, decided without reading the files.

A landing file is **known** when the manifest's current row for its name (per extract: the newest row that is
not ``replaced``, else the newest row - the row the loader compares checksums with) records the same size
(``file_bytes``) and modification time (``file_mtime_ns``) as the file has now. Anything else is
**pending**: a new name (a new day, an ``_rN`` re-delivery, a late file for an old day), a file whose size or
mtime changed (re-written in place, or only touched), and a file whose manifest row has no mtime (loaded
before the column existed). Only ``stat`` is called: a known file is never opened.

Every status counts: a file that was loaded, rejected, malformed, superseded or replaced is known while its
size and mtime are unchanged, exactly as the loader would skip it by checksum (a rejected file is not retried
every night; to retry it after a loader fix, delete its manifest row).

The loader's checksum rule stays the authority: a pending file is hashed and skipped if its bytes are
unchanged (it then records the new mtime, so the next check is cheap again). The accepted corner case is a
file re-written with different bytes of the same size *and* the same mtime (to the nanosecond the file
system keeps; e.g. a copy that preserves the source's mtime of a different file of equal size, or two writes
within one mtime tick of a coarse file system): it is taken as unchanged until its size or mtime changes.
To force a re-check, touch the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from cx_warehouse.ingest.landing import LandingFile, Unrecognised, scan_landing
from cx_warehouse.ingest.spec import MANIFEST_TABLE, RAW_SCHEMA

MTIME_COLUMN = "file_mtime_ns"


@dataclass(frozen=True)
class KnownFile:
    """The manifest's current row of a file name: what the file looked like when it was last processed."""

    extract: str
    file_name: str
    status: str
    file_bytes: int | None
    mtime_ns: int | None  # None: unknown (the row predates the column, or the file changed while read)


ManifestState = Mapping[tuple[str, str], KnownFile]  # (extract, file name) -> current row


class Pending(list[LandingFile]):
    """The pending landing files (a plain ``list[LandingFile]``).

    Like ``Discovery`` it also carries the ``known`` (unchanged, not read) and the ``unrecognised`` files.
    """

    def __init__(
        self, pending: list[LandingFile], known: list[LandingFile], unrecognised: list[Unrecognised]
    ) -> None:
        super().__init__(pending)
        self.known: list[LandingFile] = known
        self.unrecognised: list[Unrecognised] = unrecognised

    @property
    def dates(self) -> list[date]:
        """The business dates of the pending files, sorted."""
        return sorted({f.business_date for f in self})


def file_stamp(path: Path) -> tuple[int, int]:
    """``(size, mtime_ns)`` of a file: what "unchanged" is judged by."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def manifest_state(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], KnownFile]:
    """The current manifest row per (extract, file name); empty when the warehouse has no manifest yet.

    Works on a read-only connection and on a warehouse from before ``file_mtime_ns`` (every mtime unknown).
    """
    schema, table = MANIFEST_TABLE.split(".")
    columns = {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    if not columns:
        return {}
    mtime = MTIME_COLUMN if MTIME_COLUMN in columns else "null::bigint"
    rows = con.execute(
        f"""select "extract", file_name, status, file_bytes, {mtime}
            from {MANIFEST_TABLE}
            qualify row_number() over (
                partition by "extract", file_name order by (status <> 'replaced') desc, loaded_at desc
            ) = 1"""
    ).fetchall()
    return {(r[0], r[1]): KnownFile(*r) for r in rows}


def warehouse_manifest_state(warehouse: Path) -> dict[tuple[str, str], KnownFile]:
    """``manifest_state`` of a warehouse file, opened read-only (no file yet: empty, everything is pending).

    Raises ``duckdb.IOException`` when another process holds the file's write lock (a run is loading).
    """
    if not Path(warehouse).exists():
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        has_raw = con.execute(
            "select count(*) from duckdb_schemas() where schema_name = ?", [RAW_SCHEMA]
        ).fetchone()
        return manifest_state(con) if has_raw and has_raw[0] else {}


def is_known(lf: LandingFile, state: ManifestState) -> bool:
    """True when the file's size and mtime equal those its current manifest row recorded (``stat`` only)."""
    known = state.get((lf.extract, lf.name))
    if known is None or known.mtime_ns is None or known.file_bytes is None:
        return False
    try:
        return file_stamp(lf.path) == (known.file_bytes, known.mtime_ns)
    except OSError:  # vanished since the scan: let the loader report it
        return False


def pending_files(
    known: duckdb.DuckDBPyConnection | ManifestState,
    landing_root: Path,
    *,
    extracts: Iterable[str] | None = None,
    dates: Iterable[date] | None = None,
) -> Pending:
    """The landing files (optionally of some extracts / business dates) not yet processed in this version.

    ``known`` is a warehouse connection (its manifest is read) or a ``manifest_state``. Reads no file: see the
    module docstring for the rule. The result is in ``discover`` order; ``.known`` holds the unchanged files.
    """
    state = manifest_state(known) if isinstance(known, duckdb.DuckDBPyConnection) else known
    wanted_extracts = set(extracts) if extracts is not None else None
    wanted_dates = set(dates) if dates is not None else None
    found = scan_landing(landing_root)
    pending: list[LandingFile] = []
    unchanged: list[LandingFile] = []
    for lf in found:
        if wanted_extracts is not None and lf.extract not in wanted_extracts:
            continue
        if wanted_dates is not None and lf.business_date not in wanted_dates:
            continue
        (unchanged if is_known(lf, state) else pending).append(lf)
    return Pending(pending, unchanged, found.unrecognised)
