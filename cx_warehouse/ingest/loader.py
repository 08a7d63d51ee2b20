"""Loading landing files into the ``raw`` schema: one DuckDB transaction per file, with a manifest row.

Per file, in delivery order (per extract: business date, delivery number, name):

1. **skipped** - the newest manifest row of the same file name has the same sha256: no manifest row is added
   (the manifest describes deliveries, a re-run adds nothing); only when that row's recorded size and mtime
   differ from the file's (a touched file, a row from before ``file_mtime_ns``) are they updated, so that
   ``pending.pending_files`` knows the file again without reading it.
2. **superseded** - a higher ``_rN`` of the same extract and day is already loaded: the file is not loaded;
   its rows are counted and each goes to ``raw._rejects`` with the reason, so that ``rows_in = rows_loaded
   + rows_rejected`` holds and nothing delivered disappears silently.
3. Otherwise the file is tokenised (the fast DuckDB path when exact, else Python) and validated in SQL:
   - **malformed** - a CSV without a header row (zero bytes or only blank lines): zero rows;
   - **rejected** - a file-level problem (damaged gzip, wrong encoding, missing/duplicate columns): every
     readable row goes to rejects with the file's reason, nothing is loaded;
   - **loaded** - valid rows go to the raw table(s), invalid rows to rejects with their reasons.

Replacement, inside the same transaction: a file with the same name and different bytes replaces the earlier
version whatever the outcome (the landing file *is* the new bytes); a **loaded** file replaces every active
file of its extract and day with a lower or equal delivery number (``_r2`` replaces the plain/``_r1`` file).
Replacing deletes the replaced file's rows from the raw and child tables and its rejects, and sets its
manifest status to ``replaced`` (its counts are kept as history). A re-delivery that is itself rejected or
malformed does not remove the earlier file's rows.

Each manifest row records the file's size and mtime (ns) as they were when the file was read
(``file_mtime_ns`` is null when the file changed while it was being read), which is what
``pending.pending_files`` compares to decide, without reading, which files need the loader at all.

Speed: small files of one extract are staged together and validated by one SQL statement (DuckDB's
planning of the generated validation SQL costs milliseconds, more than the data of a small file), then
written one transaction per file. Large files use the fast path (``fastpath``) one at a time. The loader
assumes it is the only writer of the raw schema while it runs (DuckDB allows one writing process).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import groupby
from pathlib import Path

import duckdb
import pyarrow as pa

from cx_warehouse.ingest import fastpath
from cx_warehouse.ingest.landing import LandingFile, Unrecognised, parse_file_name, scan_landing
from cx_warehouse.ingest.pending import MTIME_COLUMN, file_stamp
from cx_warehouse.ingest.reader import ByteSource, TextLines, file_digest, record_texts, scan_bytes
from cx_warehouse.ingest.spec import (
    EXTRACTS,
    LINEAGE_COLUMNS,
    MANIFEST_TABLE,
    RAW_SCHEMA,
    REJECTS_TABLE,
    ExtractSpec,
    FileFormat,
    warehouse_ddl,
)
from cx_warehouse.ingest.stage import STAGE, Stager, child_stage, json_columns, q, scalar_columns
from cx_warehouse.ingest.tokenize import tokenize_csv, tokenize_jsonl
from cx_warehouse.ingest.validate import VALID, valid_child, validation_sql

log = logging.getLogger("cx_warehouse.ingest")

# Files at least this large (decompressed bytes, estimated from the file size) try the fast path; smaller
# ones are tokenised in Python and validated together with the other small files of the batch.
FAST_PATH_MIN_BYTES = 1 << 20
# A batch of small files is validated and written when it holds this many rows or files.
BATCH_MAX_ROWS = 250_000
BATCH_MAX_FILES = 500

LOADED, SKIPPED, SUPERSEDED, REJECTED, MALFORMED, REPLACED = (
    "loaded",
    "skipped",
    "superseded",
    "rejected",
    "malformed",
    "replaced",
)


@dataclass
class FileResult:
    """The outcome of one landing file (``status``: loaded | skipped | superseded | rejected | malformed)."""

    file_name: str
    extract: str
    business_date: date
    delivery_no: int
    checksum: str
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    extra_columns: tuple[str, ...] = ()
    reason: str | None = None
    file_bytes: int = 0
    file_path: str = ""  # relative to the landing root
    fast_path: bool = False  # staged by DuckDB's reader (else by the Python tokeniser)
    replaced: tuple[str, ...] = field(default_factory=tuple)  # files whose rows this load replaced
    seconds: float = 0.0  # time spent on this file (a batch's shared validation not included)


@dataclass
class _Prior:
    """A manifest row, as far as the replacement rules need it."""

    file_name: str
    business_date: date
    delivery_no: int
    checksum: str
    status: str
    loaded_at: datetime
    file_bytes: int | None
    mtime_ns: int | None


@dataclass
class _Entry:
    """A file on its way through a batch."""

    lf: LandingFile
    result: FileResult
    file_no: int = 0
    file_reason: str | None = None  # the whole file is rejected (or superseded) for this reason
    superseded_by: _Prior | None = None
    no_header: bool = False
    started: float = 0.0
    stamp: tuple[int, int] | None = None  # (size, mtime_ns) before the file was first read


_SCHEMA_READY: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``raw`` schema, its tables, the manifest and the rejects table (idempotent)."""
    for statement in warehouse_ddl():
        con.execute(statement)
    _SCHEMA_READY.add(con)


