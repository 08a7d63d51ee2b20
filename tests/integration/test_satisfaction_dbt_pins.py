"""The dbt unit tests that pin the NPS arithmetic and the point-in-time cut, without generated data.

``dbt build --empty`` creates every upstream relation with its columns but no rows (dbt unit tests need the
relations to exist), running the unit tests of the satisfaction, feature and propensity models on the way.
Then the point-in-time macro is broken on purpose in a copy of the project (``<`` as_of becomes ``<=``: an
event on the scoring date leaks into the features) and its unit test must fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.ingest import ensure_raw_schema

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
PINS = (
    "test_mart_satisfaction_nps_arithmetic",
    "test_int_survey_responses_enriched_channel_of_the_surveyed_touchpoint",
    "test_int_customer_feature_snapshots_point_in_time_cut",
    "test_int_feature_snapshot_dates_scoring_date_is_the_latest_business_date",
    "test_mart_customer_satisfaction_latest_and_trailing_90_days",
    "test_mart_satisfaction_drivers_ranks_experience_items",
    "test_mart_satisfaction_drivers_pain_point_nps_difference",
    "test_mart_customer_personas_rules_in_order_and_cross_sell",
)
CUT = "and {{ event_date }} < {{ as_of }})"


def _dbt(project: Path, warehouse: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CX_WAREHOUSE_PATH": str(warehouse), "DO_NOT_TRACK": "1"}
    command = [
        str(DBT),
        *args,
        "--profiles-dir",
        str(project),
        "--project-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)


def _statuses(work: Path) -> dict[str, str]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results}


@pytest.fixture(scope="module")
def empty_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """An empty warehouse with every relation the models need; the statuses of its ``dbt build --empty``."""
    root = tmp_path_factory.mktemp("pins")
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        ensure_raw_schema(con)
    finally:
        con.close()
    result = _dbt(
        DBT_PROJECT,
        warehouse,
        root,
        "build",
        "--empty",
        "--select",
        "+models/marts/satisfaction",
        "+models/marts/propensity",
        "--exclude",
        "test_type:data",
    )
    assert result.returncode == 0, result.stdout[-6000:]
    return warehouse, _statuses(root)


def test_the_pins_pass(empty_build: tuple[Path, dict[str, str]]) -> None:
    _, statuses = empty_build
    assert {name: statuses.get(name) for name in PINS} == dict.fromkeys(PINS, "pass")


def test_an_event_on_the_scoring_date_in_the_features_fails_the_point_in_time_pin(
    empty_build: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    macro = project / "macros" / "satisfaction" / "point_in_time.sql"
    text = macro.read_text()
    assert text.count(CUT) == 1
    macro.write_text(text.replace(CUT, "and {{ event_date }} <= {{ as_of }})"))
    result = _dbt(
        project,
        empty_build[0],
        tmp_path,
        "test",
        "--select",
        "int_customer_feature_snapshots,test_type:unit",
    )
    assert result.returncode != 0
    assert _statuses(tmp_path)["test_int_customer_feature_snapshots_point_in_time_cut"] == "fail"
