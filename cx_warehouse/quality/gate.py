"""The quality gate: run every suite, drift comparison and PII guard that must pass before a publish.

Used two ways: by the Dagster asset checks (one suite at a time, results shown in the UI), and by
:func:`cx_warehouse.publish.publish`, which calls :func:`audit` and refuses to publish unless it passed. With
``reuse=True`` the audit takes the results the checks stored for the same run id and only runs what is
missing, so a publish is never ungated (e.g. the publish asset materialized on its own) and never pays twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from cx_warehouse.publish.registry import BI_SCHEMA, PUBLISHED_TABLES, PublishedTable
from cx_warehouse.quality import drift, pii
from cx_warehouse.quality.report import load_outcome, quality_root, write_outcome
from cx_warehouse.quality.results import ExpectationOutcome, SuiteOutcome, jsonable
from cx_warehouse.quality.suites import SUITES, SUITES_BY_TABLE, SuiteParams, SuiteSpec, suite_notes

MODEL_METRICS = "marts.model_metrics"
# Expectations about the frame's columns, not its rows: the same in every chunk (and in an empty increment).
SCHEMA_LEVEL: frozenset[str] = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
    }
)


@contextmanager
def read_only(path: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection (many readers may share a DuckDB file; only a writer is exclusive).

    It honours ``CX_DUCKDB_MEMORY_LIMIT`` like the warehouse resource and dbt (DuckDB's default: 80 % of RAM).
    """
    limit = os.environ.get("CX_DUCKDB_MEMORY_LIMIT")
    con = duckdb.connect(str(path), read_only=True, config={"memory_limit": limit} if limit else {})
    try:
        con.execute("set TimeZone = 'UTC'")  # (config={"TimeZone": ...} at connect fails on DuckDB 2.0)
        yield con
    finally:
        con.close()


def relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, _, table = relation.partition(".")
    row = con.execute(
        """select count(*) from information_schema.tables
           where table_catalog = current_database() and table_schema = ? and table_name = ?""",
        [schema, table],
    ).fetchall()[0]
    return bool(row and row[0])


def propensity_not_trained(con: duckdb.DuckDBPyConnection, run_id: str | None) -> str | None:
    """The reasons recorded in marts.model_metrics when run ``run_id`` did not train the propensity models
    (it has rows and all of them say ``not_trained``); None otherwise (trained, another run, no metrics)."""
    if run_id is None or not relation_exists(con, MODEL_METRICS):
        return None
    schema, _, table = MODEL_METRICS.partition(".")
    if not {"status", "reason"} <= {c for c, _ in pii.relation_columns(con, schema, table)}:
        return None
    rows, all_not_trained, reasons = con.execute(
        f"""select count(*), bool_and(status = 'not_trained'),
                   string_agg(coalesce(reason, model_name), '; ' order by model_name)
            from {MODEL_METRICS} where run_id = ?""",
        [run_id],
    ).fetchall()[0]
    return str(reasons) if rows and all_not_trained else None


