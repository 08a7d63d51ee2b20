"""The real code location's ``nightly_build`` on a generated landing tree publishes all five contract tables.

``bi/customer_propensity`` is a dbt model downstream of the Python asset ``marts/customer_propensity``, which
is downstream of dbt models of the same ``@dbt_assets`` (int_customer_feature_snapshots,
mart_customer_personas). Dagster resolves the dbt -> Python -> dbt cycle by running subsets of the dbt
assets as separate steps of the one run (seeds; the models; then the BI view after the propensity asset).
This test runs the job as ``cx-nightly`` does (a single-run backfill over the business dates), in a
subprocess with every path in a temporary directory, and checks the order of the steps and the published file.

Size: 2,000 customers x 120 days, the smallest history on which both models train (see
test_propensity_satisfaction.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.generator.engine import generate
from cx_warehouse.publish.registry import CONTRACT_TABLES

pytestmark = pytest.mark.integration

CUSTOMERS = 2000
DAYS = 120

RUN_NIGHTLY = """
import json
from cx_warehouse.ingest import discover
from orchestration import settings
from orchestration.definitions import defs
from orchestration.partitions import BUSINESS_DATE, contiguous_ranges, partition_key, register_dates
from orchestration.schedules import range_tags
import dagster as dg

days = {f.business_date for f in discover(settings.landing_dir()).files}
with dg.instance_for_test() as instance:
    register_dates(instance, days)
    ordered = instance.get_dynamic_partitions(BUSINESS_DATE.name or "")
    ((start, end),) = contiguous_ranges(ordered, [partition_key(d) for d in days])
    result = defs.resolve_job_def("nightly_build").execute_in_process(
        instance=instance, tags=range_tags(start, end), raise_on_error=False
    )
    steps = {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is not None and event.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
            steps.setdefault(event.step_key, {})[event.event_type_value] = entry.timestamp
    materialized = {}
    for event in result.get_asset_materialization_events():
        materialized[event.asset_key.to_user_string()] = event.step_key
    failures = [f"{e.step_key}: {e.message}" for e in result.all_events if e.is_failure]
    print(json.dumps({"success": result.success, "steps": steps, "materialized": materialized,
                      "failures": failures}))
"""


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    root = tmp_path_factory.mktemp("nightly")
    generate(out=root / "landing", truth_dir=root / "truth", customers=CUSTOMERS, days=DAYS)
    env = os.environ | {
        "CX_LANDING_DIR": str(root / "landing"),
        "CX_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "CX_PUBLISH_PATH": str(root / "marts.duckdb"),
        "CX_QUALITY_DIR": str(root / "quality"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    result = subprocess.run(
        [sys.executable, "-c", RUN_NIGHTLY], env=env, capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return summary, root / "warehouse.duckdb", root / "marts.duckdb"


def test_the_nightly_job_succeeds(nightly) -> None:
    summary, _, _ = nightly
    assert summary["success"], summary["failures"]


def test_dbt_runs_in_subset_steps_around_the_propensity_asset(nightly) -> None:
    summary, _, _ = nightly
    steps, materialized = summary["steps"], summary["materialized"]
    dbt_steps = sorted(s for s in steps if s.startswith("cx_dbt_models"))
    assert len(dbt_steps) >= 2, dbt_steps
    upstream = materialized["marts/mart_customer_personas"]
    propensity = materialized["marts/customer_propensity"]
    bi_view = materialized["bi/customer_propensity"]
    assert propensity == "propensity_models"
    assert {upstream, bi_view} <= set(dbt_steps) and upstream != bi_view
    # dbt (features, personas) -> Python (propensity) -> dbt (the BI view), in that order.
    assert steps[upstream]["STEP_SUCCESS"] <= steps[propensity]["STEP_START"]
    assert steps[propensity]["STEP_SUCCESS"] <= steps[bi_view]["STEP_START"]
    assert steps["published_marts"]["STEP_START"] >= steps[bi_view]["STEP_SUCCESS"]


def test_the_published_file_holds_every_contract_table_with_the_scores(nightly) -> None:
    _, warehouse, published = nightly
    with duckdb.connect(str(published), read_only=True) as con:
        tables = {
            r[0]
            for r in con.sql("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()
        }
        assert set(CONTRACT_TABLES) <= tables
        for table in CONTRACT_TABLES:
            assert con.sql(f"select count(*) from main.{table}").fetchall()[0][0] > 0, table
        columns = [r[0] for r in con.sql("describe main.customer_propensity").fetchall()]
        scores = con.sql(
            "select count(*), min(churn_propensity), max(churn_propensity), min(purchase_propensity_30d), "
            "max(purchase_propensity_30d), count(distinct model_version) from main.customer_propensity"
        ).fetchall()[0]
    assert columns[:1] == ["customer_key"]
    assert {"scored_at", "churn_propensity", "purchase_propensity_30d", "model_version"} <= set(columns)
    assert not {"persona_description"} & set(columns)
    rows, churn_lo, churn_hi, buy_lo, buy_hi, versions = scores
    assert 0 <= churn_lo <= churn_hi <= 1 and 0 <= buy_lo <= buy_hi <= 1 and versions == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select count(*) from marts.customer_propensity").fetchall()[0][0] == rows
        assert con.sql("select distinct status from marts.model_metrics").fetchall() == [("trained",)]
