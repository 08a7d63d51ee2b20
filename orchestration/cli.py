"""``cx-nightly``: run the nightly build once, from the command line, into the shared Dagster instance.

It finds the *pending* landing files - new names, or a size or mtime that differs from what the warehouse's
load manifest recorded (``cx_warehouse.ingest.pending``); unchanged files are not even opened - registers
every business date of the landing tree as a partition, and runs the ``nightly_build`` job over the dates
with pending files as one run per contiguous range of partitions (a single-run backfill: the first night's
120 days are one run, a normal night is one day). Earlier ranges (a late file for an old day) run
``ingest_only``; the last one also builds, tests and publishes downstream.

Nothing pending: no run and exit 0, unless the downstream is stale (files were loaded after the last
successful publish) or ``--rebuild`` / ``--full-refresh`` is given; then only the downstream (non-ingest)
assets run. ``--full-refresh`` passes ``--full-refresh`` to ``dbt build``. Runs go to the Dagster instance in
``DAGSTER_HOME`` (``make`` sets ``data/dagster_home``), so they show in the UI of ``make ui``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import settings
from orchestration.nightly import range_tags


def _instance() -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    print("DAGSTER_HOME is not set: using a temporary Dagster instance (runs will not show in the UI).")
    return dg.DagsterInstance.ephemeral()


def print_summary(warehouse: Path, run_ids: list[str]) -> None:
    """Per extract: files, rows in / loaded / rejected by these runs, and rows now in raw and staging."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        placeholders = ", ".join("?" for _ in run_ids)
        rows = con.execute(
            f"""
            select extract, count(*), sum(rows_in), sum(rows_loaded), sum(rows_rejected),
                   count(*) filter (where status in ('rejected', 'malformed'))
            from raw._load_manifest
            where run_id in ({placeholders}) and status <> 'skipped'
            group by extract order by extract
            """,
            run_ids,
        ).fetchall()
        tables = con.execute(
            """select schema_name, table_name, estimated_size from duckdb_tables()
               where schema_name not in ('raw') order by 1, 2"""
        ).fetchall()
    print(f"\n{'extract':<18} {'files':>6} {'rows in':>10} {'loaded':>10} {'rejected':>9} {'bad files':>9}")
    for extract, files, rows_in, loaded, rejected, bad in rows:
        print(f"{extract:<18} {files:>6} {rows_in:>10} {loaded:>10} {rejected:>9} {bad:>9}")
    if not rows:
        print("(no new files: everything in the landing tree was loaded before)")
    print(f"\nWarehouse: {warehouse}")
    by_schema: dict[str, list[str]] = {}
    for schema, table, size in tables:
        by_schema.setdefault(schema, []).append(f"{table} ({size})")
    for schema, names in by_schema.items():
        print(f"  {schema}: {', '.join(names)}")
    print("Rejected rows: raw._rejects; per-file counts: raw._load_manifest.")
    print(f"Published BI marts (audited, read-only for BI tools): {os.environ['CX_PUBLISH_PATH']}")


def _report_failure(result: dg.ExecuteInProcessResult, what: str) -> None:
    print(f"Run {result.run_id} ({what}) FAILED; see `make ui` for the details.")
    for event in result.all_events:
        if event.is_failure:
            print(f"  {event.step_key}: {event.message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cx-nightly", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="when no landing file is new or changed, still build, test and publish everything downstream "
        "of the ingest (e.g. after a dbt change)",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="run `dbt build --full-refresh` (incremental models rebuilt from scratch); implies --rebuild",
    )
    args = parser.parse_args(argv)

    from orchestration.assets.dbt import dbt_run_config
    from orchestration.definitions import defs
    from orchestration.nightly import downstream_keys, pending_night, plan_night

    landing, warehouse = settings.landing_dir(), settings.warehouse_path()
    try:
        pending = pending_night(landing, warehouse)
    except duckdb.IOException as e:
        print(f"The warehouse {warehouse} is in use by another process; try again when it is done ({e}).")
        return 1
    for path, why in pending.unrecognised:
        print(f"warning: not a contract file, not loaded: {path} ({why})")
    files = [*pending, *pending.known]
    if not files:
        print(f"No extract files under {landing} (CX_LANDING_DIR). Generate samples with `cx-generate`.")
        return 2

    instance = _instance()
    plan = plan_night(instance, pending, warehouse)
    print(
        f"Landing: {landing}: {len(files)} files, {len({f.business_date for f in files})} business dates; "
        f"{len(pending)} new or changed file(s) for {len(plan.days)} business date(s) "
        f"({len(pending.known)} unchanged, not read), {len(plan.ranges)} ingest run(s)"
    )

    run_ids: list[str] = []
    started = time.perf_counter()
    nightly = defs.resolve_job_def("nightly_build")
    for i, (start, end) in enumerate(plan.ranges):
        # Earlier ranges (dates registered out of order) only load; the last one also builds downstream.
        last = i == len(plan.ranges) - 1
        job = nightly if last else defs.resolve_job_def("ingest_only")
        print(f"Run {i + 1}/{len(plan.ranges)}: {job.name} over business dates {start}..{end}")
        result = job.execute_in_process(
            run_config=dbt_run_config(job, full_refresh=args.full_refresh),
            instance=instance,
            tags=range_tags(start, end),
            raise_on_error=False,
        )
        run_ids.append(result.run_id)
        if not result.success:
            _report_failure(result, f"{job.name} {start}..{end}")
            return 1
    if not plan.ranges:
        if args.rebuild or args.full_refresh:
            why = "--full-refresh" if args.full_refresh else "--rebuild"
            print(f"Nothing new to load; {why}: building, testing and publishing downstream only.")
        elif plan.downstream_stale:
            print(
                "Nothing new to load, but files were loaded after the last successful publish (a failed or "
                "ingest-only run): building, testing and publishing downstream only."
            )
        else:
            print(
                "Nothing new to load: every landing file is unchanged since it was loaded. No run started "
                "(use --rebuild to build, test and publish anyway)."
            )
            return 0
        keys = downstream_keys(nightly)
        subset = nightly.get_subset(asset_selection=set(keys))
        result = nightly.execute_in_process(
            run_config=dbt_run_config(subset, full_refresh=args.full_refresh),
            instance=instance,
            asset_selection=keys,
            raise_on_error=False,
        )
        run_ids.append(result.run_id)
        if not result.success:
            _report_failure(result, "nightly_build, downstream only")
            return 1
    print(f"Nightly build finished in {time.perf_counter() - started:.1f} s (runs: {', '.join(run_ids)}).")
    print_summary(warehouse, run_ids)
    return 0


if __name__ == "__main__":
    sys.exit(main())
