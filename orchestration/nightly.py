"""What a night has to do, shared by ``cx-nightly`` and the ``nightly_at_two`` schedule.

- **Ingest** only the business dates that have *pending* landing files (``cx_warehouse.ingest.pending``: new
  names, changed size or mtime; unchanged files are not read), as the fewest contiguous partition ranges.
  ``cx-nightly`` runs the last range as ``nightly_build`` (ingest + everything downstream) and earlier ones
  (a late file for an old day) as ``ingest_only``; the schedule requests a ``nightly_build`` per range.
- **Nothing pending**: no run, unless the downstream is *stale* (files were loaded after the last successful
  publish: a run that failed after loading, or an ``ingest_only`` materialization from the UI) or a rebuild
  is asked for; then ``nightly_build`` runs its downstream (non-ingest) assets only.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb

from cx_warehouse.ingest import Pending, pending_files, warehouse_manifest_state
from cx_warehouse.ingest.spec import MANIFEST_TABLE
from orchestration.assets.ingest import RAW_GROUP
from orchestration.assets.publish import PUBLISHED_MARTS
from orchestration.partitions import BUSINESS_DATE, contiguous_ranges, partition_key, register_dates

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"
DOWNSTREAM = dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP)


def range_tags(start: str, end: str) -> dict[str, str]:
    """Tags that make one run cover a range of business-date partitions (a single-run backfill)."""
    return {PARTITION_RANGE_START: start, PARTITION_RANGE_END: end}


@dataclass
class NightPlan:
    """The pending files, the partition ranges to ingest (in run order) and whether downstream is stale."""

    pending: Pending
    ranges: list[tuple[str, str]] = field(default_factory=list)
    downstream_stale: bool = False

    @property
    def days(self) -> list[date]:
        return self.pending.dates


def last_load(warehouse: Path) -> datetime | None:
    """When the loader last wrote a manifest row (UTC), or None for an empty warehouse."""
    if not Path(warehouse).exists():
        return None
    schema, table = MANIFEST_TABLE.split(".")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = con.execute(f"select max(loaded_at) from {MANIFEST_TABLE}").fetchone()
    return row[0].replace(tzinfo=UTC) if row and row[0] is not None else None


def last_publish(instance: dg.DagsterInstance) -> datetime | None:
    """When ``published_marts`` last materialized (a successful, audited downstream build), if ever."""
    event = instance.get_latest_materialization_event(PUBLISHED_MARTS)
    return datetime.fromtimestamp(event.timestamp, tz=UTC) if event is not None else None


def downstream_stale(instance: dg.DagsterInstance, warehouse: Path) -> bool:
    """True when files were loaded after the last publish (or something was loaded and never published)."""
    loaded = last_load(warehouse)
    if loaded is None:
        return False
    published = last_publish(instance)
    return published is None or loaded > published


def ingest_ranges(
    instance: dg.DagsterInstance, all_days: Iterable[date], days: Iterable[date]
) -> list[tuple[str, str]]:
    """Register ``all_days`` as partitions; the fewest contiguous partition ranges covering ``days``."""
    register_dates(instance, all_days)
    ordered = instance.get_dynamic_partitions(BUSINESS_DATE.name or "")
    return contiguous_ranges(ordered, [partition_key(d) for d in days])


def plan_night(instance: dg.DagsterInstance, pending: Pending, warehouse: Path) -> NightPlan:
    """Register the landing tree's dates and plan the runs for ``pending`` (see ``pending_night``)."""
    all_days = {f.business_date for f in [*pending, *pending.known]}
    ranges = ingest_ranges(instance, all_days, pending.dates)
    stale = not ranges and downstream_stale(instance, warehouse)
    return NightPlan(pending, ranges, stale)


def pending_night(landing: Path, warehouse: Path) -> Pending:
    """The pending landing files: reads no landing file, opens the warehouse read-only (if it exists).

    Raises ``duckdb.IOException`` when another process is writing the warehouse.
    """
    return pending_files(warehouse_manifest_state(warehouse), landing)


def downstream_keys(job: dg.JobDefinition) -> list[dg.AssetKey]:
    """The job's assets outside the ingest group: what a rebuild without new files runs."""
    return sorted(DOWNSTREAM.resolve(job.asset_layer.asset_graph))
