"""Journeys, touchpoints and service marts on a small generated warehouse.

Checks (on generated data spanning the autumn DST change):

* ``dbt build`` of the journey, service and engagement marts and everything upstream passes (their unit tests
  and data tests included);
* every customer-level fact's customer_key exists in dim_customer;
* touchpoints per channel reconcile with staging row counts, computed here from staging alone:
  web = sessions (30-minute inactivity rule, recomputed here) + key web events (search, add_to_cart, login,
  checkout_start, order_complete, help_page_view); store = distinct receipts; webshop = orders + cancelled
  orders + delivered orders + return lines; contact_center = contacts; email = open / click / unsubscribe /
  complaint events; social = distinct conversations; survey = responses;
* backward stitching: sessions that were anonymous after a first nightly run are attributed on the next run
  once their cookie logs in, and no session of a cookie that ever logged in stays anonymous (unless erased);
* first-contact resolution: no FCR contact has a same-customer, same-reason contact within 168 h after it;
* the marts hold no personal data (the publish step's PII guard, by column name and content).

The build helper is deliberately small; the lead will move shared fixtures to a conftest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.generator.engine import generate
from cx_warehouse.ingest import ensure_raw_schema, load_all
from cx_warehouse.quality.pii import scan_relation

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
SELECTION = ("+models/marts/journeys", "+models/marts/service", "+models/marts/engagement")
CUSTOMER_FACTS = (
    "fct_touchpoints",
    "fct_contacts",
    "fct_web_sessions",
    "fct_journeys",
    "fct_pain_points",
    "mart_customer_email_engagement",
)
MARTS = (
    *CUSTOMER_FACTS,
    "mart_journey_funnel",
    "mart_pain_point_impact",
    "mart_social_sla",
    "mart_email_engagement",
    "mart_touchpoint_reconciliation",
)
START = date(2026, 10, 1)
START_CUSTOMERS = 600
KEY_WEB_EVENTS = "('search', 'add_to_cart', 'login', 'checkout_start', 'order_complete', 'help_page_view')"

# Expected touchpoints per channel, from staging only.
STAGING_TOUCHPOINTS = f"""
with web_lags as (
    select
        occurred_at,
        lag(occurred_at) over (partition by anonymous_id order by occurred_at, event_id) as previous_at
    from staging.stg_web__events
),
web_gaps as (
    select
        case
            when previous_at is null or occurred_at >= previous_at + interval 30 minute then 1 else 0
        end as is_new_session
    from web_lags
)
select 'web', (select sum(is_new_session) from web_gaps)
    + (select count(*) from staging.stg_web__events where event_type in {KEY_WEB_EVENTS})
union all
select 'store', count(distinct transaction_id) from staging.stg_pos__transaction_lines
union all
select 'webshop',
    (select count(*) + count(*) filter (where is_cancelled)
        + count(*) filter (where coalesce(delivered_at, first_delivered_at) is not null)
     from staging.stg_webshop__orders)
    + (select count(*) from staging.stg_webshop__order_returns)
