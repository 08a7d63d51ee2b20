"""`make run`'s nightly build on a landing tree someone else wrote: another year, every bad delivery.

Runs the real entry point (``cx-nightly``) in a subprocess with all paths in a temporary directory, so it
exercises exactly what `make run` does with ``CX_LANDING_DIR`` pointed at a foreign delivery.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.integration.foreign_delivery import EXPECTED_BAD_FILES, write_foreign_tree

pytestmark = pytest.mark.integration

CX_NIGHTLY = Path(sys.executable).with_name("cx-nightly")


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    root = tmp_path_factory.mktemp("foreign")
    write_foreign_tree(root / "landing")
    env = os.environ | {
        "CX_LANDING_DIR": str(root / "landing"),
        "CX_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "CX_PUBLISH_PATH": str(root / "marts.duckdb"),
        "CX_QUALITY_DIR": str(root / "quality"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    result = subprocess.run([str(CX_NIGHTLY)], env=env, capture_output=True, text=True, timeout=900)
    return result, root / "warehouse.duckdb"


@pytest.fixture(scope="module")
def warehouse(nightly) -> duckdb.DuckDBPyConnection:
    with duckdb.connect(str(nightly[1]), read_only=True) as con:
        yield con


def test_the_nightly_run_succeeds_and_reports_the_foreign_files(nightly):
    result, _ = nightly
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "3 business dates" in result.stdout
    assert "README.txt" in result.stdout  # a stray file is reported, not silently ignored


def test_every_file_balances_rows_in_with_loaded_plus_rejected(warehouse):
    rows = warehouse.sql(
        "select file_name, rows_in, rows_loaded, rows_rejected from raw._load_manifest"
    ).fetchall()
    assert len(rows) == 26
    assert [r for r in rows if r[1] != r[2] + r[3]] == []
    rejects = dict(warehouse.sql("select file_name, count(*) from raw._rejects group by 1").fetchall())
    for file_name, _, _, rejected in rows:
        if file_name != "pos_transactions_20191026.csv":  # replaced by its _r2: its rejects go with it
            assert rejects.get(file_name, 0) == rejected, file_name


def test_bad_files_are_rejected_whole_with_a_reason(warehouse):
    status = {
        name: (st, reason or "")
        for name, st, reason in warehouse.sql(
            "select file_name, status, reason from raw._load_manifest"
        ).fetchall()
    }
    for name, word in EXPECTED_BAD_FILES.items():
        assert status[name][0] in {"rejected", "malformed"}, name
        assert word in status[name][1].lower(), status[name]
    assert status["pos_transactions_20191026.csv"][0] == "replaced"


def test_raw_and_staging_hold_the_good_rows(warehouse):
    def count(relation: str) -> int:
        return warehouse.sql(f"select count(*) from {relation}").fetchall()[0][0]

    assert count("staging.stg_crm__customers") == 4  # C1..C4; C5, C6 and the keyless row rejected
    assert count("staging.stg_pos__transaction_lines") == 2  # the _r2 file only, one bad line rejected
    assert count("staging.stg_web__events") == 2  # E1, E2 (E2 re-sent: one row); E3 unknown type
    assert count("staging.stg_contact_center__contacts") == 1
    # The latest version of order O1 wins; its return is there.
    assert warehouse.sql("select status from staging.stg_webshop__orders").fetchall() == [("delivered",)]
    assert count("staging.stg_webshop__order_returns") == 1
    # 2019-10-27 02:30 in the repeated autumn hour is read as its first occurrence (summer time, +02:00).
    assert warehouse.sql(
        "select cast(updated_at as varchar) from staging.stg_crm__customers where crm_id = 'C1'"
    ).fetchall() == [("2019-10-27 00:30:00",)]


def test_the_extra_column_is_loaded_and_recorded(warehouse):
    assert (
        warehouse.sql(
            "select extra_columns from raw._load_manifest where file_name = 'crm_customers_20191027.csv'"
        ).fetchall()[0][0]
        == "loyalty_tier"
    )
    assert warehouse.sql("select _extra from raw.crm_customers where _extra is not null").fetchall() == [
        ('{"loyalty_tier":"gold"}',)
    ]


def test_downstream_marts_are_built(warehouse):
    assert warehouse.sql("select count(*) from marts.dim_customer").fetchall()[0][0] >= 3
    assert warehouse.sql("select count(*) from marts.fct_touchpoints").fetchall()[0][0] > 0
    # Three days cannot train a 90-day churn model: it is recorded as not trained, not faked or failed.
    statuses = warehouse.sql("select distinct status from marts.model_metrics").fetchall()
    assert statuses == [("not_trained",)]


def test_the_published_file_holds_every_contract_table(nightly):
    _, warehouse_path = nightly
    with duckdb.connect(str(warehouse_path.with_name("marts.duckdb")), read_only=True) as published:
        tables = {name for (name,) in published.sql("select table_name from duckdb_tables()").fetchall()}
        assert {"dim_customer", "fct_touchpoints", "fct_contacts", "mart_satisfaction"} <= tables
        assert "customer_propensity" in tables
        assert published.sql("select count(*) from customer_propensity").fetchall() == [(0,)]
