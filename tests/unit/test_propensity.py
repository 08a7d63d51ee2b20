"""The propensity models on synthetic point-in-time snapshots in an in-memory DuckDB warehouse.

The snapshots mimic intermediate.int_customer_feature_snapshots: weekly as-of dates from 2026-08-04 to the
scoring snapshot 2026-11-17, churn labels (90 days) only where fully observed (as_of <= 2026-08-19), purchase
labels (30 days) up to 2026-10-18. Churn depends on pain points and the latest NPS beyond recency, so a model
that uses them must beat the recency-only baseline.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from cx_warehouse.models import propensity as p
from cx_warehouse.models.features import FEATURES, REASON_GROUPS

SCORING = date(2026, 11, 17)
DATES = [SCORING - timedelta(days=7 * k) for k in range(15, -1, -1)]  # 2026-08-04 ... 2026-11-17
CUSTOMERS = 240


def _snapshots(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    engagement = rng.gamma(2.0, 1.0, CUSTOMERS)
    for as_of in DATES:
        n = CUSTOMERS
        pain = rng.poisson(0.4, n)
        nps = np.where(rng.random(n) < 0.5, rng.integers(0, 11, n), np.nan)
        recency = np.minimum(rng.geometric(np.clip(engagement / 6, 0.05, 0.9)), 29)
        frame = pd.DataFrame({c: rng.poisson(1.0, n).astype(float) for c in FEATURES})
        frame["days_since_last_activity"] = recency
        frame["pain_points"] = pain
        frame["latest_nps"] = nps
        frame["tenure_days"] = rng.integers(10, 3000, n)
        frame["email_open_index"] = np.where(rng.random(n) < 0.2, np.nan, rng.gamma(2, 0.5, n))
        logit = -2.2 + 0.06 * recency + 0.9 * pain - 0.25 * np.nan_to_num(nps - 7)
        churn = rng.random(n) < 1 / (1 + np.exp(-logit))
        buy = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.5 * engagement - 0.05 * recency)))
        frame.insert(0, "customer_key", [f"ck_{i:04d}" for i in range(n)])
        frame.insert(0, "as_of", as_of)
        frame["snapshot_role"] = "scoring" if as_of == SCORING else "training"
        frame["as_of_at"] = datetime.combine(as_of - timedelta(days=1), datetime.min.time()).replace(hour=23)
        frame["feature_window_days"] = 28
        churn_known = as_of + timedelta(days=90) <= SCORING
        purchase_known = as_of + timedelta(days=30) <= SCORING
        frame["churn_label"] = pd.array(churn if churn_known else [pd.NA] * n, dtype="boolean")
        frame["purchase_label"] = pd.array(buy if purchase_known else [pd.NA] * n, dtype="boolean")
        frames.append(frame)
    snapshots = pd.concat(frames, ignore_index=True)
    # a customer seen in training snapshots only (e.g. no longer in dim_customer) is not scored
    return snapshots[~((snapshots["customer_key"] == "ck_0000") & (snapshots["snapshot_role"] == "scoring"))]


def _personas(snapshots: pd.DataFrame) -> pd.DataFrame:
    keys = snapshots.loc[snapshots["snapshot_role"] == "scoring", "customer_key"].tolist()
    return pd.DataFrame(
        {
            "customer_key": keys,
            "persona": "light_engager",
            "persona_description": "Light engager",
            "is_marketing_opted_in": [i % 2 == 0 for i in range(len(keys))],
            "has_open_pain_point": [i % 7 == 0 for i in range(len(keys))],
            "cross_sell_category": "Wonen",
            "scores_as_of": SCORING,
        }
    )


def snapshot_warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding the synthetic snapshots and personas."""
    con = duckdb.connect()
    snapshots = _snapshots()
    con.execute("create schema intermediate")
    con.execute("create schema marts")
    con.register("snapshots_df", snapshots)
    con.register("personas_df", _personas(snapshots))
    con.execute(f"create table {p.SNAPSHOTS_RELATION} as select * from snapshots_df")
    con.execute(f"create table {p.PERSONAS_RELATION} as select * from personas_df")
    con.unregister("snapshots_df")
    con.unregister("personas_df")
    return con


@pytest.fixture(scope="module")
def warehouse() -> duckdb.DuckDBPyConnection:
    return snapshot_warehouse()


@pytest.fixture(scope="module")
def run(warehouse: duckdb.DuckDBPyConnection) -> p.PropensityRun:
    return p.train_and_score(warehouse)


def test_time_split_validates_on_the_latest_labelled_snapshot(warehouse):
    frame = p.load_snapshots(warehouse)
    churn, purchase = p.TARGETS
    churn_split = p.time_split(frame, churn)
    # only 2026-08-04, -11, -18 have a full 90-day label: train on the first two, overlapping label windows
    assert churn_split.validation_as_of == date(2026, 8, 18)
    assert churn_split.train_as_of == (date(2026, 8, 4), date(2026, 8, 11))
    assert churn_split.label_windows_overlap
    # purchase labels up to 2026-10-13: training snapshots whose 30-day label ends by then (purged)
    purchase_split = p.time_split(frame, purchase)
    assert purchase_split.validation_as_of == date(2026, 10, 13)
    assert max(purchase_split.train_as_of) + timedelta(days=30) <= purchase_split.validation_as_of
    assert not purchase_split.label_windows_overlap
    assert all(d < purchase_split.validation_as_of for d in purchase_split.train_as_of)


