"""Business-date partitions shared by every ingest asset.

The extracts are partitioned by the business date a file covers (Europe/Amsterdam). The partition set is
dynamic: dates are registered from what is actually in the landing tree, so a delivery of any year loads,
and a late file for an old day gets (or reuses) its own partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import dagster as dg

BUSINESS_DATE = dg.DynamicPartitionsDefinition(name="business_date")


def partition_key(day: date) -> str:
    return day.isoformat()


def register_dates(instance: dg.DagsterInstance, days: Iterable[date]) -> list[str]:
    """Add the dates that are not partitions yet (chronologically); return the keys that were added."""
    existing = set(instance.get_dynamic_partitions(BUSINESS_DATE.name or ""))
    new = sorted({partition_key(d) for d in days} - existing)
    if new:
        instance.add_dynamic_partitions(BUSINESS_DATE.name or "", new)
    return new


def contiguous_ranges(ordered_keys: Sequence[str], wanted: Iterable[str]) -> list[tuple[str, str]]:
    """Cover ``wanted`` with the fewest (start, end) ranges of consecutive keys in partition order.

    A single-run backfill targets a *range* of the partition set; dates registered late (a day that had no
    file before) sit at the end of the dynamic partition order, so they may need a range of their own.
    """
    wanted_set = set(wanted)
    ranges: list[tuple[str, str]] = []
    start: str | None = None
    previous: str | None = None
    for key in ordered_keys:
        if key in wanted_set:
            start = start or key
            previous = key
        elif start is not None and previous is not None:
            ranges.append((start, previous))
            start = previous = None
    if start is not None and previous is not None:
        ranges.append((start, previous))
    return ranges
