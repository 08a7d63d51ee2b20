"""``cx-nightly``: run the nightly build once, from the command line, into the shared Dagster instance.

It registers every business date found in the landing tree as a partition, then runs the ``nightly_build``
job over those dates as one run (a single-run backfill), so 120 days of history is one run, not 120. Runs go
to the Dagster instance in ``DAGSTER_HOME`` (``make`` sets ``data/dagster_home``), so they show in the UI of
``make ui``. Already-loaded files are skipped by checksum, so running it again only builds downstream.
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
from orchestration.partitions import BUSINESS_DATE, contiguous_ranges, partition_key, register_dates
from orchestration.schedules import range_tags


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cx-nightly", description=__doc__.splitlines()[0])
    parser.parse_args(argv)

    from cx_warehouse.ingest import discover
    from orchestration.definitions import defs

    landing = settings.landing_dir()
    found = discover(landing)
    for path, why in found.unrecognised:
        print(f"warning: not a contract file, not loaded: {path} ({why})")
    if not found.files:
        print(f"No extract files under {landing} (CX_LANDING_DIR). Generate samples with `cx-generate`.")
        return 2

    instance = _instance()
    days = {f.business_date for f in found.files}
    register_dates(instance, days)
    ordered = instance.get_dynamic_partitions(BUSINESS_DATE.name or "")
    ranges = contiguous_ranges(ordered, [partition_key(d) for d in days])
    print(f"Landing: {landing}: {len(found.files)} files, {len(days)} business dates, {len(ranges)} run(s)")

    run_ids: list[str] = []
    started = time.perf_counter()
    for i, (start, end) in enumerate(ranges):
        # Earlier ranges (dates registered out of order) only load; the last one also builds downstream.
        job_name = "nightly_build" if i == len(ranges) - 1 else "ingest_only"
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance, tags=range_tags(start, end), raise_on_error=False
        )
        run_ids.append(result.run_id)
        if not result.success:
            print(f"Run {result.run_id} ({job_name} {start}..{end}) FAILED; see `make ui` for the details.")
            for event in result.all_events:
                if event.is_failure:
                    print(f"  {event.step_key}: {event.message}")
            return 1
    print(f"Nightly build finished in {time.perf_counter() - started:.1f} s (runs: {', '.join(run_ids)}).")
    print_summary(settings.warehouse_path(), run_ids)
    return 0


if __name__ == "__main__":
    sys.exit(main())