def test_time_split_needs_two_labelled_snapshots(warehouse):
    frame = p.load_snapshots(warehouse)
    only_scoring_and_last = frame[frame["as_of"] >= date(2026, 8, 18)]
    with pytest.raises(p.PropensityError, match="need 2"):
        p.time_split(only_scoring_and_last, p.TARGETS[0])


def test_scores_are_calibrated_probabilities_of_the_scoring_snapshot_only(warehouse, run):
    scoring_keys = set(
        warehouse.execute(
            f"select customer_key from {p.SNAPSHOTS_RELATION} where snapshot_role = 'scoring'"
        ).fetchall()
    )
    assert {(k,) for k in run.scores["customer_key"]} == scoring_keys
    assert "ck_0000" not in set(run.scores["customer_key"])
    for column in ("churn_propensity", "purchase_propensity_30d"):
        assert run.scores[column].between(0, 1, inclusive="neither").all()
    assert run.scoring_date == date(2026, 11, 16)  # the latest business date, not the wall clock
    assert (run.scores["scoring_date"] == date(2026, 11, 16)).all()
    assert run.model_version.startswith("propensity-v1-20261117-")


def test_churn_model_beats_the_recency_baseline_and_reports_its_metrics(run):
    churn = next(m for m in run.metrics if m.model_name == "churn_90d")
    assert churn.auc > churn.recency_baseline_auc
    assert churn.beats_recency_baseline
    assert 0 < churn.brier < churn.base_rate_brier
    assert len(churn.calibration_deciles) == p.CALIBRATION_BINS
    assert sum(row["rows"] for row in churn.calibration_deciles) == churn.validation_rows
    assert {d["driver"] for d in churn.top_drivers} == {g.code for g in REASON_GROUPS}
    assert churn.top_drivers[0]["driver"] in {"pain_points", "satisfaction", "recency"}


def test_training_is_deterministic(warehouse, run):
    again = p.train_and_score(warehouse)
    assert again.model_version == run.model_version
    pd.testing.assert_frame_equal(again.scores, run.scores)


def test_reason_codes_are_the_top_three_groups_stated_with_the_customers_values(run):
    codes = {g.code for g in REASON_GROUPS}
    for prefix in ("churn_reason", "purchase_reason"):
        listed = run.scores[f"{prefix}_codes"].dropna().str.split("|")
        assert listed.map(len).le(3).all()
        assert set(listed.explode()) <= codes
        first = run.scores[f"{prefix}_1"].notna()
        assert (first == run.scores[f"{prefix}_codes"].notna()).all()
    pain = run.scores[run.scores["churn_reason_codes"].fillna("").str.startswith("pain_points")]
    assert not pain.empty
    assert pain["churn_reason_1"].str.fullmatch(r"\d+ pain points in the last 28 days").all()


def test_next_best_action_respects_consent(run):
    scores = run.scores
    marketing = scores["next_best_action"].isin(["win_back", "cross_sell"])
    assert scores.loc[marketing, "is_marketing_opted_in"].all()
    assert (scores.loc[scores["has_open_pain_point"], "next_best_action"] == "service_recovery").all()


def test_write_outputs_replaces_the_scores_and_appends_metrics_per_run(warehouse, run):
    p.write_outputs(warehouse, run, run_id="run-1")
    p.write_outputs(warehouse, run, run_id="run-2")
    p.write_outputs(warehouse, run, run_id="run-2")  # a retried run replaces its own rows
    rows = warehouse.execute(
        f"select run_id, model_name, model_version from {p.METRICS_RELATION} order by all"
    ).fetchall()
    assert rows == [
        ("run-1", "churn_90d", run.model_version),
        ("run-1", "purchase_30d", run.model_version),
        ("run-2", "churn_90d", run.model_version),
        ("run-2", "purchase_30d", run.model_version),
    ]
    count, customers, versions, scored_at = warehouse.execute(
        f"select count(*), count(distinct customer_key), count(distinct model_version), max(scored_at) "
        f"from {p.PROPENSITY_RELATION}"
    ).fetchall()[0]
    assert count == customers == len(run.scores)
    assert versions == 1
    assert scored_at == datetime(2026, 11, 16, 23, 0)
    features = warehouse.execute(f"select features from {p.METRICS_RELATION} limit 1").fetchall()[0][0]
    assert features.startswith('["days_since_last_activity"')


def test_calibration_deciles_and_expected_calibration_error():
    y = np.array([0, 0, 1, 1])
    prob = np.array([0.1, 0.3, 0.6, 0.8])
    table = p.calibration_deciles(y, prob, bins=2)
    assert table == [
        {"bin": 1, "rows": 2, "mean_predicted": 0.2, "observed_rate": 0.0},
        {"bin": 2, "rows": 2, "mean_predicted": 0.7, "observed_rate": 1.0},
    ]
    assert p.expected_calibration_error(table) == pytest.approx(0.5 * 0.2 + 0.5 * 0.3)
