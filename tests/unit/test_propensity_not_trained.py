"""Too little history to train: the propensity step scores nobody, says why, and does not fail the run.

A tiny DuckDB warehouse file (tmp_path) holds ``intermediate.int_customer_feature_snapshots`` and
``marts.mart_customer_personas`` as dbt builds them, for a few customers over a few days.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from cx_warehouse.models import propensity as p
from cx_warehouse.models.features import FEATURES
from orchestration.assets.propensity import MODEL_METRICS_KEY, PROPENSITY_KEY, propensity_models
from orchestration.resources import WarehouseResource

SCORING = date(2019, 10, 29)


def _snapshots(as_ofs: list[date], customers: int, churn: list[bool] | None = None) -> pd.DataFrame:
    """Snapshots on ``as_ofs`` (the last one scores); ``churn`` labels every training snapshot when given."""
    frames = []
    for as_of in as_ofs:
        frame = pd.DataFrame({c: [float(i % 3) for i in range(customers)] for c in FEATURES})
        frame.insert(0, "customer_key", [f"ck_{i:03d}" for i in range(customers)])
        frame.insert(0, "as_of", as_of)
        role = "scoring" if as_of == as_ofs[-1] else "training"
        frame["snapshot_role"] = role
        frame["as_of_at"] = datetime.combine(as_of - timedelta(days=1), datetime.min.time()).replace(hour=23)
        frame["feature_window_days"] = 28
        labels = churn if churn is not None and role == "training" else [pd.NA] * customers
        frame["churn_label"] = pd.array(labels, dtype="boolean")
        frame["purchase_label"] = pd.array(labels, dtype="boolean")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _warehouse(path: Path, snapshots: pd.DataFrame, *, old_metrics_table: bool = False) -> Path:
    keys = snapshots.loc[snapshots["snapshot_role"] == "scoring", "customer_key"].tolist()
    personas = pd.DataFrame(
        {
            "customer_key": keys,
            "persona": "light_engager",
            "persona_description": "Light engager",
            "is_marketing_opted_in": True,
            "has_open_pain_point": False,
            "cross_sell_category": "Wonen",
        }
    )
    with duckdb.connect(str(path)) as con:
        con.execute("create schema intermediate; create schema marts")
        con.register("snapshots_df", snapshots)
        con.register("personas_df", personas)
        con.execute(f"create table {p.SNAPSHOTS_RELATION} as select * from snapshots_df")
        con.execute(f"create table {p.PERSONAS_RELATION} as select * from personas_df")
        if old_metrics_table:  # model_metrics as the first release created it: no status / reason
            ddl = p.METRICS_DDL.replace(",\n    status varchar,\n    reason varchar", "")
            assert "status" not in ddl
            con.execute(ddl)
            con.execute(
                f"insert into {p.METRICS_RELATION} (run_id, model_version, model_name) "
                "values ('earlier', 'propensity-v1-old', 'churn_90d')"
            )
    return path


def three_days(tmp_path: Path, **kwargs: bool) -> Path:
    """Three daily snapshots, no label window complete yet (the foreign delivery of 2019)."""
    dates = [SCORING - timedelta(days=2), SCORING - timedelta(days=1), SCORING]
    return _warehouse(tmp_path / "warehouse.duckdb", _snapshots(dates, customers=4), **kwargs)


def test_no_complete_label_window_writes_an_empty_table_and_says_why(tmp_path: Path) -> None:
    path = three_days(tmp_path, old_metrics_table=True)
    with duckdb.connect(str(path)) as con:
        run = p.run_propensity(con, run_id="run-1")
        scores = con.execute(f"select * from {p.PROPENSITY_RELATION}").df()
        metrics = con.execute(
            f"select model_name, status, reason, model_version, scored_customers, auc "
            f"from {p.METRICS_RELATION} where run_id = 'run-1' order by model_name"
        ).fetchall()
        earlier = con.execute(f"select status from {p.METRICS_RELATION} where run_id = 'earlier'").fetchall()

    assert not run.trained
    assert run.metrics == ()
    assert "churn_90d: 0 snapshot(s) with a 90-day label" in run.not_trained_reason
    assert "purchase_30d: 0 snapshot(s) with a 30-day label" in run.not_trained_reason
    assert run.scoring_date == SCORING - timedelta(days=1)
    assert run.model_version == "propensity-v1-20191029-not-trained"
    # The same columns as a trained run's table, no rows.
    assert list(scores.columns) == list(p.SCORE_COLUMNS)
    assert len(scores) == 0
    assert [m[:2] for m in metrics] == [("churn_90d", "not_trained"), ("purchase_30d", "not_trained")]
    assert all(m[2] and m[3] == run.model_version and m[4] == 0 and m[5] is None for m in metrics)
    assert "load more history" in metrics[0][2]
    assert earlier == [(None,)]  # an existing model_metrics gained the columns, its rows kept


def test_one_model_short_of_history_scores_nobody_and_names_it(tmp_path: Path) -> None:
    dates = [SCORING - timedelta(days=7 * k) for k in range(3, -1, -1)]
    snapshots = _snapshots(dates, customers=40, churn=[i % 2 == 0 for i in range(40)])
    snapshots.loc[snapshots["as_of"] < SCORING - timedelta(days=7), "churn_label"] = pd.NA  # 1 churn snapshot
    with duckdb.connect(str(_warehouse(tmp_path / "w.duckdb", snapshots))) as con:
        run = p.run_propensity(con, run_id="run-2")
    reasons = dict(run.not_trained)
    assert reasons["churn_90d"].startswith("churn_90d: 1 snapshot(s) with a 90-day label")
    assert reasons["purchase_30d"] == "not scored: churn_90d cannot be trained"
    assert run.not_trained_reason == reasons["churn_90d"]
    assert run.scores.empty


@pytest.mark.parametrize(
    ("customers", "churn", "reason"),
    [
        (40, [False] * 40, "the labels have a single class (80 row(s), all negative)"),
        (3, [True, False, False], "too few rows: 2 positive and 4 negative label(s) of 3 customer(s)"),
    ],
)
def test_a_single_class_or_too_few_rows_is_not_trainable(
    customers: int, churn: list[bool], reason: str
) -> None:
    dates = [SCORING - timedelta(days=7 * k) for k in range(3, -1, -1)]
    frame = _snapshots(dates, customers=customers, churn=churn)
    problem = p.training_problem(frame, p.TARGETS[0])
    assert problem is not None and problem.startswith("churn_90d: ")
    assert reason in problem


def test_the_asset_succeeds_with_a_warning_and_not_trained_metadata(tmp_path: Path) -> None:
    path = three_days(tmp_path)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [propensity_models], resources={"warehouse": WarehouseResource(path=str(path))}, instance=instance
        )
        assert result.success
        warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    by_key = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("propensity_models")}
    for key in (PROPENSITY_KEY, MODEL_METRICS_KEY):
        status = by_key[key]["status"].value
        assert status.startswith("not trained: churn_90d: 0 snapshot(s)"), status
    assert by_key[PROPENSITY_KEY]["dagster/row_count"].value == 0
    assert by_key[MODEL_METRICS_KEY]["rows_appended"].value == 2
    assert any("not trained" in w and "churn_90d" in w for w in warnings), warnings
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute(f"select count(*) from {p.PROPENSITY_RELATION}").fetchall() == [(0,)]
        assert con.execute(
            f"select count(*) from {p.METRICS_RELATION} where run_id = ? and status = 'not_trained'",
            [result.run_id],
        ).fetchall() == [(2,)]
