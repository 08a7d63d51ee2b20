"""Run a Great Expectations (1.x) suite on pandas DataFrames read from DuckDB, chunk by chunk.

Why pandas and not GX's SQL datasource: through duckdb-engine the SQL datasource returns empty results on
DuckDB (GX issues #10738, #11579), which makes every expectation pass on nothing. So each suite's rows are
read with DuckDB and validated with GX's pandas datasource in an ephemeral, in-memory context;
``tests/unit/test_quality_suites.py`` proves that planted violations make each suite fail.

Memory is bounded: :func:`validate_chunks` streams the suite's query as Arrow record batches of at most
``CX_QUALITY_CHUNK_ROWS`` rows (default :data:`DEFAULT_CHUNK_ROWS`), converts each to pandas with DuckDB (the
same dtypes ``.df()`` gives) and validates it, then merges the per-chunk outcomes: an expectation fails if
it fails in any chunk, unexpected counts add up, ``mostly`` is judged on the sums, and the first bad rows are
kept as the sample. Only row-by-row expectations (:data:`ROW_WISE`) may be validated this way; those about the
table as a whole (row count, uniqueness) are evaluated on the whole relation in SQL
(:mod:`cx_warehouse.quality.whole_relation`), and any other type fails the suite instead of passing per chunk.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cx_warehouse.quality.results import ExpectationOutcome, jsonable, mostly_ok

if TYPE_CHECKING:
    import duckdb
    import great_expectations as gx
    import pandas as pd

SAMPLE_ROWS = 10  # sample bad rows kept per failing expectation
CHUNK_ROWS_ENV = "CX_QUALITY_CHUNK_ROWS"
DEFAULT_CHUNK_ROWS = 500_000  # ~100-300 MB of pandas per chunk for the widest suite frames
FAILING_CHUNK_RESULTS = 3  # raw GX results kept (of the first failing chunks) in the suite's JSON

# Expectations judged row by row (or on the frame's columns, the same in every chunk): a table passes iff
# every chunk does. Anything else (uniqueness, row count, aggregates such as a mean) is never run per chunk.
ROW_WISE: frozenset[str] = frozenset(
    {
        "expect_column_to_exist",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_values_to_be_of_type",
        "expect_column_values_to_be_in_type_list",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_to_be_in_set",
        "expect_multicolumn_sum_to_equal",
        "expect_select_column_values_to_be_unique_within_record",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
    }
)

_lock = threading.Lock()
_batch_definition: Any = None


def _batch_def() -> Any:
    """One ephemeral GX context per process (GX is slow to import: only when a suite runs)."""
    global _batch_definition
    with _lock:
        if _batch_definition is None:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
            )
            context = gx.get_context(project_config=config, mode="ephemeral")
            asset = context.data_sources.add_pandas("cx_warehouse").add_dataframe_asset("frame")
            _batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        return _batch_definition


def _run_gx(
    frame: pd.DataFrame, suite: gx.ExpectationSuite, index_columns: tuple[str, ...]
) -> tuple[bool, list[ExpectationOutcome], Any]:
    """GX on one frame: (success, one outcome per expectation, GX's validation result)."""
    batch = _batch_def().get_batch(batch_parameters={"dataframe": frame})
    index = [c for c in index_columns if c in frame.columns]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}
    if index:
        result_format["unexpected_index_column_names"] = index
    result = batch.validate(suite, result_format=result_format)
    outcomes = [_outcome(r) for r in result.results]
    # A suite with no expectations, or one whose expectations all raised, must never count as a pass.
    success = bool(result.success) and bool(outcomes) and all(o.success for o in outcomes)
    return success, outcomes, result


def validate_frame(
    frame: pd.DataFrame, suite: gx.ExpectationSuite, index_columns: tuple[str, ...] = ()
) -> tuple[bool, list[ExpectationOutcome], dict[str, Any]]:
    """Validate ``frame`` against ``suite``: (success, one outcome per expectation, GX's raw result JSON)."""
    success, outcomes, result = _run_gx(frame, suite, index_columns)
    return success, outcomes, jsonable(result.to_json_dict())


