"""The floor: how long DuckDB needs to read every landing file once into a table, on this machine, now.

Per extract, one ``create table <extract> as select * from read_csv([...]) / read_json([...])`` over all its
files (gzip is read directly), every column as text (no type parsing, no validation, no lineage), in a
scratch DuckDB file with the same memory limit as the build and DuckDB's default threads. Files whose
contract encoding is cp1252 are read as latin-1 (the same bytes; the floor does not check characters). The
floor is the sum of those statements' wall times: no nightly build can load the files faster than that, so
``total / floor`` says how much the build costs beyond reading its input once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cx_warehouse.ingest.landing import discover
from cx_warehouse.ingest.spec import EXTRACTS, ExtractSpec, FileFormat

_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "cp1252": "latin-1",
    "windows-1252": "latin-1",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
}


@dataclass(frozen=True)
class ExtractFloor:
    """One extract's read: files, rows read, seconds of the ``create table ... as select`` statement."""

    files: int
    rows: int
    seconds: float


@dataclass
class Floor:
    """``seconds``: the floor (sum over extracts); ``rows``: rows read; ``threads``/``memory_limit``: the
    DuckDB settings it ran with."""

    seconds: float
    rows: int
    files: int
    threads: int
    memory_limit: str
    extracts: dict[str, ExtractFloor] = field(default_factory=dict)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_encoding(spec: ExtractSpec) -> str:
    """The DuckDB ``read_csv`` encoding for the extract's contract encoding."""
    try:
        return _ENCODINGS[spec.encoding.lower()]
    except KeyError:
        raise ValueError(f"{spec.name}: no DuckDB encoding for {spec.encoding!r}") from None


def floor_sql(spec: ExtractSpec, paths: Sequence[Path]) -> tuple[str, dict[str, Any]]:
    """The statement (and its parameters) that reads ``paths`` of ``spec`` into table ``<spec.name>``."""
    files = [str(p) for p in paths]
    table = _identifier(spec.name)
    if spec.format is FileFormat.CSV:
        sql = (
            f"create table {table} as select * from read_csv($files, all_varchar = true, header = true, "
            "delim = $delim, quote = '\"', encoding = $encoding)"
        )
        return sql, {"files": files, "delim": spec.delimiter, "encoding": duckdb_encoding(spec)}
    columns = ", ".join(f"{_sql_string(name)}: 'VARCHAR'" for name in spec.column_names)
    sql = (
        f"create table {table} as select * from read_json($files, format = 'newline_delimited', "
        f"columns = {{{columns}}})"
    )
    return sql, {"files": files}


def measure_floor(landing: Path, db_path: Path, memory_limit: str) -> Floor:
    """Read every contract file under ``landing`` once, per extract, into ``db_path`` (deleted afterwards)."""
    by_extract: dict[str, list[Path]] = {}
    for f in discover(landing).files:
        by_extract.setdefault(f.extract, []).append(f.path)
    if not by_extract:
        raise ValueError(f"no landing files under {landing}")
    for leftover in (db_path, db_path.with_name(db_path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    extracts: dict[str, ExtractFloor] = {}
    try:
        with duckdb.connect(str(db_path), config={"memory_limit": memory_limit}) as con:
            threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
            for name in sorted(by_extract):
                sql, params = floor_sql(EXTRACTS[name], by_extract[name])
                started = time.perf_counter()
                con.execute(sql, params)
                seconds = time.perf_counter() - started
                rows = int(con.execute(f"select count(*) from {_identifier(name)}").fetchall()[0][0])
                extracts[name] = ExtractFloor(files=len(by_extract[name]), rows=rows, seconds=seconds)
    finally:
        for leftover in (db_path, db_path.with_name(db_path.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return Floor(
        seconds=sum(e.seconds for e in extracts.values()),
        rows=sum(e.rows for e in extracts.values()),
        files=sum(e.files for e in extracts.values()),
        threads=threads,
        memory_limit=memory_limit,
        extracts=extracts,
    )
