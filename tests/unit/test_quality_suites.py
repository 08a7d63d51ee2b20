"""The GX suites on real DuckDB data: they pass on good marts, and each planted violation makes them fail.

GX validates pandas frames read from DuckDB (its SQL datasource returns empty results on DuckDB): these
tests are the proof that this path can fail, i.e. that no suite passes silently.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cx_warehouse.publish.registry import TABLES_BY_NAME
from cx_warehouse.publish.testing import build_sample_warehouse
from cx_warehouse.quality import gate
from cx_warehouse.quality.drift import bounds_for, compare
from cx_warehouse.quality.gx_runner import validate_frame
from cx_warehouse.quality.suites import SUITES, SUITES_BY_TABLE, SuiteParams, customer_score_ranges


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    build_sample_warehouse(path)
    return path


def plant(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


def run(path: Path, suite: str):
    spec = next(s for s in SUITES if s.name == suite)
    with gate.read_only(path) as con:
        return gate.run_suite(con, spec, gate.suite_params(con), run_id="test", report_dir=None)


def failed_expectations(outcome) -> set[tuple[str, str | None]]:
    return {(e.expectation, e.column) for e in outcome.failed}


@pytest.mark.parametrize("suite", [s.name for s in SUITES])
def test_every_suite_passes_on_good_marts(warehouse: Path, suite: str) -> None:
    outcome = run(warehouse, suite)
    assert outcome.success, outcome.reason()
    assert outcome.rows and outcome.expectations


def test_propensity_above_one_fails_with_the_bad_row(warehouse: Path) -> None:
    plant(
        warehouse,
        "update marts.customer_propensity set churn_propensity = 1.7 "
        "where customer_key = (select min(customer_key) from marts.customer_propensity)",
    )
    outcome = run(warehouse, "customer_propensity")
    assert not outcome.success
    assert failed_expectations(outcome) == {("expect_column_values_to_be_between", "churn_propensity")}
    (bad,) = outcome.failed
    assert bad.unexpected_count == 1
    assert bad.sample[0]["churn_propensity"] == pytest.approx(1.7)
    assert bad.sample[0]["customer_key"]  # the sample bad row names the customer


def test_duplicated_customer_key_fails_dim_customer(warehouse: Path) -> None:
    plant(warehouse, "insert into marts.dim_customer select * from marts.dim_customer limit 1")
    outcome = run(warehouse, "dim_customer")
    assert ("expect_column_values_to_be_unique", "customer_key") in failed_expectations(outcome)


def test_scores_for_a_profiling_opt_out_or_an_unknown_customer_fail(warehouse: Path) -> None:
    plant(
        warehouse,
        """insert into marts.customer_propensity
           select customer_key, now(), 0.5, 0.5, 'sample-1' from marts.dim_customer
           where is_profiling_opted_out limit 1""",
        "insert into marts.customer_propensity values ('ck_nobody', now(), 0.5, 0.5, 'sample-1')",
    )
    outcome = run(warehouse, "customer_propensity")
    failed = failed_expectations(outcome)
    assert ("expect_column_values_to_be_in_set", "_profiling_opted_out") in failed
    assert ("expect_column_values_to_be_in_set", "_in_dim_customer") in failed
    # More scores than customers who may be profiled: the row count is inconsistent with dim_customer.
    assert ("expect_table_row_count_to_be_between", None) in failed


def test_satisfaction_missing_a_days_channel_fails_completeness(warehouse: Path) -> None:
    plant(
        warehouse,
        """delete from marts.mart_satisfaction
           where ("date", channel) = (select ("date", channel) from marts.mart_satisfaction
                                       where survey_type = 'post_contact' order by 1 limit 1)""",
    )
    assert run(warehouse, "mart_satisfaction").success  # the rows left are fine in themselves
    outcome = run(warehouse, "mart_satisfaction_completeness")
    assert ("expect_column_values_to_be_between", "responses_difference") in failed_expectations(outcome)
    sample = outcome.failed[0].sample[0]
    assert sample["survey_type"] == "post_contact" and sample["responses_difference"] < 0


def test_satisfaction_scores_out_of_range_and_duplicate_grain_fail(warehouse: Path) -> None:
    plant(
        warehouse,
        "update marts.mart_satisfaction set nps = 140, ces_avg = 0.5 where survey_type = 'relationship_nps'",
        "insert into marts.mart_satisfaction select * from marts.mart_satisfaction limit 1",
    )
    failed = failed_expectations(run(warehouse, "mart_satisfaction"))
    assert ("expect_column_values_to_be_between", "nps") in failed
    assert ("expect_column_values_to_be_between", "ces_avg") in failed
    assert ("expect_compound_columns_to_be_unique", "date,channel,survey_type") in failed


def test_touchpoint_of_an_unknown_customer_fails(warehouse: Path) -> None:
    plant(
        warehouse,
        "update marts.fct_touchpoints set customer_key = 'ck_ghost' where touchpoint_id = 'TP000000001'",
    )
    outcome = run(warehouse, "fct_touchpoints")
    assert failed_expectations(outcome) == {("expect_column_values_to_be_in_set", "_customer_known")}


def test_a_missing_column_fails_instead_of_passing(warehouse: Path) -> None:
    plant(warehouse, "alter table marts.customer_propensity drop column model_version")
    outcome = run(warehouse, "customer_propensity")
    assert not outcome.success and outcome.error and "model_version" in outcome.error


def test_a_missing_relation_fails_instead_of_passing(warehouse: Path) -> None:
    plant(warehouse, "drop table staging.stg_survey__responses")
    outcome = run(warehouse, "mart_satisfaction_completeness")
    assert not outcome.success and "staging.stg_survey__responses" in (outcome.error or "")


def test_gx_expectation_on_an_absent_column_is_a_failure() -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(
        name="t", expectations=[gxe.ExpectColumnValuesToBeBetween(column="x", max_value=1)]
    )
    success, outcomes, _ = validate_frame(pd.DataFrame({"y": [1]}), suite)
    assert not success and not outcomes[0].success


def test_customer_level_score_columns_get_their_instruments_ranges() -> None:
    ranges = customer_score_ranges(
        ["customer_key", "responses", "csat_avg", "last_nps_score", "ces_last", "nps"]
    )
    assert ranges == {"csat_avg": (1, 5), "last_nps_score": (0, 10), "ces_last": (1, 7), "nps": (-100, 100)}


def test_every_published_table_with_scores_has_a_suite() -> None:
    for table in ("dim_customer", "fct_touchpoints", "mart_satisfaction", "customer_propensity"):
        assert SUITES_BY_TABLE[table]
    assert set(SUITES_BY_TABLE) <= set(TABLES_BY_NAME)
    assert SuiteParams(1, 1)


def test_drift_compares_within_documented_bounds() -> None:
    bounds = bounds_for("customer_propensity")
    values, notes = compare(
        {"rows": 110, "mean_churn_propensity": 0.30}, {"rows": 100, "mean_churn_propensity": 0.5}, bounds
    )
    assert values["rows_ratio"] == pytest.approx(1.1)
    assert values["mean_churn_propensity_delta"] == pytest.approx(-0.2)
    assert any("mean_purchase_propensity_30d" in n for n in notes)
    assert compare({"rows": 1}, None, bounds) == (
        {},
        ["no previous published table: first publish, drift not evaluated"],
    )
