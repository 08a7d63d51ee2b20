"""An incremental night gives exactly the marts a full rebuild gives on the same input.

Night 1 loads eleven days of generated extracts with the real ``cx-nightly`` (every model built from scratch).
Night 2 delivers what a real second night brings:

* the twelfth day's extracts (held back from night 1);
* late files for older days: an e-mail events file of day 5 and a POS file of day 6 that night 1 never saw;
* a re-delivery (``_r2``) of day 4's web events that drops half of its events and moves one to another cookie;
* a re-delivery (``_r2``) of day 3's contact-center file without its first contact (a small source loses a
  record: its attribution must go too);
* a re-delivery (``_r2``) of day 3's e-mail events that drops half of its events and moves one to another
  campaign, and day 12's e-mail file re-sending an event of day 2 with another address (at least once
  delivery): each moves an event from one e-mail message to another;
* a login, on day 12, of a cookie that was anonymous until then, into the webshop account of a known customer:
  stitching must hand the cookie's earlier sessions to that customer backwards.

After ``cx-nightly`` has run night 2 incrementally, a copy of the warehouse is rebuilt with
``dbt build --full-refresh`` (every model from scratch, on the same raw data and the same identity state: the
key registry and its logs are state, not derived data, and are left as they are). Every table and view of
staging, intermediate and marts must then be identical, row for row, apart from the batch stamps that say when
an incremental row was computed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.ingest import discover

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START = date(2026, 7, 20)
DAYS = 12
LAST_DAY = START + timedelta(days=DAYS - 1)
# Identity state: what the keys are and what happened to them (kept by a full rebuild, see the module doc).
IDENTITY_STATE = (
    "int_identity_node_keys",
    "int_identity_suppression_list",
    "int_identity_resolution_runs",
    "identity_history",
)
BATCH_COLUMNS = {"_batch_at", "_source_batch_at", "_changed_at"}
PLANTED_EVENT = "planted-login-0001"


def _stamp(d: date) -> str:
    return d.strftime("%Y%m%d")


def _nightly(root: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "CX_LANDING_DIR": str(root / "landing"),
        "CX_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "CX_PUBLISH_PATH": str(root / "marts.duckdb"),
        "CX_QUALITY_DIR": str(root / "quality"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    result = subprocess.run([str(BIN / "cx-nightly")], env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


def _hold_back(landing: Path, held: Path) -> None:
    """Keep from night 1: the last day, day 5's e-mail events and day 6's POS file (late files)."""
    late = {
        ("email_events", START + timedelta(days=4)),
        ("pos_transactions", START + timedelta(days=5)),
    }
    for landed in discover(landing).files:
        if landed.business_date == LAST_DAY or (landed.extract, landed.business_date) in late:
            target = held / landed.path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(landed.path, target)


def _redeliver_web_events(landing: Path, day: date) -> str:
    """Re-deliver day's web events as ``_r2``: every second event dropped, one event's cookie changed."""
    original = landing / "web_events" / f"web_events_{_stamp(day)}.jsonl.gz"
    events = [json.loads(line) for line in gzip.open(original, "rt", encoding="utf-8").read().splitlines()]
    kept = events[::2]
    kept[0]["anonymous_id"] = "cookie-after-redelivery"
    replacement = original.with_name(f"web_events_{_stamp(day)}_r2.jsonl.gz")
    with gzip.open(replacement, "wt", encoding="utf-8") as out:
        out.write("".join(json.dumps(event) + "\n" for event in kept))
    return kept[0]["event_id"]


def _redeliver_contacts(landing: Path, day: date) -> str:
    """Re-deliver day's contact-center file as ``_r2`` without its first contact: a small source loses a
    record. The other lines keep their bytes (encoding and separator as delivered)."""
    original = landing / "contact_center" / f"contact_center_{_stamp(day)}.csv"
    header, first, *rest = original.read_bytes().splitlines(keepends=True)
    original.with_name(f"contact_center_{_stamp(day)}_r2.csv").write_bytes(b"".join([header, *rest]))
    return first.split(b";", 1)[0].decode("ascii")


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _redeliver_email_events(landing: Path, day: date) -> str:
    """Re-deliver day's e-mail events as ``_r2``: every second event dropped, one put in another campaign."""
    folder = landing / "email_events"
    header, rows = _read_csv(folder / f"email_events_{_stamp(day)}.csv")
    kept = [row for row in rows[::2] if row["campaign_id"] and row["email"]]
    kept[0]["campaign_id"] = "CMP-AFTER-REDELIVERY"
    _write_csv(folder / f"email_events_{_stamp(day)}_r2.csv", header, kept)
    return kept[0]["event_id"]


