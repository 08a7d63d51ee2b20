"""Staging tables: every delivered row of a batch of files as text, in DuckDB temp tables, before validation.

``_cxw_stg`` holds one row per delivered data row: ``_file`` (the file's number in the batch), ``_row_no``,
``_line_no`` and ``_line_end`` (the record's first and last physical line), ``_pre`` (a reason found while
tokenising: wrong column count, not JSON, ...), ``_extra`` (JSON of unknown columns) and one VARCHAR column
per contract column.
``_cxw_stg_<json column>`` holds the elements of a nested JSON array (``items``/``returns``) per parent
``(_file, _row_no)``. Both the exact (Python) path and the fast (DuckDB reader) path fill tables of this
shape, so validation is one piece of SQL for both, run once for a whole batch of small files.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import duckdb
import pyarrow as pa

from cx_warehouse.ingest.spec import ColType, Column, ExtractSpec

STAGE = "_cxw_stg"
BATCH_ROWS = 50_000
STAGE_META = ("_file", "_row_no", "_line_no", "_line_end", "_pre", "_extra")
CHILD_META = ("_file", "_row_no", "_elem_no", "_extra")


def scalar_columns(spec: ExtractSpec) -> tuple[Column, ...]:
    return tuple(c for c in spec.columns if c.type is not ColType.JSON)


def json_columns(spec: ExtractSpec) -> tuple[Column, ...]:
    return tuple(c for c in spec.columns if c.type is ColType.JSON)


def child_stage(col: Column, stage: str = STAGE) -> str:
    return f"{stage}_{col.name}"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _schema(names: tuple[str, ...], ints: int) -> pa.Schema:
    return pa.schema([(n, pa.int64() if i < ints else pa.string()) for i, n in enumerate(names)])


class Stager:
    """Collects staged rows in Python and flushes them to DuckDB in Arrow batches.

    Rows are added without the ``_file`` column (``add((row_no, line_no, line_end, pre, extra, *values))``);
    ``file`` says which file of the batch they belong to.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> None:
        self.con = con
        self.spec = spec
        self.schema = _schema(STAGE_META + tuple(c.name for c in scalar_columns(spec)), 4)
        self.child_schemas = {
            c.name: _schema(CHILD_META + tuple(ch.name for ch in c.children), 3) for c in json_columns(spec)
        }
        self.file = 0
        self.rows: list[tuple[Any, ...]] = []
        self.segments: list[tuple[int, int]] = [(0, 0)]  # (file, index of its first row in ``rows``)
        self.child_rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in self.child_schemas}
        self.child_files: dict[str, list[int]] = {k: [] for k in self.child_schemas}
        self.flushed_rows = 0
        create_stage_tables(con, spec)

    @property
    def total_rows(self) -> int:
        return self.flushed_rows + len(self.rows)

    def start_file(self, file: int) -> None:
        """The rows added from now on belong to file number ``file`` of the batch."""
        self.file = file
        self.segments.append((file, len(self.rows)))

    def add(self, row: tuple[Any, ...]) -> None:
        rows = self.rows
        rows.append(row)
        if len(rows) >= BATCH_ROWS:
            self.flush()

    def set_pre(self, row_no: int, reason: str) -> None:
        """Give an already added row of the current file a ``_pre`` reason."""
        first = self.segments[-1][1]
        for i in range(len(self.rows) - 1, first - 1, -1):
            if self.rows[i][0] == row_no:
                row = self.rows[i]
                self.rows[i] = (*row[:3], reason, *row[4:])
                return
        self.con.execute(
            f"update {STAGE} set _pre = ? where _file = ? and _row_no = ?", [reason, self.file, row_no]
        )

    def add_child(self, column: str, row: tuple[Any, ...]) -> None:
        self.child_rows[column].append(row)
        self.child_files[column].append(self.file)

    def flush(self) -> None:
        if self.rows:
            files: list[int] = []
            bounds = [*self.segments, (-1, len(self.rows))]
            for (file, begin), (_next, end) in pairwise(bounds):
                files += [file] * (end - begin)
            _insert(self.con, STAGE, files, self.rows, self.schema)
            self.flushed_rows += len(self.rows)
            self.rows = []
            self.segments = [(self.file, 0)]
        for name, rows in self.child_rows.items():
            if rows:
                _insert(self.con, f"{STAGE}_{name}", self.child_files[name], rows, self.child_schemas[name])
                self.child_rows[name], self.child_files[name] = [], []


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    files: list[int],
    rows: list[tuple[Any, ...]],
    schema: pa.Schema,
) -> None:
    columns = [files, *zip(*rows, strict=True)]
    batch = pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
    )
    con.register("_cxw_batch", batch)
    try:
        con.execute(f"insert into {table} select * from _cxw_batch")
    finally:
        con.unregister("_cxw_batch")


def create_stage_tables(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> None:
    """(Re)create the empty temp staging tables for ``spec``."""
    cols = [
        "_file bigint",
        "_row_no bigint",
        "_line_no bigint",
        "_line_end bigint",
        "_pre varchar",
        "_extra varchar",
    ]
    cols += [f"{q(c.name)} varchar" for c in scalar_columns(spec)]
    statements = [f"create or replace temp table {STAGE} ({', '.join(cols)})"]
    for col in json_columns(spec):
        child_cols = ["_file bigint", "_row_no bigint", "_elem_no bigint", "_extra varchar"]
        child_cols += [f"{q(ch.name)} varchar" for ch in col.children]
        statements.append(f"create or replace temp table {child_stage(col)} ({', '.join(child_cols)})")
    con.execute("; ".join(statements))
