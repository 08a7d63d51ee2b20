"""Write-audit-publish: copy the audited BI relations into the published DuckDB file, atomically.

:func:`publish` never modifies the published file in place. It

1. refuses (:class:`PublishBlocked`, the file untouched) unless the quality gate passed, every contract table
   exists in schema ``bi`` with its required columns, and the PII guard finds nothing;
2. writes every relation of schema ``bi`` as a table of ``main`` (plus ``meta.publish_info`` and
   ``meta.table_stats``) into a new file beside the target (same directory, so the same filesystem),
   ``CHECKPOINT``s and closes it, checks it by re-opening it read-only, and ``fsync``s it;
3. ``os.replace``s it over the target (atomic on POSIX) and ``fsync``s the directory.

A BI tool that has the old file open read-only keeps reading the old inode until it reconnects, and is never
blocked: nothing ever writes to the published path. A reader that opens the path sees the old or the new file,
never a mix.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from cx_warehouse.publish.registry import BI_SCHEMA, PUBLISHED_TABLES, PublishedTable
from cx_warehouse.quality import drift, pii
from cx_warehouse.quality import gate as quality_gate

META_SCHEMA = "meta"


class PublishBlocked(RuntimeError):
    """The publish was refused; the published file is unchanged. ``reasons`` says why."""

    def __init__(self, reasons: Sequence[str], gate: quality_gate.GateReport | None = None) -> None:
        self.reasons = list(reasons)
        self.gate = gate
        super().__init__("publish blocked, the published file is unchanged:\n- " + "\n- ".join(self.reasons))


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]  # published table -> rows
    sha256: str
    size_bytes: int
    published_at: str
    run_id: str
    previous_sha256: str | None
    duration_s: float
    gate: quality_gate.GateReport | None = None
    notes: list[str] = field(default_factory=list)


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def contract_problems(
    con: duckdb.DuckDBPyConnection, tables: Sequence[PublishedTable], schema: str = BI_SCHEMA
) -> list[str]:
    """Contract tables missing from ``schema`` or lacking a required column (empty when all is well)."""
    present = set(pii.list_relations(con, schema))
    problems = []
    for table in tables:
        if table.name not in present:
            if table.contract:
                problems.append(
                    f"contract table {table.name} is missing from schema {schema} "
                    f"(add dbt_project/models/bi/bi_{table.name}.sql over {table.mart})"
                )
            continue
        columns = {c for c, _ in pii.relation_columns(con, schema, table.name)}
        missing = [c for c in table.required_columns if c not in columns]
        if missing:
            problems.append(f"{schema}.{table.name} lacks required column(s): {', '.join(missing)}")
    return problems


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(
    warehouse_path: str | os.PathLike[str],
    publish_path: str | os.PathLike[str],
    *,
    run_id: str | None = None,
    gate: quality_gate.GateReport | None = None,
    report_root: Path | None = None,
    tables: Sequence[PublishedTable] = PUBLISHED_TABLES,
    accept_drift: bool = False,
) -> PublishResult:
    """Publish the ``bi`` relations of the warehouse to ``publish_path`` if, and only if, the gate passes.

    ``gate``: the audit already run for this run (the Dagster asset passes the one built from its checks'
    results); when None the full audit runs here. Raises :class:`PublishBlocked` with the reasons otherwise.
    """
    started = time.perf_counter()
    run_id = run_id or datetime.now(UTC).strftime("manual-%Y%m%dT%H%M%SZ")
    target = Path(publish_path).resolve()
    if gate is None:
        gate = quality_gate.audit(
            warehouse_path,
            target,
            run_id=run_id,
            report_root=report_root,
            tables=tables,
            accept_drift=accept_drift,
        )
    if not gate.passed:
        raise PublishBlocked(gate.reasons(), gate)

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"
    published_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        with quality_gate.read_only(warehouse_path) as con:
            # Last line of defence, whatever the caller's gate said: the contract and no personal data.
            problems = contract_problems(con, tables)
            problems += [f.describe() for f in pii.scan_schema(con, BI_SCHEMA)]
            if problems:
                raise PublishBlocked(problems, gate)
            relations = pii.list_relations(con, BI_SCHEMA)
            counts = _write_new_file(con, tmp, relations, run_id=run_id, published_at=published_at)
        _verify(tmp, counts)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        previous = file_sha256(target) if target.exists() else None
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    return PublishResult(
        path=target,
        tables=counts,
        sha256=file_sha256(target),
        size_bytes=target.stat().st_size,
        published_at=published_at,
        run_id=run_id,
        previous_sha256=previous,
        duration_s=round(time.perf_counter() - started, 3),
        gate=gate,
    )


def _write_new_file(
    con: duckdb.DuckDBPyConnection, path: Path, relations: Sequence[str], *, run_id: str, published_at: str
) -> dict[str, int]:
    """Materialise each ``bi`` relation as ``main.<name>`` of a new DuckDB file at ``path``."""
    alias = "cx_publish_new"
    literal = "'" + str(path).replace("'", "''") + "'"
    con.execute(f"attach {literal} as {alias} (read_write)")
    try:
        counts: dict[str, int] = {}
        for name in relations:
            con.execute(
                f"create table {alias}.main.{_quote(name)} as select * from {BI_SCHEMA}.{_quote(name)}"
            )
            row = con.execute(f"select count(*) from {alias}.main.{_quote(name)}").fetchall()[0]
            counts[name] = int(row[0]) if row else 0
        con.execute(f"create schema {alias}.{META_SCHEMA}")
        con.execute(
            f"create table {alias}.{META_SCHEMA}.publish_info as "
            "select ?::varchar as run_id, ?::timestamptz as published_at, ?::varchar as tables",
            [run_id, published_at, ",".join(relations)],
        )
        stats = []
        for name in relations:
            for metric, value in (drift.table_stats(con, BI_SCHEMA, name, name) or {}).items():
                stats.append((name, metric, value))
        con.execute(
            f"create table {alias}.{META_SCHEMA}.table_stats "
            "(table_name varchar, metric varchar, value double)"
        )
        if stats:
            con.executemany(f"insert into {alias}.{META_SCHEMA}.table_stats values (?, ?, ?)", stats)
        con.execute(f"checkpoint {alias}")
    finally:
        con.execute(f"detach {alias}")
    return counts


def _verify(path: Path, counts: dict[str, int]) -> None:
    """Re-open the new file read-only: every table there with the rows written (before replacing anything)."""
    with duckdb.connect(str(path), read_only=True) as con:
        for name, rows in counts.items():
            row = con.execute(f"select count(*) from main.{_quote(name)}").fetchall()[0]
            if not row or int(row[0]) != rows:
                raise RuntimeError(f"new published file is inconsistent: {name} has {row} rows, wrote {rows}")
