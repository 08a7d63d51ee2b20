"""The nightly schedule: at 02:00 Europe/Amsterdam load what is new in the landing tree and build downstream.

"What is new" is ``cx_warehouse.ingest.pending_files`` (the same rule as ``cx-nightly``, see
``orchestration/nightly.py``): the business dates with a new or changed file, whenever it was delivered and
whatever its mtime says; unchanged files are not read. A night without new files starts no run (unless the
downstream is stale after a failed run). When the warehouse is locked by a run in progress the tick falls back
to the previous business day plus the days of files modified since the last tick (the ingest asset still
only loads what is pending).
"""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from cx_warehouse.ingest import discover
from orchestration.jobs import nightly_job
from orchestration.nightly import DOWNSTREAM, ingest_ranges, pending_night, plan_night, range_tags
from orchestration.resources import LandingResource, WarehouseResource

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

__all__ = ["dates_delivered_since", "nightly_schedule", "range_tags"]  # range_tags: kept importable here


def dates_delivered_since(landing: Path, business_day: date, since: datetime) -> tuple[set[date], set[date]]:
    """Fallback without the manifest: (every business date in the landing tree, the days to load).

    The days to load are the previous business day plus every day with a file modified since ``since``.
    """
    files = discover(landing).files
    days = {business_day}
    for landed in files:
        if datetime.fromtimestamp(landed.path.stat().st_mtime, tz=AMSTERDAM) >= since:
            days.add(landed.business_date)
    return {f.business_date for f in files}, days


@dg.schedule(
    name="nightly_at_two",
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Amsterdam",
    job=nightly_job,
    description="Every night at 02:00 (Amsterdam): load new, late and re-delivered extract files (unchanged "
    "files are not read), then build, test and publish. No new files: no run.",
)
def nightly_schedule(
    context: dg.ScheduleEvaluationContext, landing: LandingResource, warehouse: WarehouseResource
) -> list[dg.RunRequest] | dg.SkipReason:
    tick = (context.scheduled_execution_time or datetime.now(tz=AMSTERDAM)).astimezone(AMSTERDAM)
    try:
        pending = pending_night(landing.path, Path(warehouse.path))
        plan = plan_night(context.instance, pending, Path(warehouse.path))
        ranges, stale = plan.ranges, plan.downstream_stale
    except duckdb.IOException as e:  # another process (a run) holds the warehouse's write lock
        context.log.warning(f"warehouse not readable ({e}); falling back to file modification times")
        all_days, days = dates_delivered_since(
            landing.path, tick.date() - timedelta(days=1), since=tick - timedelta(days=1)
        )
        ranges, stale = ingest_ranges(context.instance, all_days, days), False
    if ranges:
        return [
            dg.RunRequest(run_key=f"{tick.date()}:{start}:{end}", tags=range_tags(start, end))
            for start, end in ranges
        ]
    if stale:
        keys = sorted(DOWNSTREAM.resolve(context.repository_def.asset_graph))
        return [dg.RunRequest(run_key=f"{tick.date()}:downstream", asset_selection=keys)]
    return dg.SkipReason(f"no new or changed files under {landing.path}")
