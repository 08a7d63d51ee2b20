"""Blocking asset checks that gate the publish: the GX suites, drift and the PII guard.

One ``@multi_asset_check`` (one step) holds a check per GX suite and a ``drift_vs_published`` check on each
published mart's asset (e.g. ``marts/customer_propensity``) and a ``pii_guard`` check on every BI view
(``bi/<table>``). Every spec is ``blocking=True``: when one fails (severity ERROR) the step fails, and Dagster
does not start any asset that depends directly on the checked asset in the same run. ``published_marts``
depends on every checked mart and BI view, so a failed gate skips the publish and fails the run, with the
failing checks named in the failure.
The dbt tests are asset checks too (dagster-dbt); those with severity ``error`` are blocking and fail the dbt
step, which skips everything downstream of it.

Each result carries the failing expectations, sample bad rows and the path of the run's HTML report
(``data/quality/<run_id>/index.html``). Checks are only built for assets that exist in the code location,
so a mart that has not landed yet simply has no check (and the publish fails on the missing contract table).
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from cx_warehouse.publish.registry import BI_SCHEMA, PUBLISHED_TABLES, PublishedTable
from cx_warehouse.quality import gate
from cx_warehouse.quality.report import quality_root
from cx_warehouse.quality.results import SuiteOutcome
from cx_warehouse.quality.suites import SUITES_BY_TABLE
from orchestration.resources import WarehouseResource

DRIFT_CHECK = "drift_vs_published"
PII_CHECK = "pii_guard"
ACCEPT_DRIFT_TAG = "cx/accept_drift"  # an operator's "the drift is expected" for one run


def publish_path() -> Path:
    """The published file (``CX_PUBLISH_PATH``; orchestration.settings fills in the default)."""
    return Path(os.environ.get("CX_PUBLISH_PATH") or "data/marts.duckdb")


def report_dir(run_id: str) -> Path:
    return quality_root(publish_path()) / run_id


def accepts_drift(tags: dict[str, str]) -> bool:
    return str(tags.get(ACCEPT_DRIFT_TAG, "")).lower() in {"1", "true", "yes"}


def _md_escape(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")[:120]


def outcome_metadata(outcome: SuiteOutcome) -> dict[str, dg.MetadataValue]:
    """What a person needs in the UI: which expectations failed, sample bad rows, the full report."""
    failed = outcome.failed
    lines = ["| expectation | column | arguments | unexpected / observed |", "|---|---|---|---|"]
    for e in failed:
        args = {k: v for k, v in e.kwargs.items() if k not in {"column", "column_list"}}
        seen = e.error or (e.unexpected_count if e.unexpected_count is not None else e.observed)
        lines.append(
            f"| {e.expectation} | {_md_escape(e.column or '')} | {_md_escape(args)} | {_md_escape(seen)} |"
        )
    samples: list[dict[str, Any]] = []
    for e in failed:
        samples += [{"expectation": e.expectation, **row} for row in e.sample[:5]]
    columns = list(dict.fromkeys(k for row in samples for k in row))
    sample_md = "none"
    if samples:
        sample_md = "\n".join(
            [
                "| " + " | ".join(columns) + " |",
                "|" + "---|" * len(columns),
                *(
                    "| " + " | ".join(_md_escape(row.get(c, "")) for c in columns) + " |"
                    for row in samples[:20]
                ),
            ]
        )
    metadata: dict[str, dg.MetadataValue] = {
        "suite": dg.MetadataValue.text(outcome.suite),
        "expectations": dg.MetadataValue.int(len(outcome.expectations)),
        "failed_expectations": dg.MetadataValue.int(len(failed)),
        "failing_expectations": dg.MetadataValue.md("\n".join(lines) if failed else "none"),
        "sample_bad_rows": dg.MetadataValue.md(sample_md),
        "duration_s": dg.MetadataValue.float(float(outcome.duration_s)),
    }
    if outcome.rows is not None:
        metadata["rows_validated"] = dg.MetadataValue.int(int(outcome.rows))
    if outcome.increment_rows is not None:  # row-by-row rules saw only the batches since the last publish
        metadata["rows_validated_row_by_row"] = dg.MetadataValue.int(int(outcome.increment_rows))
    if outcome.notes:
        metadata["notes"] = dg.MetadataValue.text("; ".join(outcome.notes))
    if outcome.error:
        metadata["error"] = dg.MetadataValue.text(outcome.error)
    if outcome.result_path:
        metadata["result_json"] = dg.MetadataValue.path(outcome.result_path)
        metadata["report"] = dg.MetadataValue.path(str(Path(outcome.result_path).parent / "index.html"))
    return metadata


def _result(key: dg.AssetKey, check_name: str, outcome: SuiteOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check_name,
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=outcome_metadata(outcome),
        description=outcome.reason()[:1000],
    )


def suite_check_name(suite: str) -> str:
    return f"gx_{suite}"


def _table_specs(
    table: PublishedTable, key: dg.AssetKey, available: set[dg.AssetKey]
) -> list[dg.AssetCheckSpec]:
    specs = []
    for spec in SUITES_BY_TABLE.get(table.name, ()):
        extra = [dg.AssetKey(r.split(".")) for r in spec.requires if r != table.mart]
        specs.append(
            dg.AssetCheckSpec(
                suite_check_name(spec.name),
                asset=key,
                blocking=True,
                description=f"Great Expectations suite `{spec.name}`: {spec.description}",
                additional_deps=[k for k in extra if k in available],
            )
        )
    specs.append(
        dg.AssetCheckSpec(
            DRIFT_CHECK,
            asset=key,
            blocking=True,
            description="Row count (and mean propensity / NPS where they apply) within the documented bounds "
            "of the previous published run (cx_warehouse/quality/drift.py).",
        )
    )
    return specs


def _pii_spec(key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        PII_CHECK,
        asset=key,
        blocking=True,
        description="No direct personal data in this BI view: column names (name, e-mail, phone, birth date, "
        "postcode, address, comment, raw ids) and every text value (e-mail, phone, full postcode).",
    )


def bi_asset_keys(available: Iterable[dg.AssetKey]) -> list[dg.AssetKey]:
    """The BI views' assets: ``bi/<table>`` (dbt models in models/bi, keyed by their alias)."""
    return sorted((k for k in available if len(k.path) == 2 and k.path[0] == BI_SCHEMA), key=lambda k: k.path)


