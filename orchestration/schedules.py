"""The nightly schedule: at 02:00 Europe/Amsterdam load the previous business day and build downstream."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from cx_warehouse.ingest import discover
from orchestration.jobs import nightly_job
from orchestration.partitions import BUSINESS_DATE, contiguous_ranges, partition_key, register_dates
from orchestration.resources import LandingResource

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"


def range_tags(start: str, end: str) -> dict[str, str]:
    """Tags that make one run cover a range of business-date partitions (a single-run backfill)."""
    return {PARTITION_RANGE_START: start, PARTITION_RANGE_END: end}


def dates_to_load(landing: LandingResource, business_day: date, since: datetime) -> set[date]:
    """The previous business day, plus every day with a file delivered since the last tick (late files)."""
    days = {business_day}
    for landed in discover(landing.path).files:
        if datetime.fromtimestamp(landed.path.stat().st_mtime, tz=AMSTERDAM) >= since:
            days.add(landed.business_date)
    return days


@dg.schedule(
    name="nightly_at_two",
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Amsterdam",
    job=nightly_job,
    description="Every night at 02:00 (Amsterdam): load yesterday's extracts and late or re-delivered files, "
    "then build, test and publish.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext, landing: LandingResource) -> list[dg.RunRequest]:
    tick = (context.scheduled_execution_time or datetime.now(tz=AMSTERDAM)).astimezone(AMSTERDAM)
    business_day = tick.date() - timedelta(days=1)
    days = dates_to_load(landing, business_day, since=tick - timedelta(days=1))
    register_dates(context.instance, days)
    ordered = context.instance.get_dynamic_partitions(BUSINESS_DATE.name or "")
    return [
        dg.RunRequest(run_key=f"{tick.date()}:{start}:{end}", tags=range_tags(start, end))
        for start, end in contiguous_ranges(ordered, [partition_key(d) for d in days])
    ]
