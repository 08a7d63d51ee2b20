"""The propensity step's work is bounded: sampled training and validation sets, chunked scoring.

On the synthetic snapshots of test_propensity (240 customers x 16 weekly snapshots): with caps below the
number of labelled rows each fit sees at most the cap - a deterministic plain random sample, recorded in
marts.model_metrics with the rows available - while every customer of the scoring snapshot is still scored;
scoring in small chunks gives exactly the scores and reasons of one chunk.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from cx_warehouse.models import propensity as p
from tests.unit.test_propensity import snapshot_warehouse

CUSTOMERS_SCORED = 239  # ck_0000 is in no scoring snapshot


@pytest.fixture(scope="module")
def warehouse() -> duckdb.DuckDBPyConnection:
    return snapshot_warehouse()


@pytest.fixture(scope="module")
def whole(warehouse: duckdb.DuckDBPyConnection) -> p.PropensityRun:
    return p.train_and_score(warehouse, p.Limits(scoring_chunk_rows=100_000))


@pytest.fixture(scope="module")
def capped(warehouse: duckdb.DuckDBPyConnection) -> p.PropensityRun:
    return p.train_and_score(
        warehouse, p.Limits(max_training_rows=400, max_validation_rows=150, scoring_chunk_rows=50)
    )


def test_under_the_caps_every_row_is_used(whole: p.PropensityRun) -> None:
    for m in whole.metrics:
        assert m.train_rows == m.train_rows_available
        assert m.validation_rows == m.validation_rows_available
        assert m.final_training_rows == m.final_training_rows_available


def test_each_fit_sees_at_most_the_cap_and_records_the_sample(capped: p.PropensityRun) -> None:
    for m in capped.metrics:
        assert m.train_rows == min(400, m.train_rows_available) and m.train_rows_available > 400
        assert m.validation_rows == 150 < m.validation_rows_available
        assert m.final_training_rows == 400 < m.final_training_rows_available
        assert (m.max_training_rows, m.max_validation_rows) == (400, 150)
        assert "md5" in m.sampling
        assert sum(row["rows"] for row in m.calibration_deciles) == m.validation_rows
        assert 0 <= m.auc <= 1


def test_the_sample_is_deterministic_and_plain(warehouse: duckdb.DuckDBPyConnection) -> None:
    churn = p.TARGETS[0]
    dates = p.labelled_dates(warehouse, churn)
    first, available = p.labelled_sample(warehouse, churn, dates, 300)
    again, _ = p.labelled_sample(warehouse, churn, dates, 300)
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 300 < available
    # plain: drawn across customers (not whole customers), the base rate close to the population's
    assert first["customer_key"].nunique() > 150
    population = warehouse.execute(
        f"select avg(churn_label::int) from {p.SNAPSHOTS_RELATION} "
        "where snapshot_role = 'training' and churn_label is not null"
    ).fetchall()[0][0]
    assert abs(first[churn.label].astype(int).mean() - population) < 0.08


def test_every_customer_is_scored_and_chunks_change_nothing(
    whole: p.PropensityRun, warehouse: duckdb.DuckDBPyConnection
) -> None:
    chunked = p.train_and_score(warehouse, p.Limits(scoring_chunk_rows=50))  # 5 chunks
    assert len(chunked.scores) == len(whole.scores) == CUSTOMERS_SCORED
    pd.testing.assert_frame_equal(chunked.scores, whole.scores)
    assert [m.scored_customers for m in chunked.metrics] == [CUSTOMERS_SCORED] * 2


def test_the_sample_sizes_are_written_to_model_metrics(capped: p.PropensityRun) -> None:
    con = duckdb.connect()
    con.execute("create schema marts")
    p.write_outputs(con, capped, run_id="capped")
    rows = con.execute(
        f"""select model_name, train_rows, train_rows_available, validation_rows, validation_rows_available,
                   final_training_rows, final_training_rows_available, max_training_rows, max_validation_rows,
                   sampling
            from {p.METRICS_RELATION} order by model_name"""
    ).fetchall()
    assert [r[0] for r in rows] == ["churn_90d", "purchase_30d"]
    for row in rows:
        assert row[3] == 150 and row[5] == 400 and row[7:9] == (400, 150)
        assert row[2] >= row[1] and row[4] > row[3] and row[6] > row[5] and "md5" in row[9]


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(p.MAX_TRAINING_ROWS_ENV, "1234")
    monkeypatch.setenv(p.SCORING_CHUNK_ROWS_ENV, "99")
    limits = p.Limits.from_env()
    assert (limits.max_training_rows, limits.max_validation_rows, limits.scoring_chunk_rows) == (
        1234,
        p.Limits().max_validation_rows,
        99,
    )
    monkeypatch.setenv(p.MAX_VALIDATION_ROWS_ENV, "0")
    with pytest.raises(ValueError, match=p.MAX_VALIDATION_ROWS_ENV):
        p.Limits.from_env()