def gated_mart_keys(available: Iterable[dg.AssetKey]) -> list[dg.AssetKey]:
    keys = set(available)
    return [dg.AssetKey(t.mart_asset_key) for t in PUBLISHED_TABLES if dg.AssetKey(t.mart_asset_key) in keys]


def build_quality_checks(available: Iterable[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """The gate's checks for the assets that exist in the code location (``available``).

    One ``@multi_asset_check`` (one step: GX is imported once and Dagster's per-step overhead paid once) with
    a separate, blocking check spec per suite, drift comparison and PII guard, each on its own asset.
    """
    keys = set(available)
    tables = [
        (t, dg.AssetKey(t.mart_asset_key)) for t in PUBLISHED_TABLES if dg.AssetKey(t.mart_asset_key) in keys
    ]
    bi_keys = bi_asset_keys(keys)
    specs = [spec for table, key in tables for spec in _table_specs(table, key, keys)]
    specs += [_pii_spec(key) for key in bi_keys]
    if not specs:
        return []

    @dg.multi_asset_check(
        name="quality_gate",
        specs=specs,
        can_subset=True,
        description="The publish gate: GX suites and drift of every published mart, PII guard of every BI "
        "view. Every check is blocking; the report of the run is data/quality/<run_id>/index.html.",
    )
    def quality_gate(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = set(context.selected_asset_check_keys)
        run_id = context.run.run_id
        directory = report_dir(run_id)
        # Where the suites with an increment start from: their outcomes in the run whose file is published.
        previous = gate.previous_outcomes(publish_path(), quality_root(publish_path()))
        with gate.read_only(warehouse.path) as con:
            params = gate.suite_params(con, run_id=run_id)
            for table, key in tables:
                for spec in SUITES_BY_TABLE.get(table.name, ()):
                    name = suite_check_name(spec.name)
                    if dg.AssetCheckKey(key, name) in selected:
                        outcome = gate.run_suite(
                            con,
                            spec,
                            params,
                            run_id=run_id,
                            report_dir=directory,
                            previous=previous.get(spec.name),
                        )
                        context.log.info(outcome.reason())
                        yield _result(key, name, outcome)
                if dg.AssetCheckKey(key, DRIFT_CHECK) in selected:
                    outcome = gate.run_drift(
                        con,
                        table,
                        publish_path(),
                        run_id=run_id,
                        report_dir=directory,
                        accept_drift=accepts_drift(context.run.tags),
                    )
                    context.log.info(outcome.reason())
                    yield _result(key, DRIFT_CHECK, outcome)
            for key in bi_keys:
                if dg.AssetCheckKey(key, PII_CHECK) in selected:
                    outcome = gate.run_pii_guard(con, key.path[-1], run_id=run_id, report_dir=directory)
                    context.log.info(outcome.reason())
                    yield _result(key, PII_CHECK, outcome)

    return [quality_gate]