def suite_params(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> SuiteParams:
    """The numbers the suites need; ``run_id``: the run being gated (whose model_metrics rows count)."""
    not_trained = propensity_not_trained(con, run_id)
    if not relation_exists(con, "marts.dim_customer"):
        return SuiteParams(dim_customer_rows=0, eligible_customers=0, propensity_not_trained=not_trained)
    columns = {c for c, _ in pii.relation_columns(con, "marts", "dim_customer")}
    opted_out = "coalesce(is_profiling_opted_out, false)" if "is_profiling_opted_out" in columns else "false"
    total, eligible = con.execute(
        f"select count(distinct customer_key), count(distinct customer_key) filter (where not {opted_out}) "
        "from marts.dim_customer"
    ).fetchall()[0]
    return SuiteParams(
        dim_customer_rows=int(total), eligible_customers=int(eligible), propensity_not_trained=not_trained
    )


def _failed(suite: str, table: str, run_id: str, error: str, started: float) -> SuiteOutcome:
    return SuiteOutcome(suite, table, False, run_id, error=error, duration_s=time.perf_counter() - started)


def suite_fingerprint(spec: SuiteSpec, expectations: Sequence[Any]) -> str:
    """A digest of what a suite checks and on which rows: its SQL and every expectation with its arguments."""
    rules = [[str(e.expectation_type), jsonable(dict(e.configuration.kwargs))] for e in expectations]
    increment = spec.increment
    payload = {
        "frame_sql": spec.frame_sql,
        "increment": [increment.frame_sql, list(increment.whole_relation_columns)] if increment else None,
        "expectations": rules,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _expectation_columns(expectation: Any) -> set[str]:
    kwargs = dict(expectation.configuration.kwargs)
    columns = {kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs}
    return columns | set(kwargs.get("column_list") or ())


@dataclass(frozen=True)
class _Plan:
    since: str | None  # validate row by row only batches after this (None: the whole frame)
    watermark: str | None  # the newest batch in the relation now (recorded for the next run)
    notes: tuple[str, ...]


def _batch_watermark(con: duckdb.DuckDBPyConnection, spec: SuiteSpec) -> tuple[bool, str | None]:
    """(the increment's batch relation and column exist, the newest batch in it as text)."""
    increment = spec.increment
    if increment is None or not relation_exists(con, increment.batch_relation):
        return False, None
    schema, _, table = increment.batch_relation.partition(".")
    if increment.batch_column not in {c for c, _ in pii.relation_columns(con, schema, table)}:
        return False, None
    (newest,) = con.execute(
        f"select max({increment.batch_column})::varchar from {increment.batch_relation}"
    ).fetchall()[0]
    return True, None if newest is None else str(newest)


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _plan(
    con: duckdb.DuckDBPyConnection, spec: SuiteSpec, fingerprint: str, previous: SuiteOutcome | None
) -> _Plan:
    """Whole frame or increment? The increment only when the published run validated these rules and said up
    to which batch, and the relation has not gone back to before it."""
    if spec.increment is None:
        return _Plan(None, None, ())
    available, watermark = _batch_watermark(con, spec)
    batch = f"{spec.increment.batch_relation}.{spec.increment.batch_column}"
    whole = "whole frame validated row by row"
    if not available:
        return _Plan(None, None, (f"{batch} not available: {whole}",))
    if previous is None:
        return _Plan(None, watermark, (f"no gated publish to start from: {whole}",))
    if not previous.success or previous.batch_watermark is None:
        reason = f"the published run {previous.run_id} did not pass this suite"
        return _Plan(None, watermark, (f"{reason}: {whole}",))
    if previous.suite_fingerprint != fingerprint:
        return _Plan(None, watermark, (f"the suite's rules changed since run {previous.run_id}: {whole}",))
    try:
        went_back = watermark is None or _timestamp(watermark) < _timestamp(previous.batch_watermark)
    except ValueError:  # not a timestamp: nothing to start from
        went_back = True
    if went_back:
        reason = f"{batch} is older than the published run {previous.run_id}"
        return _Plan(None, watermark, (f"{reason}: {whole}",))
    return _Plan(
        previous.batch_watermark,
        watermark,
        (
            f"row-by-row rules on the rows of {batch} after {previous.batch_watermark} (validated through it "
            f"by the published run {previous.run_id}); whole-table rules and "
            f"{', '.join(spec.increment.whole_relation_columns)} on every row",
        ),
    )


def run_suite(
    con: duckdb.DuckDBPyConnection,
    spec: SuiteSpec,
    params: SuiteParams,
    *,
    run_id: str,
    report_dir: Path | None,
    chunk_rows: int | None = None,
    previous: SuiteOutcome | None = None,
) -> SuiteOutcome:
    """Validate one suite; any error is a failed outcome, never a pass.

    Whole-table expectations (row count, uniqueness) are evaluated in DuckDB on the whole relation; the others
    by GX on the frame streamed in chunks of ``chunk_rows`` (default ``CX_QUALITY_CHUNK_ROWS``, 500,000), so
    memory does not grow with the table. ``previous``: this suite's outcome in the run whose file is
    published; for a suite with an increment it lets the row-by-row rules see only the batches recomputed
    since (see :class:`cx_warehouse.quality.suites.Increment`).
    """
    import great_expectations as gx

    from cx_warehouse.quality import whole_relation
    from cx_warehouse.quality.gx_runner import ROW_WISE, validate_chunks

    started = time.perf_counter()
    missing = [r for r in spec.requires if not relation_exists(con, r)]
    gx_result: dict[str, Any] | None = None
    if missing:
        outcome = _failed(
            spec.name, spec.table, run_id, f"missing relation(s): {', '.join(missing)}", started
        )
    else:
        try:
            columns = con.sql(spec.frame_sql).columns  # binds the query (a missing column fails here)
            suite = spec.build(params, list(columns))
            expectations = list(suite.expectations)
            fingerprint = suite_fingerprint(spec, expectations)
            plan = _plan(con, spec, fingerprint, previous)
            whole_columns = set(
                spec.increment.whole_relation_columns if plan.since and spec.increment else ()
            )
            in_sql, in_chunks = [], []
            for e in expectations:
                kind = str(e.expectation_type)
                if kind in whole_relation.TABLE_LEVEL:
                    in_sql.append(e)
                elif kind in SCHEMA_LEVEL:
                    in_chunks.append(e)  # the columns are the same in every chunk, even an empty increment
                elif whole_columns & _expectation_columns(e):
                    if kind not in whole_relation.ROW_LEVEL:
                        on = sorted(whole_columns & _expectation_columns(e))
                        raise whole_relation.UnsupportedExpectation(
                            f"{kind} on {on} must be judged on the whole relation, which SQL cannot do for it"
                        )
                    in_sql.append(e)
                elif kind in ROW_WISE:
                    in_chunks.append(e)
                else:
                    raise whole_relation.UnsupportedExpectation(
                        f"{kind} can be evaluated neither chunk by chunk nor on the whole relation in SQL"
                    )
            rows, sql_outcomes = whole_relation.evaluate(con, spec.frame_sql, in_sql, spec.index_columns)
            by_id = {id(e): o for e, o in zip(in_sql, sql_outcomes, strict=True)}
            extra: list[ExpectationOutcome] = []
            notes = list(plan.notes)
            increment_rows = None
            if in_chunks:
                increment = spec.increment if plan.since else None
                chunked = validate_chunks(
                    con,
                    increment.frame_sql if increment else spec.frame_sql,
                    gx.ExpectationSuite(name=spec.name, expectations=in_chunks),
                    spec.index_columns,
                    chunk_rows=chunk_rows,
                    params={"validated_through": _timestamp(plan.since)} if increment else None,
                )
                by_id.update({id(e): o for e, o in zip(in_chunks, chunked.outcomes, strict=False)})
                extra = chunked.outcomes[len(in_chunks) :]
                gx_result = chunked.gx_result
                if increment:
                    increment_rows = chunked.rows
                    notes.append(f"{chunked.rows} recomputed row(s) validated row by row of {rows}")
            outcomes = [by_id[id(e)] for e in expectations] + extra
            outcome = SuiteOutcome(
                spec.name,
                spec.table,
                bool(outcomes) and all(o.success for o in outcomes),
                run_id,
                rows=rows,
                expectations=outcomes,
                notes=notes + suite_notes(spec, params),
                batch_watermark=plan.watermark,
                suite_fingerprint=fingerprint,
                increment_rows=increment_rows,
            )
        except Exception as exc:  # a suite that cannot run has not passed
            detail = traceback.format_exception_only(exc)[-1].strip()
            outcome = _failed(spec.name, spec.table, run_id, detail, started)
    outcome.duration_s = round(time.perf_counter() - started, 3)
    if report_dir is not None:
        write_outcome(report_dir, outcome, gx_result)
    return outcome


def published_run_id(publish_path: str | os.PathLike[str] | None) -> str | None:
    """The run id recorded in the published file (``meta.publish_info``), None when there is none."""
    if publish_path is None or not Path(publish_path).exists():
        return None
    try:
        with read_only(publish_path) as con:
            if not relation_exists(con, "meta.publish_info"):
                return None
            row = con.execute("select run_id from meta.publish_info limit 1").fetchall()
    except duckdb.Error:
        return None
    return str(row[0][0]) if row and row[0][0] is not None else None


def previous_outcomes(
    publish_path: str | os.PathLike[str] | None, root: Path | None
) -> dict[str, SuiteOutcome]:
    """The stored outcomes of the incremental suites in the run whose file is published (by suite name)."""
    previous_run = published_run_id(publish_path)
    if previous_run is None or root is None:
        return {}
    outcomes = {}
    for spec in SUITES:
        if spec.increment is not None:
            try:
                outcome = load_outcome(root / previous_run, spec.name)
            except (OSError, ValueError, KeyError, TypeError):
                outcome = None
            if outcome is not None:
                outcomes[spec.name] = outcome
    return outcomes


def drift_suite_name(table: str) -> str:
    return f"drift__{table}"


def run_drift(
    con: duckdb.DuckDBPyConnection,
    table: PublishedTable,
    previous_publish_path: str | os.PathLike[str] | None,
    *,
    run_id: str,
    report_dir: Path | None,
    accept_drift: bool = False,
) -> SuiteOutcome:
    """Compare tonight's mart with the previously published table within :mod:`drift`'s documented bounds."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd

    from cx_warehouse.quality.gx_runner import validate_frame

    started = time.perf_counter()
    name = drift_suite_name(table.name)
    gx_result = None
    try:
        schema, _, relation = table.mart.partition(".")
        current = drift.table_stats(con, schema, relation, table.name)
        if current is None:
            raise LookupError(f"{table.mart} does not exist")
        previous = None
        if previous_publish_path is not None and Path(previous_publish_path).exists():
            with read_only(previous_publish_path) as prev:
                previous = drift.table_stats(prev, "main", table.name, table.name)
        bounds = drift.bounds_for(table.name)
        values, notes = drift.compare(current, previous, bounds)
        if not values:
            outcome = SuiteOutcome(name, table.name, True, run_id, rows=1, notes=notes, skipped=True)
        else:
            frame = pd.DataFrame([values])
            suite = gx.ExpectationSuite(
                name=name,
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column=f"{b.metric}_{b.kind}", min_value=b.low, max_value=b.high, notes=b.description
                    )
                    for b in bounds
                    if f"{b.metric}_{b.kind}" in values
                ],
            )
            success, expectations, gx_result = validate_frame(frame, suite)
            for e in expectations:
                metric = (e.column or "").rsplit("_", 1)[0]
                e.observed = {
                    "previous": previous.get(metric) if previous else None,
                    "tonight": current.get(metric),
                }
            if not success and accept_drift:
                notes.append("drift outside bounds ACCEPTED by the run tag cx/accept_drift=true")
                success = True
            outcome = SuiteOutcome(
                name, table.name, success, run_id, rows=1, expectations=expectations, notes=notes
            )
    except Exception as exc:
        outcome = _failed(name, table.name, run_id, traceback.format_exception_only(exc)[-1].strip(), started)
    outcome.duration_s = round(time.perf_counter() - started, 3)
    if report_dir is not None:
        write_outcome(report_dir, outcome, gx_result)
    return outcome


def pii_suite_name(relation_name: str) -> str:
    return f"pii_guard__{relation_name}"


def run_pii_guard(
    con: duckdb.DuckDBPyConnection,
    relation_name: str,
    *,
    run_id: str,
    report_dir: Path | None,
    schema: str = BI_SCHEMA,
) -> SuiteOutcome:
    """No direct personal data in ``schema.relation_name``, by column name and by content."""
    started = time.perf_counter()
    name = pii_suite_name(relation_name)
    try:
        findings = pii.scan_relation(con, schema, relation_name)
        columns = pii.relation_columns(con, schema, relation_name)
        expectations = [
            ExpectationOutcome(
                expectation=f"no_direct_personal_data_by_{f.how.replace('column ', '')}",
                success=False,
                column=f.column,
                kwargs={"rule": f.rule},
                observed=f.describe(),
                unexpected_count=f.rows or None,
                sample=[{"column": f.column, "masked_value": v} for v in f.examples],
            )
            for f in findings
        ]
        if not findings:
            expectations = [
                ExpectationOutcome(
                    "no_direct_personal_data",
                    True,
                    observed=f"{len(columns)} column(s) checked by name and content",
                )
            ]
        outcome = SuiteOutcome(name, relation_name, not findings, run_id, expectations=expectations)
    except Exception as exc:
        outcome = _failed(
            name, relation_name, run_id, traceback.format_exception_only(exc)[-1].strip(), started
        )
    outcome.duration_s = round(time.perf_counter() - started, 3)
    if report_dir is not None:
        write_outcome(report_dir, outcome)
    return outcome


@dataclass
class GateReport:
    run_id: str
    outcomes: list[SuiteOutcome] = field(default_factory=list)
    report_dir: Path | None = None

    @property
    def passed(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[SuiteOutcome]:
        return [o for o in self.outcomes if not o.success]

    def reasons(self) -> list[str]:
        return [o.reason() for o in self.failed]


def audit(
    warehouse_path: str | os.PathLike[str],
    publish_path: str | os.PathLike[str] | None,
    *,
    run_id: str,
    report_root: Path | None = None,
    tables: Sequence[PublishedTable] = PUBLISHED_TABLES,
    reuse: bool = False,
    accept_drift: bool = False,
) -> GateReport:
    """Run the whole gate on the warehouse: every suite of every table, drift, PII guard of every BI relation.

    A contract table whose mart does not exist fails the gate. Results go to ``<report_root>/<run_id>/``
    (default: ``quality/`` beside ``publish_path``); with ``reuse``, results already there are taken as is.
    """
    root = report_root or (quality_root(publish_path) if publish_path is not None else None)
    report_dir = root / run_id if root is not None else None
    report = GateReport(run_id=run_id, report_dir=report_dir)

    def stored(suite: str) -> SuiteOutcome | None:
        return load_outcome(report_dir, suite) if reuse and report_dir is not None else None

    previous = previous_outcomes(publish_path, root)
    with read_only(warehouse_path) as con:
        params: SuiteParams | None = None
        for table in tables:
            if not relation_exists(con, table.mart):
                if table.contract:
                    report.outcomes.append(
                        SuiteOutcome(
                            table.name, table.name, False, run_id, error=f"{table.mart} does not exist"
                        )
                    )
                continue
            for spec in SUITES_BY_TABLE.get(table.name, ()):
                outcome = stored(spec.name)
                if outcome is None:
                    params = params or suite_params(con, run_id=run_id)
                    outcome = run_suite(
                        con,
                        spec,
                        params,
                        run_id=run_id,
                        report_dir=report_dir,
                        previous=previous.get(spec.name),
                    )
                report.outcomes.append(outcome)
            outcome = stored(drift_suite_name(table.name))
            if outcome is None:
                outcome = run_drift(
                    con, table, publish_path, run_id=run_id, report_dir=report_dir, accept_drift=accept_drift
                )
            report.outcomes.append(outcome)
        for relation in pii.list_relations(con, BI_SCHEMA):
            outcome = stored(pii_suite_name(relation))
            if outcome is None:
                outcome = run_pii_guard(con, relation, run_id=run_id, report_dir=report_dir)
            report.outcomes.append(outcome)
    return report
