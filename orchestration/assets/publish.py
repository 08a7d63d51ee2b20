"""``published_marts``: the last asset of the night, copying the audited BI views into the published file.

It depends on every gated mart and every BI view, so Dagster runs it only after their blocking checks passed
in this run (see orchestration/checks/quality.py). It then re-reads the gate from this run's stored results
(running any suite that did not run in this run, e.g. when the asset is materialised on its own) and calls
:func:`cx_warehouse.publish.publish`, which writes a new file and atomically replaces the old one. A failed
gate or a missing contract table raises ``dg.Failure`` with the reasons; the published file is then unchanged.

Its materialisation metadata is the run's summary: rows per published table, checks passed / failed in the
run, what was published, where, and the file's checksum.
"""

from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from cx_warehouse.publish import PublishBlocked, file_sha256, publish
from cx_warehouse.quality import gate
from cx_warehouse.quality.report import quality_root
from orchestration.checks.quality import (
    accepts_drift,
    bi_asset_keys,
    gated_mart_keys,
    publish_path,
    report_dir,
)
from orchestration.resources import WarehouseResource

PUBLISH_GROUP = "publish"
PUBLISHED_MARTS = dg.AssetKey(["published_marts"])


def _run_check_summary(context: dg.AssetExecutionContext) -> tuple[int, int, list[str]]:
    """(passed, failed, failed check names) of every asset check evaluated in this run (GX, PII, dbt...)."""
    entries = context.instance.all_logs(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    )
    passed, failed, names = 0, 0, []
    for entry in entries:
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if evaluation is None:
            continue
        if evaluation.passed:
            passed += 1
        else:
            failed += 1
            names.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return passed, failed, names


def build_publish_asset(available: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publish asset, downstream of the gated marts and BI views that exist in the code location."""
    keys = set(available)
    deps = [*gated_mart_keys(keys), *bi_asset_keys(keys)]

    @dg.asset(
        key=PUBLISHED_MARTS,
        group_name=PUBLISH_GROUP,
        deps=deps,
        kinds={"duckdb", "python"},
        description="The audited BI marts in the published DuckDB file (CX_PUBLISH_PATH, default "
        "data/marts.duckdb), replaced atomically and only when every blocking check passed.",
    )
    def published_marts(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        target = publish_path()
        audit = gate.audit(
            warehouse.path,
            target,
            run_id=context.run.run_id,
            report_root=quality_root(target),
            reuse=True,
            accept_drift=accepts_drift(context.run.tags),
        )
        index = report_dir(context.run.run_id) / "index.html"
        try:
            result = publish(warehouse.path, target, run_id=context.run.run_id, gate=audit)
        except PublishBlocked as blocked:
            context.log.error(str(blocked))
            raise dg.Failure(
                description=str(blocked),
                metadata={
                    "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in blocked.reasons)),
                    "published_file": dg.MetadataValue.path(str(target)),
                    "published_file_unchanged_sha256": dg.MetadataValue.text(
                        file_sha256(target) if Path(target).exists() else "(no published file yet)"
                    ),
                    "quality_report": dg.MetadataValue.path(str(index)),
                },
            ) from blocked
        passed, failed, failed_names = _run_check_summary(context)
        rows_md = "\n".join(
            [
                "| table | rows |",
                "|---|---|",
                *(f"| {name} | {rows} |" for name, rows in result.tables.items()),
            ]
        )
        suites = audit.outcomes
        metadata: dict[str, dg.MetadataValue] = {
            "published_file": dg.MetadataValue.path(str(result.path)),
            "sha256": dg.MetadataValue.text(result.sha256),
            "previous_sha256": dg.MetadataValue.text(result.previous_sha256 or "(first publish)"),
            "size_bytes": dg.MetadataValue.int(result.size_bytes),
            "published_at": dg.MetadataValue.text(result.published_at),
            "published_tables": dg.MetadataValue.json(sorted(result.tables)),
            "rows_per_table": dg.MetadataValue.md(rows_md),
            "rows_total": dg.MetadataValue.int(sum(result.tables.values())),
            "checks_passed_in_run": dg.MetadataValue.int(passed),
            "checks_failed_in_run": dg.MetadataValue.int(failed),
            "failed_non_blocking_checks": dg.MetadataValue.json(failed_names),
            "gate_suites_passed": dg.MetadataValue.int(sum(o.success for o in suites)),
            "gate_notes": dg.MetadataValue.json([f"{o.suite}: {n}" for o in suites for n in o.notes]),
            "quality_report": dg.MetadataValue.path(str(index)),
            "publish_duration_s": dg.MetadataValue.float(result.duration_s),
        }
        for name, rows in result.tables.items():
            metadata[f"rows/{name}"] = dg.MetadataValue.int(rows)
        context.log.info(
            f"published {len(result.tables)} table(s) to {result.path} (sha256 {result.sha256[:12]})"
        )
        return dg.MaterializeResult(metadata=metadata)

    return published_marts
