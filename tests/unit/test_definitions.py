"""The Dagster code location loads, and its shape is pinned: assets, groups, checks, jobs, schedule."""

from __future__ import annotations

import dagster as dg
import pytest

from cx_warehouse.ingest.spec import EXTRACTS


@pytest.fixture(scope="module")
def defs(dbt_manifest) -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


def test_definitions_validate(defs):
    dg.Definitions.validate_loadable(defs)


def test_one_partitioned_ingest_asset_per_extract(defs):
    graph = defs.resolve_asset_graph()
    raw_keys = {key for key in graph.get_all_asset_keys() if key.path[0] == "raw"}
    tables = set(EXTRACTS) | {child for spec in EXTRACTS.values() for child in spec.child_tables.values()}
    assert raw_keys == {dg.AssetKey(["raw", name]) for name in tables}
    for key in raw_keys:
        node = graph.get(key)
        assert node.group_name == "raw"
        assert node.partitions_def is not None and node.partitions_def.name == "business_date"
        assert node.backfill_policy == dg.BackfillPolicy.single_run()


def test_dbt_staging_models_sit_downstream_of_their_ingest_asset(defs):
    graph = defs.resolve_asset_graph()
    crm = graph.get(dg.AssetKey(["staging", "stg_crm__customers"]))
    versions = graph.get(dg.AssetKey(["staging", "stg_crm__customer_versions"]))
    assert dg.AssetKey(["raw", "crm_customers"]) in versions.parent_keys
    assert versions.group_name == "staging"
    assert dg.AssetKey(["staging", "stg_crm__customer_versions"]) in crm.parent_keys
    items = graph.get(dg.AssetKey(["staging", "stg_webshop__order_items"]))
    assert dg.AssetKey(["raw", "webshop_order_items"]) in items.parent_keys
    # The nested webshop tables are written by the webshop_orders load and shown downstream of it.
    assert (
        dg.AssetKey(["raw", "webshop_orders"])
        in graph.get(dg.AssetKey(["raw", "webshop_order_items"])).parent_keys
    )


def test_dbt_tests_are_asset_checks(defs):
    graph = defs.resolve_asset_graph()
    checks = graph.asset_check_keys
    assert any(
        c.asset_key == dg.AssetKey(["staging", "stg_web__events"]) and "unique" in c.name for c in checks
    )


def test_jobs_and_nightly_schedule(defs):
    assert {"nightly_build", "ingest_only"} <= {job.name for job in defs.resolve_all_job_defs()}
    schedule = defs.resolve_schedule_def("nightly_at_two")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Amsterdam"
    assert schedule.job_name == "nightly_build"
