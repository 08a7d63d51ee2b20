"""Run a Great Expectations (1.x) suite on a pandas DataFrame read from DuckDB.

Why pandas and not GX's SQL datasource: through duckdb-engine the SQL datasource returns empty results on
DuckDB (GX issues #10738, #11579), which makes every expectation pass on nothing. So each suite's rows are
read with DuckDB (``con.sql(...).df()``) and validated with GX's pandas datasource in an ephemeral, in-memory
context; ``tests/unit/test_quality_suites.py`` proves that planted violations make each suite fail.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from cx_warehouse.quality.results import ExpectationOutcome, jsonable

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd

SAMPLE_ROWS = 10  # sample bad rows kept per failing expectation

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


def validate_frame(
    frame: pd.DataFrame, suite: gx.ExpectationSuite, index_columns: tuple[str, ...] = ()
) -> tuple[bool, list[ExpectationOutcome], dict[str, Any]]:
    """Validate ``frame`` against ``suite``: (success, one outcome per expectation, GX's raw result JSON)."""
    batch = _batch_def().get_batch(batch_parameters={"dataframe": frame})
    index = [c for c in index_columns if c in frame.columns]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS}
    if index:
        result_format["unexpected_index_column_names"] = index
    result = batch.validate(suite, result_format=result_format)
    outcomes = [_outcome(r) for r in result.results]
    # A suite with no expectations, or one whose expectations all raised, must never count as a pass.
    success = bool(result.success) and bool(outcomes) and all(o.success for o in outcomes)
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