def _outcome(r: Any) -> ExpectationOutcome:
    config = r.expectation_config
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    res: dict[str, Any] = dict(r.result or {})
    exception = r.exception_info or {}
    error = None
    if isinstance(exception, dict) and exception.get("raised_exception"):
        error = str(exception.get("exception_message") or "expectation raised an exception")
    elif isinstance(exception, dict):  # {expectation id: {...}} when several metrics failed
        for info in exception.values():
            if isinstance(info, dict) and info.get("raised_exception"):
                error = str(info.get("exception_message") or "expectation raised an exception")
    sample = res.get("partial_unexpected_index_list") or [
        {"value": v} for v in res.get("partial_unexpected_list") or []
    ]
    return ExpectationOutcome(
        expectation=str(config.type),
        success=bool(r.success) and error is None,
        column=kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None),
        kwargs=jsonable(kwargs),
        observed=jsonable(res.get("observed_value")),
        unexpected_count=res.get("unexpected_count"),
        unexpected_percent=res.get("unexpected_percent"),
        sample=jsonable(list(sample)[:SAMPLE_ROWS]) if not r.success else [],
        error=error,
    )


def chunk_rows_setting() -> int:
    """Rows per validated chunk: ``CX_QUALITY_CHUNK_ROWS`` or :data:`DEFAULT_CHUNK_ROWS`."""
    value = os.environ.get(CHUNK_ROWS_ENV, "").strip()
    rows = int(value) if value else DEFAULT_CHUNK_ROWS
    if rows < 1:
        raise ValueError(f"{CHUNK_ROWS_ENV} must be a positive number of rows, got {value!r}")
    return rows


def _key(expectation_type: str, kwargs: dict[str, Any]) -> str:
    import json

    clean = {k: v for k, v in kwargs.items() if k != "batch_id"}
    return expectation_type + json.dumps(jsonable(clean), sort_keys=True)


@dataclass
class _Merged:
    """One expectation's outcome over the chunks seen so far."""

    outcome: ExpectationOutcome | None = None
    counted: int = 0  # values the expectation judged (element_count - missing_count), summed
    unexpected: int = 0
    has_counts: bool = False
    chunk_failed: bool = False


@dataclass
class ChunkedResult:
    success: bool
    outcomes: list[ExpectationOutcome]  # one per expectation, in the suite's order
    rows: int
    chunks: int
    gx_result: dict[str, Any] = field(default_factory=dict)


