"""The customer_propensity suite's zero-row rule: an empty table passes only when the gated run's own
marts.model_metrics rows say the models were not trained (and then rows are not allowed); otherwise the
suite needs at least one row, as always."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cx_warehouse.models.propensity import METRICS_DDL, METRICS_RELATION
from cx_warehouse.publish.testing import build_sample_warehouse
from cx_warehouse.quality import gate
from cx_warehouse.quality.suites import SUITES

RUN = "run-tonight"
SPEC = next(s for s in SUITES if s.name == "customer_propensity")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    build_sample_warehouse(path)
    with duckdb.connect(str(path)) as con:
        con.execute(METRICS_DDL)
    return path


def plant(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


def metrics_rows(run_id: str, status: str) -> list[str]:
    return [
        f"""insert into {METRICS_RELATION} (run_id, model_version, model_name, status, reason)
            values ('{run_id}', 'propensity-v1-x', '{model}', '{status}',
                    {"'" + model + ": 0 snapshot(s) with a label'" if status == "not_trained" else "null"})"""
        for model in ("churn_90d", "purchase_30d")
    ]


def run(path: Path, run_id: str = RUN):
    with gate.read_only(path) as con:
        return gate.run_suite(
            con, SPEC, gate.suite_params(con, run_id=run_id), run_id=run_id, report_dir=None
        )


def row_count_failed(outcome) -> bool:
    return any(e.expectation == "expect_table_row_count_to_be_between" for e in outcome.failed)


EMPTY = "delete from marts.customer_propensity"


def test_an_empty_table_without_metrics_fails(warehouse: Path) -> None:
    plant(warehouse, EMPTY)
    outcome = run(warehouse)
    assert not outcome.success and row_count_failed(outcome)


def test_an_empty_table_passes_when_this_runs_metrics_say_not_trained(warehouse: Path) -> None:
    plant(warehouse, EMPTY, *metrics_rows(RUN, "not_trained"))
    outcome = run(warehouse)
    assert outcome.success, outcome.reason()
    assert outcome.rows == 0
    assert any("not trained in this run" in n and "churn_90d: 0 snapshot(s)" in n for n in outcome.notes)
    (row_count,) = [
        e for e in outcome.expectations if e.expectation == "expect_table_row_count_to_be_between"
    ]
    assert (row_count.kwargs["min_value"], row_count.kwargs["max_value"]) == (0, 0)


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param(metrics_rows("an-earlier-run", "not_trained"), id="another run was not trained"),
        pytest.param(metrics_rows(RUN, "trained"), id="this run trained"),
        pytest.param(
            [*metrics_rows(RUN, "not_trained"), *metrics_rows(RUN, "trained")], id="this run is inconsistent"
        ),
    ],
)
def test_an_empty_table_fails_unless_this_run_was_not_trained(warehouse: Path, statements: list[str]) -> None:
    plant(warehouse, EMPTY, *statements)
    outcome = run(warehouse)
    assert not outcome.success and row_count_failed(outcome)
    assert not outcome.notes


def test_scores_from_a_run_that_says_not_trained_fail(warehouse: Path) -> None:
    plant(warehouse, *metrics_rows(RUN, "not_trained"))  # the table still holds (stale) scores
    outcome = run(warehouse)
    assert not outcome.success and row_count_failed(outcome)


def test_a_model_metrics_table_without_status_counts_as_trained(warehouse: Path) -> None:
    plant(
        warehouse,
        EMPTY,
        f"alter table {METRICS_RELATION} drop column status",
        f"insert into {METRICS_RELATION} (run_id, model_version, model_name) "
        f"values ('{RUN}', 'v', 'churn_90d')",
    )
    assert not run(warehouse).success


def test_the_audit_gates_with_its_own_run_id(warehouse: Path, tmp_path: Path) -> None:
    plant(warehouse, EMPTY, *metrics_rows(RUN, "not_trained"))
    target = tmp_path / "published" / "marts.duckdb"
    tonight = gate.audit(warehouse, target, run_id=RUN, report_root=tmp_path / "quality")
    assert [o.success for o in tonight.outcomes if o.suite == "customer_propensity"] == [True]
    other = gate.audit(warehouse, target, run_id="manual-1", report_root=tmp_path / "quality")
    assert [o.success for o in other.outcomes if o.suite == "customer_propensity"] == [False]
