"""The ``nightly_at_two`` schedule and the night plan: runs only for the dates with pending files.

Real landing files, a real DuckDB warehouse file and a test Dagster instance; the schedule function is
evaluated directly (no daemon). Loads go through the loader, not a run (fast).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cx_warehouse.ingest import load_files, pending_files
from orchestration.assets.publish import PUBLISHED_MARTS
from orchestration.nightly import downstream_stale, pending_night, plan_night
from orchestration.resources import LandingResource, WarehouseResource
from orchestration.schedules import AMSTERDAM, nightly_schedule

STORE_HEADER = "store_id,store_name,city,province,opened_on"
TICK = datetime(2026, 1, 9, 2, 0, tzinfo=AMSTERDAM)


def write_stores(landing: Path, name: str, *ids: str) -> Path:
    path = landing / "stores" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STORE_HEADER + "\n" + "".join(f"{i},W {i},Utrecht,Utrecht,2020-01-01\n" for i in ids))
    return path


@pytest.fixture
def setup(tmp_path: Path, dbt_manifest: Path):
    from orchestration.definitions import defs

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    for day in (5, 6, 7, 8):
        write_stores(landing, f"stores_202601{day:02d}.csv", "S1", "S2")
    with dg.instance_for_test() as instance:
        yield instance, landing, warehouse, defs


def evaluate(instance: dg.DagsterInstance, landing: Path, warehouse: Path, defs: dg.Definitions):
    # As a context manager: `context.instance` enters an instance that only the context's exit closes. Left
    # open, Dagster's current defs-state storage keeps pointing at it after it is gone, and a later
    # `dg.materialize` in the same process fails ("undefined DagsterInstance weakref").
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=TICK,
        resources={
            "landing": LandingResource(root=str(landing)),
            "warehouse": WarehouseResource(path=str(warehouse)),
        },
        repository_def=defs.get_repository_def(),
    ) as context:
        return nightly_schedule(context)


def load_pending(landing: Path, warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        load_files(con, landing, pending_files(con, landing), "test")


def ranges(requests: list[dg.RunRequest]) -> list[tuple[str, str]]:
    return [
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in requests
    ]


def publish(instance: dg.DagsterInstance) -> None:
    time.sleep(0.01)
    instance.report_runless_asset_event(dg.AssetMaterialization(PUBLISHED_MARTS))


def test_first_night_loads_every_date_as_one_range(setup) -> None:
    instance, landing, warehouse, defs = setup
    requests = evaluate(instance, landing, warehouse, defs)
    assert ranges(requests) == [("2026-01-05", "2026-01-08")]
    assert requests[0].run_key == "2026-01-09:2026-01-05:2026-01-08"


def test_nothing_new_skips_and_a_new_day_or_late_r2_runs_only_its_dates(setup) -> None:
    instance, landing, warehouse, defs = setup
    load_pending(landing, warehouse)
    publish(instance)
    skip = evaluate(instance, landing, warehouse, defs)
    assert isinstance(skip, dg.SkipReason) and "no new or changed files" in (skip.skip_message or "")

    write_stores(landing, "stores_20260109.csv", "S1", "S2", "S3")
    assert ranges(evaluate(instance, landing, warehouse, defs)) == [("2026-01-09", "2026-01-09")]
    load_pending(landing, warehouse)
    publish(instance)

    # A re-delivery for an old day, delivered with an old mtime (mtime-since-last-tick would miss it).
    late = write_stores(landing, "stores_20260106_r2.csv", "S1")
    old = datetime(2026, 1, 6, 12, tzinfo=AMSTERDAM).timestamp()
    os.utime(late, (old, old))
    assert ranges(evaluate(instance, landing, warehouse, defs)) == [("2026-01-06", "2026-01-06")]
    # A new day and the late re-delivery at once: two ranges (dates 07..09 have nothing pending).
    write_stores(landing, "stores_20260110.csv", "S1")
    assert ranges(evaluate(instance, landing, warehouse, defs)) == [
        ("2026-01-06", "2026-01-06"),
        ("2026-01-10", "2026-01-10"),
    ]


def test_loaded_but_never_published_rebuilds_downstream_only(setup) -> None:
    instance, landing, warehouse, defs = setup
    load_pending(landing, warehouse)  # e.g. the run failed after its ingest step
    assert downstream_stale(instance, warehouse)
    (request,) = evaluate(instance, landing, warehouse, defs)
    assert request.run_key == "2026-01-09:downstream"
    assert PUBLISHED_MARTS in request.asset_selection
    assert not any(key.path[0] == "raw" for key in request.asset_selection)
    publish(instance)
    assert not downstream_stale(instance, warehouse)
    assert isinstance(evaluate(instance, landing, warehouse, defs), dg.SkipReason)


def test_plan_night_registers_every_date_and_plans_the_pending_one(setup) -> None:
    instance, landing, warehouse, _ = setup
    load_pending(landing, warehouse)
    write_stores(landing, "stores_20260109.csv", "S1")
    plan = plan_night(instance, pending_night(landing, warehouse), warehouse)
    assert plan.days == [date(2026, 1, 9)] and plan.ranges == [("2026-01-09", "2026-01-09")]
    assert len(plan.pending.known) == 4
    assert instance.get_dynamic_partitions("business_date") == [f"2026-01-{d:02d}" for d in (5, 6, 7, 8, 9)]


HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def test_a_locked_warehouse_falls_back_to_modification_times(setup) -> None:
    instance, landing, warehouse, defs = setup
    load_pending(landing, warehouse)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(duckdb.IOException):
            pending_night(landing, warehouse)
        # Fallback: the previous business day (2026-01-08) plus files modified in the last day (all, here).
        assert ranges(evaluate(instance, landing, warehouse, defs)) == [("2026-01-05", "2026-01-08")]
    finally:
        holder.kill()
        holder.wait()
