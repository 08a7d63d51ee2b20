"""Write-audit-publish on real DuckDB files: good data publishes every contract table; each planted bad
output blocks the publish and leaves the published file byte-identical; a missing contract table is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.publish import CONTRACT_TABLES, TABLES_BY_NAME, PublishBlocked, file_sha256, publish
from cx_warehouse.publish.testing import build_sample_warehouse

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def last_good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A good warehouse and its first publish, built once: the tests work on copies."""
    root = tmp_path_factory.mktemp("last_good")
    warehouse = root / "warehouse.duckdb"
    build_sample_warehouse(warehouse)
    target = root / "bi" / "marts.duckdb"
    publish(warehouse, target, run_id="good-1")
    return warehouse, target


@pytest.fixture
def warehouse(tmp_path: Path, last_good: tuple[Path, Path]) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(last_good[0], path)
    return path


@pytest.fixture
def published(tmp_path: Path, last_good: tuple[Path, Path]) -> Path:
    """The last good published file, which every blocked publish must leave byte-identical."""
    target = tmp_path / "bi" / "marts.duckdb"
    target.parent.mkdir()
    shutil.copyfile(last_good[1], target)
    return target


def plant(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


def assert_blocked(warehouse: Path, target: Path, *expected: str) -> PublishBlocked:
    before = target.read_bytes()
    with pytest.raises(PublishBlocked) as blocked:
        publish(warehouse, target, run_id="bad-1")
    assert target.read_bytes() == before, "a blocked publish changed the published file"
    text = str(blocked.value)
    for fragment in expected:
        assert fragment in text, text
    assert not list(target.parent.glob(".*.tmp*")), "a blocked publish left a temporary file"
    return blocked.value


def test_good_data_publishes_every_contract_table(tmp_path: Path, warehouse: Path) -> None:
    target = tmp_path / "bi" / "marts.duckdb"
    result = publish(warehouse, target, run_id="good-1")
    assert result.previous_sha256 is None and result.sha256 == file_sha256(target)
    with duckdb.connect(str(target), read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'"
            ).fetchall()
        }
        assert set(CONTRACT_TABLES) <= tables
        for name in CONTRACT_TABLES:
            columns = {r[0] for r in con.execute(f"describe main.{name}").fetchall()}
            assert set(TABLES_BY_NAME[name].required_columns) <= columns
            (rows,) = con.execute(f"select count(*) from main.{name}").fetchall()[0]
            assert rows == result.tables[name] > 0
        assert con.execute("select run_id from meta.publish_info").fetchall() == [("good-1",)]
        # the published file holds tables, not views over a warehouse BI tools cannot see
        assert con.execute("select count(*) from duckdb_views() where not internal").fetchall() == [(0,)]
        assert not con.execute(
            "select 1 from information_schema.columns where table_schema = 'main' and column_name in "
            "('email', 'first_name', 'last_name', 'phone', 'birth_date', 'postcode')"
        ).fetchall()
    report = target.parent / "quality" / "good-1"
    assert (report / "index.html").exists()
    stored = json.loads((report / "customer_propensity.json").read_text())
    assert stored["outcome"]["success"] and stored["gx_result"]["success"]
    drift = json.loads((report / "drift__customer_propensity.json").read_text())["outcome"]
    assert drift["skipped"] and "first publish" in drift["notes"][0]


def test_second_good_publish_replaces_the_file_and_compares_drift(warehouse: Path, published: Path) -> None:
    before = file_sha256(published)
    result = publish(warehouse, published, run_id="good-2")
    assert result.previous_sha256 == before
    drift = json.loads(
        (published.parent / "quality" / "good-2" / "drift__mart_satisfaction.json").read_text()
    )
    assert drift["outcome"]["success"] and not drift["outcome"]["skipped"]


def test_propensity_above_one_blocks_the_publish(warehouse: Path, published: Path) -> None:
    plant(
        warehouse, "update marts.customer_propensity set churn_propensity = 1.2 where churn_propensity > 0.9"
    )
    blocked = assert_blocked(warehouse, published, "customer_propensity", "churn_propensity")
    assert blocked.gate is not None and not blocked.gate.passed


def test_duplicated_customer_key_blocks_the_publish(warehouse: Path, published: Path) -> None:
    plant(warehouse, "insert into marts.dim_customer select * from marts.dim_customer limit 1")
    assert_blocked(warehouse, published, "dim_customer", "expect_column_values_to_be_unique(customer_key)")


def test_satisfaction_missing_a_days_channel_blocks_the_publish(warehouse: Path, published: Path) -> None:
    plant(
        warehouse,
        """delete from marts.mart_satisfaction
           where ("date", channel) = (select ("date", channel) from marts.mart_satisfaction
                                       where survey_type = 'post_contact' order by 1 limit 1)""",
    )
    assert_blocked(warehouse, published, "mart_satisfaction_completeness", "responses_difference")


def test_pii_column_in_a_bi_mart_blocks_the_publish(warehouse: Path, published: Path) -> None:
    plant(
        warehouse,
        "create or replace view bi.fct_contacts as "
        "select c.*, d.email from marts.fct_contacts c left join marts.dim_customer d using (customer_key)",
    )
    assert_blocked(warehouse, published, "pii_guard__fct_contacts", "e-mail address")


def test_pii_values_under_an_innocent_column_name_block_the_publish(warehouse: Path, published: Path) -> None:
    plant(
        warehouse,
        "create or replace view bi.dim_customer as "
        "select customer_key, first_seen_at, last_seen_at, lifecycle_stage, is_marketing_opted_in, "
        "phone as segment from marts.dim_customer",
    )
    assert_blocked(warehouse, published, "pii_guard__dim_customer", "phone number")


def test_missing_contract_table_blocks_with_a_clear_reason(warehouse: Path, published: Path) -> None:
    plant(warehouse, "drop view bi.customer_propensity", "drop table marts.customer_propensity")
    assert_blocked(warehouse, published, "marts.customer_propensity does not exist")


def test_bi_view_without_a_required_column_blocks(warehouse: Path, published: Path) -> None:
    plant(
        warehouse,
        "create or replace view bi.fct_contacts as "
        "select contact_id, customer_key, channel from marts.fct_contacts",
    )
    assert_blocked(
        warehouse, published, "bi.fct_contacts lacks required column(s): reason, is_first_contact_resolution"
    )


def test_drift_outside_bounds_blocks_unless_accepted(warehouse: Path, published: Path) -> None:
    plant(
        warehouse, "update marts.customer_propensity set churn_propensity = least(1, churn_propensity + 0.3)"
    )
    assert_blocked(warehouse, published, "drift__customer_propensity", "mean_churn_propensity_delta")
    result = publish(warehouse, published, run_id="accepted", accept_drift=True)
    notes = [n for o in result.gate.outcomes for n in o.notes]
    assert any("ACCEPTED" in n for n in notes)


def test_first_publish_with_bad_data_creates_no_file(tmp_path: Path, warehouse: Path) -> None:
    plant(warehouse, "update marts.customer_propensity set purchase_propensity_30d = -0.1")
    target = tmp_path / "bi" / "marts.duckdb"
    with pytest.raises(PublishBlocked):
        publish(warehouse, target, run_id="bad-first")
    assert not target.exists()
