"""The gate in Dagster: blocking checks on the marts and BI views stop ``published_marts``; a good run
publishes and shows its summary as metadata. Stand-in assets with the real asset keys build the marts; the
checks and the publish asset are the real ones (the same factories the code location uses)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from cx_warehouse.publish import PUBLISHED_TABLES, file_sha256
from cx_warehouse.publish.testing import build_sample_warehouse
from orchestration.assets.publish import PUBLISHED_MARTS, build_publish_asset
from orchestration.checks import build_quality_checks
from orchestration.resources import WarehouseResource

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MART_KEYS = [dg.AssetKey(t.mart_asset_key) for t in PUBLISHED_TABLES]
BI_KEYS = [dg.AssetKey(["bi", t.name]) for t in PUBLISHED_TABLES]
STAGING_SURVEYS = dg.AssetKey(["staging", "stg_survey__responses"])
KEYS = [*MART_KEYS, *BI_KEYS, STAGING_SURVEYS]


def stand_in_defs(warehouse: Path, fault: list[str]) -> dg.Definitions:
    @dg.multi_asset(specs=[dg.AssetSpec(k) for k in KEYS], name="stand_in_marts")
    def stand_in_marts() -> Iterator[dg.MaterializeResult]:
        build_sample_warehouse(warehouse)
        with duckdb.connect(str(warehouse)) as con:
            for statement in fault:
                con.execute(statement)
        for key in KEYS:
            yield dg.MaterializeResult(asset_key=key)

    return dg.Definitions(
        assets=[stand_in_marts, build_publish_asset(KEYS)],
        asset_checks=build_quality_checks(KEYS),
        jobs=[dg.define_asset_job("nightly", selection=dg.AssetSelection.all())],
        resources={"warehouse": WarehouseResource(path=str(warehouse))},
        executor=dg.in_process_executor,
    )


def run(tmp_path: Path, instance: dg.DagsterInstance, *fault: str) -> dg.ExecuteInProcessResult:
    defs = stand_in_defs(tmp_path / "warehouse.duckdb", list(fault))
    return defs.resolve_job_def("nightly").execute_in_process(instance=instance, raise_on_error=False)


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e for e in result.get_asset_check_evaluations()}


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CX_PUBLISH_PATH", str(tmp_path / "published" / "marts.duckdb"))
    monkeypatch.delenv("CX_QUALITY_DIR", raising=False)
    with dg.instance_for_test() as test_instance:
        yield test_instance


def test_good_run_publishes_with_a_summary_then_a_failed_gate_blocks(tmp_path: Path, instance) -> None:
    target = tmp_path / "published" / "marts.duckdb"

    good = run(tmp_path, instance)
    assert good.success
    checks = check_results(good)
    assert checks and all(e.passed for e in checks.values())
    assert {"marts/customer_propensity:gx_customer_propensity", "bi/fct_contacts:pii_guard"} <= set(checks)
    (materialization,) = [
        m for m in good.get_asset_materialization_events() if m.asset_key == PUBLISHED_MARTS
    ]
    metadata = materialization.materialization.metadata
    assert metadata["sha256"].value == file_sha256(target)
    assert metadata["checks_failed_in_run"].value == 0 and metadata["checks_passed_in_run"].value == len(
        checks
    )
    assert set(metadata["published_tables"].value) == {t.name for t in PUBLISHED_TABLES}
    assert metadata["rows/customer_propensity"].value > 0
    assert Path(metadata["quality_report"].value).exists()
    last_good = target.read_bytes()

    bad = run(
        tmp_path,
        instance,
        "update marts.customer_propensity set churn_propensity = 1.5 where churn_propensity > 0.95",
    )
    assert not bad.success
    failed = {k: e for k, e in check_results(bad).items() if not e.passed}
    assert set(failed) == {"marts/customer_propensity:gx_customer_propensity"}
    evaluation = failed["marts/customer_propensity:gx_customer_propensity"]
    assert "churn_propensity" in evaluation.metadata["failing_expectations"].value
    assert "1.5" in evaluation.metadata["sample_bad_rows"].value
    assert not [m for m in bad.get_asset_materialization_events() if m.asset_key == PUBLISHED_MARTS]
    assert target.read_bytes() == last_good
    failures = [e for e in bad.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert any("blocking asset check" in (e.event_specific_data.error.message or "") for e in failures)


@pytest.mark.parametrize(
    ("fault", "failed_check"),
    [
        (
            ["insert into marts.dim_customer select * from marts.dim_customer limit 1"],
            "marts/dim_customer:gx_dim_customer",
        ),
        (
            [
                """delete from marts.mart_satisfaction where ("date", channel) = (
                   select ("date", channel) from marts.mart_satisfaction where survey_type = 'post_contact'
                   order by 1 limit 1)"""
            ],
            "marts/mart_satisfaction:gx_mart_satisfaction_completeness",
        ),
        (
            ["create or replace view bi.dim_customer as select customer_key, email from marts.dim_customer"],
            "bi/dim_customer:pii_guard",
        ),
    ],
)
def test_each_planted_fault_blocks_the_publish(
    tmp_path: Path, instance, fault: list[str], failed_check: str
) -> None:
    result = run(tmp_path, instance, *fault)
    assert not result.success
    assert failed_check in {k for k, e in check_results(result).items() if not e.passed}
    assert not [m for m in result.get_asset_materialization_events() if m.asset_key == PUBLISHED_MARTS]
    assert not (tmp_path / "published" / "marts.duckdb").exists()


def test_publish_alone_is_still_gated(tmp_path: Path, instance) -> None:
    """Materialising only published_marts (no checks in the run) runs the gate itself and fails clearly."""
    warehouse = tmp_path / "warehouse.duckdb"
    defs = stand_in_defs(warehouse, [])
    build_sample_warehouse(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop view bi.customer_propensity")
        con.execute("drop table marts.customer_propensity")
    job = dg.define_asset_job("publish_only", selection=dg.AssetSelection.assets(PUBLISHED_MARTS))
    defs = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    result = defs.resolve_job_def("publish_only").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "marts.customer_propensity does not exist" in str(failure.event_specific_data.error.message) + str(
        failure.event_specific_data.user_failure_data
    )
    assert not (tmp_path / "published" / "marts.duckdb").exists()


def test_code_location_wires_the_gate_and_the_nightly_retry(tmp_path: Path) -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    assert PUBLISHED_MARTS in graph.get_all_asset_keys()
    parents = graph.get(PUBLISHED_MARTS).parent_keys
    gate_checks = [k for k in graph.asset_check_keys if k.name.startswith(("gx_", "drift_", "pii_"))]
    assert gate_checks
    for key in gate_checks:
        assert graph.get_check_spec(key).blocking
        assert key.asset_key in parents  # a direct dependency: Dagster blocks direct downstream assets
    for name in ("dim_customer", "fct_touchpoints", "fct_contacts"):
        assert dg.AssetKey(["bi", name]) in parents

    nightly = defs.resolve_job_def("nightly_build")
    assert nightly.tags.get("dagster/max_retries") == "1"
    config = yaml.safe_load((REPO / "orchestration" / "dagster.yaml").read_text())
    assert config["run_retries"]["enabled"] is True
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "orchestration" / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(home)) as configured:
        assert configured.run_retries_enabled