def validate_chunks(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    suite: gx.ExpectationSuite,
    index_columns: tuple[str, ...] = (),
    *,
    chunk_rows: int | None = None,
    params: dict[str, Any] | None = None,
) -> ChunkedResult:
    """Validate every row of ``sql`` against ``suite`` (row-by-row expectations only), a chunk at a time.

    The query runs once, streamed on a cursor of ``con``; at most one chunk is in pandas at a time. A query
    with no rows is validated as one empty frame (so that e.g. a missing column still fails).
    """
    import pyarrow as pa

    for expectation in suite.expectations:
        if str(expectation.expectation_type) not in ROW_WISE:
            raise ValueError(
                f"{expectation.expectation_type} is not a row-by-row expectation: it cannot be validated "
                "chunk by chunk (evaluate it on the whole relation)"
            )
    size = chunk_rows or chunk_rows_setting()
    order = [_key(str(e.expectation_type), dict(e.configuration.kwargs)) for e in suite.expectations]
    merged: dict[str, _Merged] = {key: _Merged() for key in order}
    failing_results: list[dict[str, Any]] = []
    rows = chunks = 0
    stream = con.cursor()
    try:
        reader = stream.sql(sql, params=params or None).to_arrow_reader(size)
        batches = iter(reader)
        while True:
            batch = next(batches, None)
            if batch is None and chunks:
                break
            table = pa.Table.from_batches([batch]) if batch is not None else reader.schema.empty_table()
            frame = con.from_arrow(table).df()  # DuckDB's own pandas conversion: the dtypes .df() gives
            del table
            success, outcomes, raw, counts = _validate(frame, suite, index_columns)
            rows += len(frame)
            chunks += 1
            del frame
            if not success and len(failing_results) < FAILING_CHUNK_RESULTS:
                failing_results.append({"chunk": chunks, "result": raw})
            for outcome, (key, counted, has_counts) in zip(outcomes, counts, strict=True):
                _merge(merged.setdefault(key, _Merged()), outcome, counted, has_counts)
            if batch is None:
                break
    finally:
        stream.close()
    results = [_final(merged[key], chunks, size) for key in order]
    extra = [_final(m, chunks, size) for key, m in merged.items() if key not in order]
    outcomes = results + extra  # (an expectation GX reported that the suite does not list: kept, never lost)
    success = bool(outcomes) and all(o.success for o in outcomes)
    gx_result = {
        "success": success,
        "rows": rows,
        "chunks": chunks,
        "chunk_rows": size,
        "failing_chunk_results": failing_results,
    }
    return ChunkedResult(success, outcomes, rows, chunks, gx_result)


def _validate(
    frame: pd.DataFrame, suite: gx.ExpectationSuite, index_columns: tuple[str, ...]
) -> tuple[bool, list[ExpectationOutcome], dict[str, Any], list[tuple[str, int, bool]]]:
    """One chunk: success, outcomes, raw result and per outcome (merge key, values judged, has counts)."""
    success, outcomes, result = _run_gx(frame, suite, index_columns)
    counts = []
    for r in result.results:
        config = r.expectation_config
        res: dict[str, Any] = dict(r.result or {})
        element, missing = res.get("element_count"), res.get("missing_count") or 0
        counted = int(element) - int(missing) if element is not None else 0
        counts.append((_key(str(config.type), dict(config.kwargs)), counted, element is not None))
    return success, outcomes, jsonable(result.to_json_dict()), counts


def _merge(into: _Merged, outcome: ExpectationOutcome, counted: int, has_counts: bool) -> None:
    if into.outcome is None:
        into.outcome = ExpectationOutcome(
            outcome.expectation, True, column=outcome.column, kwargs=outcome.kwargs, observed=outcome.observed
        )
    target = into.outcome
    if outcome.error and not target.error:
        target.error = outcome.error
    if not outcome.success:
        into.chunk_failed = True
        if outcome.observed is not None:
            target.observed = outcome.observed  # what a failing chunk saw (e.g. the type it found)
    if has_counts:
        into.has_counts = True
        into.counted += counted
        into.unexpected += int(outcome.unexpected_count or 0)
    room = SAMPLE_ROWS - len(target.sample)
    if room > 0 and outcome.sample:
        target.sample.extend(outcome.sample[:room])


def _final(merged: _Merged, chunks: int, size: int) -> ExpectationOutcome:
    outcome = merged.outcome
    assert outcome is not None
    mostly = outcome.kwargs.get("mostly")
    if merged.has_counts:
        outcome.unexpected_count = merged.unexpected
        outcome.unexpected_percent = 100.0 * merged.unexpected / merged.counted if merged.counted else None
    if outcome.error:
        success = False
    elif merged.has_counts and isinstance(mostly, int | float) and mostly < 1:
        # mostly is about the whole table: judged on the summed counts, not chunk by chunk
        success = mostly_ok(merged.unexpected, merged.counted, mostly)
    else:
        success = not merged.chunk_failed
    outcome.success = success
    if success:
        outcome.sample = []
    outcome.evaluated_on = f"gx: {chunks} chunk(s) of <= {size} rows"
    return outcome