def _resend_email_event(landing: Path, of_day: date, in_day: date) -> str:
    """Append to in_day's e-mail file an event of of_day again, now with another recipient address."""
    folder = landing / "email_events"
    _, earlier = _read_csv(folder / f"email_events_{_stamp(of_day)}.csv")
    resent = next(row for row in earlier if row["campaign_id"] and row["email"]) | {
        "email": "resent-address@example.org"
    }
    header, rows = _read_csv(folder / f"email_events_{_stamp(in_day)}.csv")
    _write_csv(folder / f"email_events_{_stamp(in_day)}.csv", header, [*rows, resent])
    return resent["event_id"]


def _plant_login(landing: Path, warehouse: Path) -> str:
    """Append to day 12's web events a login of a so far anonymous cookie into a known customer's account."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cookie = con.execute(
            """select anonymous_id from intermediate.int_web_sessions_stitched
               where stitch_method = 'anonymous' and anonymous_id is not null
               group by anonymous_id having count(*) >= 2 order by anonymous_id limit 1"""
        ).fetchall()[0][0]
        account = con.execute(
            """select orders.account_id
               from staging.stg_webshop__orders as orders
               inner join intermediate.int_records_resolved as resolved
                   on resolved.source_model = 'stg_webshop__orders' and resolved.record_id = orders.order_id
               where orders.account_id is not null and resolved.customer_key is not null
               order by orders.order_id limit 1"""
        ).fetchall()[0][0]
    path = landing / "web_events" / f"web_events_{_stamp(LAST_DAY)}.jsonl.gz"
    lines = gzip.open(path, "rt", encoding="utf-8").read()
    login = {
        "event_id": PLANTED_EVENT,
        "anonymous_id": cookie,
        "account_id": account,
        "event_type": "login",
        "url": "/inloggen",
        "sku": None,
        "ts": f"{LAST_DAY.isoformat()}T12:00:00Z",
        "user_agent": "Mozilla/5.0",
        "utm_source": None,
        "utm_campaign": None,
    }
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(lines + json.dumps(login) + "\n")
    return cookie


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("incremental")
    landing, held = root / "landing", root / "held"
    subprocess.run(
        [str(BIN / "cx-generate"), "--out", str(landing), "--truth-dir", str(root / "truth"),
         "--customers", "800", "--days", str(DAYS), "--seed", "7", "--start-date", START.isoformat()],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    _hold_back(landing, held)
    _nightly(root)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        night1_sessionized = con.execute(
            "select count(*) from intermediate.int_web_events_sessionized"
        ).fetchall()

    shutil.copytree(held, landing, dirs_exist_ok=True)
    moved_event = _redeliver_web_events(landing, START + timedelta(days=3))
    moved_email = _redeliver_email_events(landing, START + timedelta(days=2))
    withdrawn_contact = _redeliver_contacts(landing, START + timedelta(days=2))
    resent_email = _resend_email_event(landing, START + timedelta(days=1), LAST_DAY)
    cookie = _plant_login(landing, root / "warehouse.duckdb")
    night2 = _nightly(root)

    rebuilt = root / "rebuilt.duckdb"
    shutil.copyfile(root / "warehouse.duckdb", rebuilt)
    subprocess.run(
        [str(BIN / "dbt"), "build", "--profiles-dir", ".", "--full-refresh", "--quiet",
         "--exclude", "bi_customer_propensity", *IDENTITY_STATE],
        cwd=REPO_ROOT / "dbt_project", env=os.environ | {"CX_WAREHOUSE_PATH": str(rebuilt)},
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return {
        "incremental": root / "warehouse.duckdb",
        "rebuilt": rebuilt,
        "night2": night2,
        "cookie": cookie,
        "moved_event": moved_event,
        "moved_email": moved_email,
        "withdrawn_contact": withdrawn_contact,
        "resent_email": resent_email,
        "night1_sessionized": night1_sessionized[0][0],
    }


def _relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        """select table_schema, table_name from information_schema.tables
           where table_catalog = 'incremental' and table_schema in ('staging', 'intermediate', 'marts')
           order by 1, 2"""
    ).fetchall()


def test_an_incremental_night_equals_a_full_rebuild(nights):
    con = duckdb.connect()
    con.execute(f"attach '{nights['incremental']}' as incremental (read_only)")
    con.execute(f"attach '{nights['rebuilt']}' as rebuilt (read_only)")
    relations = [(s, t) for s, t in _relations(con) if t not in IDENTITY_STATE]
    assert len(relations) > 40
    differences = {}
    for schema, table in relations:
        columns = [
            row[0]
            for row in con.execute(
                """select column_name from information_schema.columns
                   where table_catalog = 'incremental' and table_schema = ? and table_name = ?
                   order by ordinal_position""",
                [schema, table],
            ).fetchall()
            if row[0] not in BATCH_COLUMNS
        ]
        projection = ", ".join(f'"{c}"' for c in columns)
        a, b = f"incremental.{schema}.{table}", f"rebuilt.{schema}.{table}"
        only_incremental = con.execute(
            f"select count(*) from (select {projection} from {a} except all select {projection} from {b})"
        ).fetchall()[0][0]
        only_rebuilt = con.execute(
            f"select count(*) from (select {projection} from {b} except all select {projection} from {a})"
        ).fetchall()[0][0]
        if only_incremental or only_rebuilt:
            differences[f"{schema}.{table}"] = (only_incremental, only_rebuilt)
    assert differences == {}


def test_the_incremental_night_recomputed_only_what_changed(nights):
    with duckdb.connect(str(nights["incremental"]), read_only=True) as con:
        batches = con.execute(
            """select _batch_at, count(*) from intermediate.int_web_events_sessionized
               group by 1 order by 1"""
        ).fetchall()
        total = sum(n for _, n in batches)
    assert len(batches) == 2, "night 1 stamped every visitor, night 2 only the affected ones"
    assert batches[-1][1] < total / 2
    assert total > nights["night1_sessionized"] / 2


def test_the_late_files_and_the_redelivery_were_picked_up(nights):
    with duckdb.connect(str(nights["incremental"]), read_only=True) as con:
        loaded = set(
            con.execute(
                """select "extract", business_date, delivery_no
                   from raw._load_manifest where status = 'loaded'"""
            ).fetchall()
        )
        moved = con.execute(
            "select anonymous_id from staging.stg_web__events where event_id = ?", [nights["moved_event"]]
        ).fetchall()
    assert ("email_events", START + timedelta(days=4), 1) in loaded
    assert ("pos_transactions", START + timedelta(days=5), 1) in loaded
    assert ("web_events", START + timedelta(days=3), 2) in loaded
    assert ("email_events", START + timedelta(days=2), 2) in loaded
    assert moved == [("cookie-after-redelivery",)]


def test_moved_email_events_moved_their_messages(nights):
    """The e-mail messages that lost an event (re-delivery, re-sent copy) were summarised again."""
    with duckdb.connect(str(nights["incremental"]), read_only=True) as con:
        moved = con.execute(
            """select campaign_id, email from staging.stg_esp__email_events where event_id in (?, ?)
               order by campaign_id""",
            [nights["moved_email"], nights["resent_email"]],
        ).fetchall()
        messages = con.execute(
            """select message_key from intermediate.int_email_messages_summarized
               where campaign_id = 'CMP-AFTER-REDELIVERY' or email = 'resent-address@example.org'"""
        ).fetchall()
    assert [row[0] == "CMP-AFTER-REDELIVERY" for row in moved] == [True, False]
    assert moved[1][1] == "resent-address@example.org"
    assert len(messages) == 2


def test_a_new_login_stitches_the_cookies_earlier_sessions_backwards(nights):
    with duckdb.connect(str(nights["incremental"]), read_only=True) as con:
        customer_key = con.execute(
            "select customer_key from intermediate.int_records_resolved where record_id = ?", [PLANTED_EVENT]
        ).fetchall()[0][0]
        sessions = con.execute(
            """select customer_key, stitch_method from intermediate.int_web_sessions_stitched
               where anonymous_id = ? order by started_at""",
            [nights["cookie"]],
        ).fetchall()
        touchpoints = con.execute(
            """select count(*) from marts.fct_touchpoints
               where channel = 'web' and customer_key = ? and session_id in (
                   select session_id from intermediate.int_web_sessions_stitched where anonymous_id = ?)""",
            [customer_key, nights["cookie"]],
        ).fetchall()[0][0]
    assert customer_key is not None
    assert len(sessions) >= 3
    assert {key for key, _ in sessions} == {customer_key}
    assert {method for _, method in sessions[:-1]} == {"backward"}
    assert touchpoints >= len(sessions)


# Event-scale relations: an incremental night reads only the affected part of each. DuckDB materialises a CTE
# that a query reads more than once; when such a CTE is a plain import of one of these (`select * from` it,
# no filter), the night copies the whole table into memory and spill (the 1M-customer night ran out of disk).
EVENT_SCALE = {
    "staging.stg_web__events",
    "staging.stg_esp__email_events",
    "staging.stg_pos__transaction_lines",
    "intermediate.int_identity_record_identifiers",
    "intermediate.int_records_resolved",
    "intermediate.int_web_events_sessionized",
    "intermediate.int_web_sessions_stitched",
    "intermediate.int_touchpoints_unioned",
    "raw.web_events",
    "raw.email_events",
    "raw.pos_transactions",
}


def _whole_table_ctes(plan: list[dict]) -> list[tuple[str, str]]:
    """(CTE name, table) of each materialised CTE of a DuckDB JSON plan that is a whole table (projections
    over an unfiltered scan)."""

    def bare_scan(node: dict) -> str | None:
        children = node.get("children", [])
        if node["name"] == "PROJECTION":
            return bare_scan(children[0]) if len(children) == 1 else None
        if node["name"] in {"SEQ_SCAN", "TABLE_SCAN"} and not node.get("extra_info", {}).get("Filters"):
            return node["extra_info"].get("Table")
        return None

    found: list[tuple[str, str]] = []

    def walk(node: dict) -> None:
        if node["name"] == "CTE":
            table = bare_scan(node["children"][0])
            if table:
                found.append((node["extra_info"].get("CTE Name"), table))
        for child in node.get("children", []):
            walk(child)

    for root in plan:
        walk(root)
    return found


def test_no_incremental_model_materialises_a_whole_event_table(nights, tmp_path):
    """The incremental SQL of each incremental model, as DuckDB plans it tonight, copies no event table."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(nights["incremental"], warehouse)
    target = tmp_path / "target"
    subprocess.run(
        [str(BIN / "dbt"), "compile", "--profiles-dir", ".", "--quiet", "--target-path", str(target),
         "--select", "config.materialized:incremental,resource_type:model"],
        cwd=REPO_ROOT / "dbt_project", env=os.environ | {"CX_WAREHOUSE_PATH": str(warehouse)},
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    nodes = json.loads((target / "manifest.json").read_text())["nodes"].values()
    models = {
        node["name"]: node["compiled_code"]
        for node in nodes
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }
    assert {"int_web_events_sessionized", "int_email_messages_summarized", "stg_web__events"} <= models.keys()
    copied = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, sql in sorted(models.items()):
            assert "is_incremental" not in sql
            plan = json.loads(con.execute("explain (format json) " + sql).fetchall()[0][1])
            whole = [(cte, t) for cte, t in _whole_table_ctes(plan) if t.split(".", 1)[1] in EVENT_SCALE]
            if whole:
                copied[name] = whole
    assert copied == {}


def test_attributions_recomputed_unchanged_keep_their_changed_at(nights):
    """int_records_resolved stamps _changed_at only where an attribution changed (downstream reads those)."""
    with duckdb.connect(str(nights["incremental"]), read_only=True) as con:
        night2 = con.execute("select max(_batch_at) from intermediate.int_records_resolved").fetchall()[0][0]
        recomputed, changed = con.execute(
            """select count(*), count(*) filter (where _changed_at = ?)
               from intermediate.int_records_resolved where _batch_at = ?""",
            [night2, night2],
        ).fetchall()[0]
        planted = con.execute(
            "select _changed_at from intermediate.int_records_resolved where record_id = ?", [PLANTED_EVENT]
        ).fetchall()
        stitched_cookie = con.execute(
            """select count(*), count(*) filter (where resolved._changed_at = ?)
               from intermediate.int_records_resolved as resolved
               inner join staging.stg_web__events as events
                   on resolved.source_model = 'stg_web__events' and resolved.record_id = events.event_id
               where events.anonymous_id = ? and events.event_id <> ?""",
            [night2, nights["cookie"], PLANTED_EVENT],
        ).fetchall()[0]
    assert planted == [(night2,)]
    assert 0 < changed < recomputed
    # the cookie's earlier events now attribute to the customer it logged in as: changed tonight
    assert stitched_cookie[0] > 0 and stitched_cookie[1] == stitched_cookie[0]


def test_identifier_rows_recomputed_unchanged_keep_their_changed_at(nights):
    """int_identity_record_identifiers reads the small sources whole every night but moves _changed_at only
    for records whose rows changed; int_records_resolved attributes again only those and the records with an
    identifier that resolves differently."""
    with duckdb.connect(str(nights["incremental"]), read_only=True) as con:
        night2 = con.execute(
            "select max(_batch_at) from intermediate.int_identity_record_identifiers"
        ).fetchall()[0][0]
        crm, recomputed, changed = con.execute(
            """select count(distinct record_id), count(distinct record_id) filter (where _batch_at = ?),
                      count(distinct record_id) filter (where _changed_at = ?)
               from intermediate.int_identity_record_identifiers where source_model = 'stg_crm__customers'""",
            [night2, night2],
        ).fetchall()[0]
        planted = con.execute(
            """select distinct _changed_at from intermediate.int_identity_record_identifiers
               where record_id = ?""",
            [PLANTED_EVENT],
        ).fetchall()
        night1_resolved = con.execute(
            """select max(_batch_at) from intermediate.int_records_resolved
               where _batch_at < (select max(_batch_at) from intermediate.int_records_resolved)"""
        ).fetchall()[0][0]
        reattributed = {
            row[0]
            for row in con.execute(
                """select record_id from intermediate.int_records_resolved
                   where source_model = 'stg_crm__customers' and _batch_at > ?""",
                [night1_resolved],
            ).fetchall()
        }
        expected = {
            row[0]
            for row in con.execute(
                """select identifiers.record_id
                   from intermediate.int_identity_record_identifiers as identifiers
                   left join intermediate.int_identity_node_resolutions as resolutions
                       on identifiers.node_id = resolutions.node_id
                   where identifiers.source_model = 'stg_crm__customers'
                       and (identifiers._changed_at > ? or resolutions._changed_at > ?)""",
                [night1_resolved, night1_resolved],
            ).fetchall()
        }
    assert recomputed == crm, "every CRM record is recomputed every night"
    assert 0 < changed < crm, "day 12's new and changed CRM records, not the others"
    assert planted == [(night2,)]
    assert reattributed == expected
    assert 0 < len(reattributed) < crm


def test_a_withdrawn_contact_lost_its_identifiers_and_attribution(nights):
    with duckdb.connect(str(nights["incremental"]), read_only=True) as con:
        left = [
            con.execute(
                f"""select count(*) from {table}
                    where source_model = 'stg_contact_center__contacts' and record_id = ?""",
                [nights["withdrawn_contact"]],
            ).fetchall()[0][0]
            for table in ("intermediate.int_identity_record_identifiers", "intermediate.int_records_resolved")
        ]
        contacts = con.execute(
            """select count(*) from intermediate.int_records_resolved
               where source_model = 'stg_contact_center__contacts'"""
        ).fetchall()[0][0]
    assert left == [0, 0]
    assert contacts > 0