union all
select 'contact_center', count(*) from staging.stg_contact_center__contacts
union all
select 'email', count(*) from staging.stg_esp__email_events
where event_type in ('open', 'click', 'unsubscribe', 'complaint')
union all
select 'social', count(distinct coalesce(conversation_id, 'message:' || message_id))
from staging.stg_social__messages
union all
select 'survey', count(*) from staging.stg_survey__responses
"""


def load_landing(warehouse: Path, landing: Path, dates: list[date] | None = None) -> None:
    """Load the landing files (of ``dates`` only, when given) not loaded before into ``warehouse``."""
    con = duckdb.connect(str(warehouse))
    try:
        ensure_raw_schema(con)
        load_all(con, landing, run_id="test", dates=dates)
    finally:
        con.close()


def build_journeys(warehouse: Path, work_dir: Path) -> None:
    """``dbt build`` of the journey, service and engagement marts and everything upstream."""
    env = {
        **os.environ,
        "CX_WAREHOUSE_PATH": str(warehouse),
        "CX_PSEUDONYM_SALT": "test-salt",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        str(DBT),
        "build",
        "--profiles-dir",
        str(DBT_PROJECT),
        "--project-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work_dir / "dbt_target"),
        "--log-path",
        str(work_dir / "dbt_logs"),
        "--indirect-selection",
        "cautious",
        "--select",
        *SELECTION,
    ]
    result = subprocess.run(command, cwd=DBT_PROJECT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"


def anonymous_sessions(warehouse: Path) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select session_id from intermediate.int_web_sessions_stitched where customer_key is null"
        ).fetchall()
    finally:
        con.close()
    return {row[0] for row in rows}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """Two nightly runs: the first 20 business days, then all 35 (from 1 October 2026, so the autumn DST
    change is in the data). Returns the warehouse and the sessions that were anonymous after the first run."""
    root = tmp_path_factory.mktemp("journeys")
    landing = root / "landing"
    generate(out=landing, truth_dir=root / "truth", customers=START_CUSTOMERS, days=35, start_date=START)
    warehouse = root / "warehouse.duckdb"
    load_landing(warehouse, landing, dates=[START + timedelta(days=d) for d in range(20)])
    build_journeys(warehouse, root)
    anonymous_after_first_run = anonymous_sessions(warehouse)
    load_landing(warehouse, landing)
    build_journeys(warehouse, root)
    return warehouse, anonymous_after_first_run


@pytest.fixture(scope="module")
def warehouse(two_runs: tuple[Path, set[str]]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(two_runs[0]), read_only=True)
    yield con
    con.close()


def test_earlier_anonymous_sessions_are_stitched_on_the_next_run(
    two_runs: tuple[Path, set[str]], warehouse: duckdb.DuckDBPyConnection
) -> None:
    _, anonymous_after_first_run = two_runs
    now = dict(
        warehouse.execute(
            "select session_id, stitch_method from intermediate.int_web_sessions_stitched "
            "where customer_key is not null"
        ).fetchall()
    )
    restitched = {s: now[s] for s in anonymous_after_first_run if s in now}
    assert restitched, "no session anonymous after the first run was attributed on the second"
    assert "backward" in restitched.values()


@pytest.mark.parametrize("fact", CUSTOMER_FACTS)
def test_customer_keys_exist_in_dim_customer(warehouse: duckdb.DuckDBPyConnection, fact: str) -> None:
    rows, keyed, orphans = warehouse.execute(
        f"""
        select count(*), count(f.customer_key), count(f.customer_key) filter (where d.customer_key is null)
        from marts.{fact} as f
        left join marts.dim_customer as d on f.customer_key = d.customer_key
        """
    ).fetchone()
    assert rows > 0, f"{fact} is empty"
    assert keyed > 0, f"{fact} has no customer-level rows"
    assert orphans == 0, f"{fact}: {orphans} customer_key values not in dim_customer"


def test_touchpoints_reconcile_with_staging(warehouse: duckdb.DuckDBPyConnection) -> None:
    expected = dict(warehouse.execute(STAGING_TOUCHPOINTS).fetchall())
    actual = dict(
        warehouse.execute("select channel, count(*) from marts.fct_touchpoints group by channel").fetchall()
    )
    assert set(expected) == {"web", "store", "webshop", "contact_center", "email", "social", "survey"}
    assert all(expected[c] > 0 for c in expected), expected
    assert actual == expected
    unreconciled = warehouse.execute(
        "select channel, counting_rule from marts.mart_touchpoint_reconciliation where not is_reconciled"
    ).fetchall()
    assert unreconciled == []


def test_touchpoint_stages_come_from_the_taxonomy(warehouse: duckdb.DuckDBPyConnection) -> None:
    stages = {
        row[0]
        for row in warehouse.execute("select distinct journey_stage from marts.fct_touchpoints").fetchall()
    }
    taxonomy = {
        row[0]
        for row in warehouse.execute("select journey_stage from intermediate.journey_stages").fetchall()
    }
    assert None not in stages
    assert (
        stages
        <= taxonomy
        == {"awareness", "consideration", "purchase", "delivery", "usage_service", "loyalty_advocacy"}
    )


def test_sessions_of_cookies_that_logged_in_are_stitched(warehouse: duckdb.DuckDBPyConnection) -> None:
    stitched = warehouse.execute(
        """
        with login_cookies as (
            select visitor_id from intermediate.int_web_sessions_stitched
            group by visitor_id
            having count(*) filter (where stitch_method in ('login', 'erased')) > 0
        )
        select
            count(*) filter (where s.stitch_method = 'backward'),
            count(*) filter (where s.customer_key is null and s.stitch_method <> 'erased')
        from intermediate.int_web_sessions_stitched as s
        inner join login_cookies using (visitor_id)
        """
    ).fetchone()
    backward, anonymous = stitched
    assert backward > 0, "no anonymous session was stitched backwards"
    assert anonymous == 0


def test_first_contact_resolution_has_no_repeat_within_168h(warehouse: duckdb.DuckDBPyConnection) -> None:
    violations, fcr = warehouse.execute(
        """
        select
            count(*) filter (where exists (
                select 1 from marts.fct_contacts as later
                where later.customer_key = c.customer_key
                    and later.reason = c.reason
                    and later.contact_id <> c.contact_id
                    and (
                        later.started_at > c.started_at
                        or (later.started_at = c.started_at and later.contact_id > c.contact_id)
                    )
                    and later.started_at <= c.started_at + interval 168 hour
            )),
            count(*)
        from marts.fct_contacts as c
        where c.is_first_contact_resolution and c.fcr_basis = 'customer_history'
        """
    ).fetchone()
    assert fcr > 0
    assert violations == 0
    not_resolved = warehouse.execute(
        "select count(*) from marts.fct_contacts where is_first_contact_resolution and outcome <> 'opgelost'"
    ).fetchone()[0]
    assert not_resolved == 0


@pytest.mark.parametrize("mart", MARTS)
def test_marts_hold_no_personal_data(warehouse: duckdb.DuckDBPyConnection, mart: str) -> None:
    findings = scan_relation(warehouse, "marts", mart)
    assert findings == [], [f.describe() for f in findings]