def _expected_tables() -> list[str]:
    names = [MANIFEST_TABLE.split(".")[1], REJECTS_TABLE.split(".")[1]]
    for spec in EXTRACTS.values():
        names.append(spec.name)
        names.extend(spec.child_tables.values())
    return names


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Session time zone UTC; the raw schema if a table or manifest column is missing (once a connection)."""
    con.execute("set TimeZone = 'UTC'")
    if con in _SCHEMA_READY:
        return
    expected = _expected_tables()
    placeholders = ", ".join("?" for _ in expected)
    manifest_schema, manifest_table = MANIFEST_TABLE.split(".")
    row = con.execute(
        f"""select
            (select count(*) from duckdb_tables() where schema_name = ? and table_name in ({placeholders})),
            (select count(*) from duckdb_columns()
             where schema_name = ? and table_name = ? and column_name = ?)""",
        [RAW_SCHEMA, *expected, manifest_schema, manifest_table, MTIME_COLUMN],
    ).fetchone()
    if not row or row[0] != len(expected) or row[1] != 1:
        ensure_raw_schema(con)
    _SCHEMA_READY.add(con)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _child_key_columns(spec: ExtractSpec) -> list[str]:
    """The parent columns repeated in child tables (as ``spec.raw_table_ddl`` builds them)."""
    return [c.name for c in spec.columns if c.key] + [c.name for c in spec.columns if c.name == "updated_at"]


class _ExtractLoader:
    """Loads the files of one extract, in the order given, batching the small ones."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        spec: ExtractSpec,
        landing_root: Path,
        run_id: str,
        fast_path: bool,
    ) -> None:
        self.con = con
        self.spec = spec
        self.landing_root = Path(landing_root)
        self.run_id = run_id
        self.fast_path = fast_path
        self.results: list[FileResult] = []
        self.pending: list[_Entry] = []
        self.stager: Stager | None = None
        rows = con.execute(
            f"""select file_name, business_date, delivery_no, checksum, status, loaded_at, file_bytes,
                    {MTIME_COLUMN}
                from {MANIFEST_TABLE} where "extract" = ? order by loaded_at""",
            [spec.name],
        ).fetchall()
        self.manifest = [_Prior(*r) for r in rows]  # chronological; kept up to date as files are written

    # -- the replacement rules, on the in-memory manifest ---------------------------------------------------

    def _current(self, name: str) -> _Prior | None:
        same = [p for p in self.manifest if p.file_name == name]
        active = [p for p in same if p.status != REPLACED]
        return (active or same or [None])[-1]

    def _later_loaded(self, lf: LandingFile) -> _Prior | None:
        later = [
            p
            for p in self.manifest
            if p.business_date == lf.business_date
            and p.file_name != lf.name
            and p.status == LOADED
            and p.delivery_no > lf.delivery_no
        ]
        return max(later, key=lambda p: p.delivery_no) if later else None

    def _to_replace(self, lf: LandingFile, status: str) -> list[str]:
        names = [p.file_name for p in self.manifest if p.file_name == lf.name and p.status != REPLACED]
        if status == LOADED:
            names += [
                p.file_name
                for p in self.manifest
                if p.business_date == lf.business_date
                and p.file_name != lf.name
                and p.status != REPLACED
                and p.delivery_no <= lf.delivery_no
            ]
        return list(dict.fromkeys(names))

    # -- per file -------------------------------------------------------------------------------------------

    def add(self, lf: LandingFile) -> None:
        started = time.perf_counter()
        stamp = file_stamp(lf.path)  # before reading: a change while reading makes the stamp differ later
        checksum, size = file_digest(lf.path)
        result = FileResult(
            file_name=lf.name,
            extract=lf.extract,
            business_date=lf.business_date,
            delivery_no=lf.delivery_no,
            checksum=checksum,
            status=LOADED,
            file_bytes=size,
            file_path=_relative(lf.path, self.landing_root),
        )
        self.results.append(result)  # filled in when the file is written (results keep the processing order)
        current = self._current(lf.name)
        if current is not None and current.checksum == checksum:
            result.status = SKIPPED
            result.reason = f"already processed with the same checksum (status {current.status})"
            self._restamp(current, lf, stamp if size == stamp[0] else None)
            result.seconds = time.perf_counter() - started
            return
        entry = _Entry(
            lf,
            result,
            started=started,
            superseded_by=self._later_loaded(lf),
            stamp=stamp if size == stamp[0] else None,
        )
        if (
            self.fast_path
            and entry.superseded_by is None
            and self.spec.encoding == "utf-8"
            and size * (6 if lf.gzip else 1) >= FAST_PATH_MIN_BYTES
            and not any(c in str(lf.path) for c in "*?[{")  # DuckDB would read the path as a glob
        ):
            self._flush()
            if self._try_fast(entry):
                return
        self._stage_exactly(entry)
        stager = self.stager
        if stager is not None and (
            stager.total_rows >= BATCH_MAX_ROWS or len(self.pending) >= BATCH_MAX_FILES
        ):
            self._flush()

    def _restamp(self, current: _Prior, lf: LandingFile, stamp: tuple[int, int] | None) -> None:
        """Record the size and mtime of a skipped file on its current manifest row when they changed."""
        if stamp is None or _stable(lf, stamp) is None or (current.file_bytes, current.mtime_ns) == stamp:
            return
        self.con.execute(
            f"""update {MANIFEST_TABLE} set file_bytes = ?, {MTIME_COLUMN} = ?
                where "extract" = ? and file_name = ? and loaded_at = ?""",
            [*stamp, self.spec.name, current.file_name, current.loaded_at],
        )
        current.file_bytes, current.mtime_ns = stamp

    def _try_fast(self, entry: _Entry) -> bool:
        """Load the file through DuckDB's reader when that is exact (see ``fastpath``); False otherwise."""
        lf, con = entry.lf, self.con
        scanning = _scanner().submit(scan_bytes, ByteSource(lf.path, lf.gzip))  # overlaps DuckDB's read
        try:
            extras = fastpath.create_views(con, lf.path, self.spec, lf.gzip)
            if extras is not None:
                _validate(con, self.spec, fastpath.FAST)
        except duckdb.Error as e:
            log.debug("%s: fast path not possible: %s", lf.name, e)
            extras = None
        scan = scanning.result()
        fastpath.drop_views(con, self.spec)
        if extras is None or scan.error or not scan.valid_utf8:
            return False
        rows_in, rows_rejected, rows_extra = _counts(con).get(0, (0, 0, 0))
        expected = scan.n_lines - (1 if self.spec.format is FileFormat.CSV else 0)
        if rows_in != expected or rows_rejected:
            log.debug(
                "%s: %d rows for %d lines, %d invalid: re-reading exactly",
                lf.name,
                rows_in,
                expected,
                rows_rejected,
            )
            return False
        if rows_extra and self.spec.format is FileFormat.JSONL:
            extras = [
                r[0]
                for r in con.execute(
                    f"""select k from (select unnest(json_keys(_extra)) as k, _row_no from {VALID}
                        where _extra is not null) group by k order by min(_row_no)"""
                ).fetchall()
            ]
        entry.result.fast_path = True
        entry.result.extra_columns = tuple(extras)
        self._write(entry, rows_in, 0)
        entry.result.seconds = time.perf_counter() - entry.started
        return True

    def _stage_exactly(self, entry: _Entry) -> None:
        if self.stager is None:
            self.stager = Stager(self.con, self.spec)
        lf = entry.lf
        entry.file_no = len(self.pending)
        self.stager.start_file(entry.file_no)
        lines = TextLines(lf.path, lf.gzip, self._encoding)
        if self.spec.format is FileFormat.CSV:
            tok = tokenize_csv(lines, self.spec, self.stager)
        else:
            tok = tokenize_jsonl(lines, self.spec, self.stager)
        entry.result.extra_columns = tuple(tok.extra_columns)
        problems = [p for p in (lines.error, tok.file_error) if p]
        if problems:
            entry.file_reason = "; ".join(problems)
        elif tok.no_header:
            entry.no_header = True
        entry.result.seconds = time.perf_counter() - entry.started
        self.pending.append(entry)

    def _flush(self) -> None:
        """Validate the pending batch with one statement, then write its files one transaction each."""
        if not self.pending:
            return
        assert self.stager is not None
        self.stager.flush()
        if any(e.file_reason is None and not e.no_header and e.superseded_by is None for e in self.pending):
            _validate(self.con, self.spec, STAGE)
            counts = {k: (n, bad) for k, (n, bad, _extra) in _counts(self.con).items()}  # every staged row
        else:
            rows = self.con.execute(f"select _file, count(*) from {STAGE} group by _file").fetchall()
            counts = {int(k): (int(n), int(n)) for k, n in rows}
        for entry in self.pending:
            started = time.perf_counter()
            rows_in, rows_rejected = counts.get(entry.file_no, (0, 0))
            if entry.superseded_by is not None or entry.file_reason is not None or entry.no_header:
                rows_rejected = rows_in  # the whole file is rejected
            self._write(entry, rows_in, rows_rejected)
            entry.result.seconds += time.perf_counter() - started
        self.pending = []
        self.stager = None

    def _write(self, entry: _Entry, rows_in: int, rows_rejected: int) -> None:
        """One transaction: replacements, raw and child rows, rejects, the manifest row."""
        lf, result, spec, con = entry.lf, entry.result, self.spec, self.con
        if entry.superseded_by is not None:
            winner = entry.superseded_by
            result.status = SUPERSEDED
            result.reason = (
                f"superseded: {winner.file_name} (delivery {winner.delivery_no}) is already loaded for "
                f"{lf.extract} {lf.business_date}; an earlier delivery does not replace a later one"
            )
        elif entry.file_reason:
            result.status = REJECTED
            result.reason = entry.file_reason
        elif entry.no_header:
            result.status = MALFORMED
            result.reason = "zero-byte file: no header row" if result.file_bytes == 0 else "no header row"
        else:
            result.status = LOADED
        validated = result.status == LOADED
        result.replaced = tuple(self._to_replace(lf, result.status))
        loaded_at = _now()
        lineage = [lf.name, lf.business_date, lf.delivery_no]
        k = entry.file_no
        rejects = self._rejects(entry, validated, loaded_at) if rows_rejected else None
        # The file's last read is done: its mtime is recorded only if it did not change since the first.
        stamp = _stable(lf, entry.stamp) if entry.stamp is not None else None
        mtime_ns = stamp[1] if stamp is not None else None
        con.execute("begin transaction")
        try:
            if result.replaced:
                self._retire(lf, result.replaced)
            if validated:
                cols = [c.name for c in scalar_columns(spec)]
                lineage_names = [name for name, _ in LINEAGE_COLUMNS]
                target = ", ".join(q(c) for c in cols + lineage_names)
                select = ", ".join(q(c) for c in cols)
                con.execute(
                    f"""insert into {RAW_SCHEMA}.{spec.name} ({target})
                        select {select}, ?, ?, ?, _row_no, _line_no, _extra, ?
                        from {VALID} where _file = ? and _reason is null order by _row_no""",
                    [*lineage, loaded_at, k],
                )
                parent_key = _child_key_columns(spec)
                for jcol in json_columns(spec):
                    elem_no = f"{jcol.name.rstrip('s')}_no"
                    child_cols = [ch.name for ch in jcol.children]
                    target = ", ".join(q(c) for c in [*parent_key, elem_no, *child_cols, *lineage_names])
                    select = ", ".join(
                        [f"p.{q(c)}" for c in parent_key] + ["c._elem_no"] + [f"c.{q(c)}" for c in child_cols]
                    )
                    con.execute(
                        f"""insert into {RAW_SCHEMA}.{spec.child_tables[jcol.name]} ({target})
                            select {select}, ?, ?, ?, p._row_no, p._line_no, c._extra, ?
                            from {valid_child(jcol)} c join {VALID} p using (_file, _row_no)
                            where p._file = ? and p._reason is null order by c._row_no, c._elem_no""",
                        [*lineage, loaded_at, k],
                    )
            if rejects is not None:
                con.register("_cxw_rejects", rejects)
                try:
                    con.execute(f"insert into {REJECTS_TABLE} select * from _cxw_rejects")
                finally:
                    con.unregister("_cxw_rejects")
            result.rows_in = rows_in
            result.rows_rejected = rows_rejected
            result.rows_loaded = rows_in - rows_rejected
            con.execute(
                f"""insert into {MANIFEST_TABLE} (file_name, file_path, "extract", business_date, delivery_no,
                        checksum, file_bytes, status, reason, rows_in, rows_loaded, rows_rejected,
                        extra_columns, loaded_at, run_id, {MTIME_COLUMN})
                    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    lf.name,
                    result.file_path,
                    lf.extract,
                    lf.business_date,
                    lf.delivery_no,
                    result.checksum,
                    result.file_bytes,
                    result.status,
                    result.reason,
                    result.rows_in,
                    result.rows_loaded,
                    result.rows_rejected,
                    ", ".join(result.extra_columns) or None,
                    loaded_at,
                    self.run_id,
                    mtime_ns,
                ],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        for p in self.manifest:
            if p.file_name in result.replaced:
                p.status = REPLACED
        self.manifest.append(
            _Prior(
                lf.name,
                lf.business_date,
                lf.delivery_no,
                result.checksum,
                result.status,
                loaded_at,
                result.file_bytes,
                mtime_ns,
            )
        )
        log.info(
            "%s: %s, %d in, %d loaded, %d rejected%s",
            lf.name,
            result.status,
            result.rows_in,
            result.rows_loaded,
            result.rows_rejected,
            f" ({result.reason})" if result.reason else "",
        )

    def _rejects(self, entry: _Entry, validated: bool, rejected_at: datetime) -> pa.Table:
        """The file's rejected rows with their delivered text, read back from the file."""
        lf, k = entry.lf, entry.file_no
        if validated:
            rows = self.con.execute(
                f"""select _line_no, _line_end, _reason from {VALID}
                    where _file = ? and _reason is not null order by _row_no""",
                [k],
            ).fetchall()
        else:
            rows = [
                (start, end, entry.result.reason)
                for start, end in self.con.execute(
                    f"select _line_no, _line_end from {STAGE} where _file = ? order by _row_no", [k]
                ).fetchall()
            ]
        texts = record_texts(lf.path, lf.gzip, self._encoding, [(start, end) for start, end, _ in rows])
        n = len(rows)
        return pa.table(
            {
                "file_name": pa.array([lf.name] * n, pa.string()),
                "extract": pa.array([lf.extract] * n, pa.string()),
                "business_date": pa.array([lf.business_date] * n, pa.date32()),
                "line_no": pa.array([r[0] for r in rows], pa.int64()),
                "raw_line": pa.array(texts, pa.string()),
                "reason": pa.array([r[2] for r in rows], pa.string()),
                "rejected_at": pa.array([rejected_at] * n, pa.timestamp("us")),
            }
        )

    @property
    def _encoding(self) -> str:
        return self.spec.encoding if self.spec.format is FileFormat.CSV else "utf-8"

    def _retire(self, lf: LandingFile, names: Iterable[str]) -> None:
        """Delete the rows and rejects of earlier files and mark their manifest rows ``replaced``."""
        names = list(names)
        marks = ", ".join("?" for _ in names)
        spec, con = self.spec, self.con
        for table in [spec.name, *spec.child_tables.values()]:
            con.execute(f"delete from {RAW_SCHEMA}.{table} where _file_name in ({marks})", names)
        con.execute(
            f'delete from {REJECTS_TABLE} where "extract" = ? and file_name in ({marks})', [spec.name, *names]
        )
        for name in names:
            reason = (
                f"replaced by a new delivery of {name} with different bytes"
                if name == lf.name
                else f"replaced by {lf.name}"
            )
            con.execute(
                f"""update {MANIFEST_TABLE} set status = ?, reason = ?
                    where "extract" = ? and file_name = ? and status <> ?""",
                [REPLACED, reason, spec.name, name, REPLACED],
            )

    def finish(self) -> list[FileResult]:
        try:
            self._flush()
        finally:
            self._cleanup()
        return self.results

    def _cleanup(self) -> None:
        tables = [VALID, STAGE] + [f(c) for c in json_columns(self.spec) for f in (valid_child, child_stage)]
        views = [fastpath.FAST] + [child_stage(c, fastpath.FAST) for c in json_columns(self.spec)]
        self.con.execute(
            "; ".join(
                [f"drop table if exists {n}" for n in tables] + [f"drop view if exists {n}" for n in views]
            )
        )


def _stable(lf: LandingFile, stamp: tuple[int, int]) -> tuple[int, int] | None:
    """``stamp`` if the file still has that size and mtime (it did not change while read), else None."""
    try:
        return stamp if file_stamp(lf.path) == stamp else None
    except OSError:
        return None


def _validate(con: duckdb.DuckDBPyConnection, spec: ExtractSpec, stage: str) -> None:
    for statement in validation_sql(spec, stage):
        con.execute(statement)


def _counts(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[int, int, int]]:
    """Per file of the batch: (rows, rows with a reason, rows with extras) in the validated table."""
    rows = con.execute(
        f"select _file, count(*), count(_reason), count(_extra) from {VALID} group by _file"
    ).fetchall()
    return {int(f): (int(n), int(bad), int(extra)) for f, n, bad, extra in rows}


_SCANNER: ThreadPoolExecutor | None = None


def _scanner() -> ThreadPoolExecutor:
    """One background thread for the fast path's byte scan (zlib and DuckDB both release the GIL)."""
    global _SCANNER
    if _SCANNER is None:
        _SCANNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxw-scan")
    return _SCANNER


def _load_files(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    files: list[LandingFile],
    run_id: str,
    fast_path: bool,
) -> list[FileResult]:
    """Load files grouped by extract, each extract's files by business date and delivery number."""
    _prepare(con)
    results: list[FileResult] = []
    ordered = sorted(files, key=lambda f: (f.extract, f.business_date, f.delivery_no, f.name))
    for extract, group in groupby(ordered, key=lambda f: f.extract):
        loader = _ExtractLoader(con, EXTRACTS[extract], landing_root, run_id, fast_path)
        try:
            for lf in group:
                loader.add(lf)
        finally:
            results.extend(loader.finish())
    return results


def load_files(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    files: Iterable[LandingFile],
    run_id: str = "cli",
    *,
    fast_path: bool = True,
) -> list[FileResult]:
    """Load the given landing files (e.g. ``pending.pending_files(con, landing_root)``), like ``load_all``."""
    return _load_files(con, landing_root, list(files), run_id, fast_path)


def load_file(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    lf: LandingFile,
    run_id: str = "cli",
    *,
    fast_path: bool = True,
) -> FileResult:
    """Load one landing file (see the module docstring)."""
    (result,) = _load_files(con, landing_root, [lf], run_id, fast_path)
    return result


def _day_files(landing_root: Path, extract: str, business_date: date) -> list[LandingFile]:
    folder = Path(landing_root) / extract
    if not folder.is_dir():
        return []
    files = []
    for path in folder.glob(f"{extract}_{business_date:%Y%m%d}*"):
        if not path.is_file():
            continue
        parsed = parse_file_name(path.name)
        if isinstance(parsed, str):
            log.warning("not a contract file, not loaded: %s (%s)", path, parsed)
            continue
        name_extract, day, delivery_no, _fmt = parsed
        if name_extract == extract and day == business_date:
            files.append(LandingFile(extract, day, delivery_no, path.name, path))
    return files


def load_day(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    extract: str,
    business_date: date,
    run_id: str = "cli",
    *,
    fast_path: bool = True,
) -> list[FileResult]:
    """Load every landing file of ``extract`` for ``business_date``, in delivery-number order.

    For many days of one extract prefer ``load_all(..., extracts=[extract], dates=days)``: it validates the
    small files of all those days in one batch, which is several times faster than a ``load_day`` per day.
    """
    if extract not in EXTRACTS:
        raise ValueError(f"unknown extract {extract!r}")
    return _load_files(con, landing_root, _day_files(landing_root, extract, business_date), run_id, fast_path)


def load_all(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    run_id: str = "cli",
    extracts: Iterable[str] | None = None,
    dates: Iterable[date] | None = None,
    *,
    fast_path: bool = True,
) -> list[FileResult]:
    """Load every contract file under ``landing_root`` (optionally only some extracts / business dates).

    Results come per extract (alphabetically), each extract's files by business date and delivery number.
    Unrecognised files are logged as warnings (see ``discover``); they are not loaded.
    """
    wanted_extracts = set(extracts) if extracts is not None else None
    wanted_dates = set(dates) if dates is not None else None
    if wanted_extracts:
        unknown = wanted_extracts - set(EXTRACTS)
        if unknown:
            raise ValueError(f"unknown extract(s): {', '.join(sorted(unknown))}")
    files = [
        lf
        for lf in scan_landing(landing_root)
        if (wanted_extracts is None or lf.extract in wanted_extracts)
        and (wanted_dates is None or lf.business_date in wanted_dates)
    ]
    return _load_files(con, landing_root, files, run_id, fast_path)


def unrecognised_files(landing_root: Path) -> list[Unrecognised]:
    """Files under the landing root that are not contract files (also logged by ``discover``)."""
    return scan_landing(landing_root).unrecognised
