"""Loading landing files into a real DuckDB warehouse file: good deliveries and every bad-delivery case."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.ingest import FileResult, load_all, load_day
from cx_warehouse.ingest import loader as loader_module

DAY = date(2026, 1, 5)
CRM_COLS = [
    "crm_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "postcode",
    "house_number",
    "city",
    "gender",
    "loyalty_card_no",
    "marketing_opt_in",
    "created_at",
    "updated_at",
]
CC_COLS = [
    "contact_id",
    "case_id",
    "channel",
    "customer_phone",
    "customer_email",
    "crm_id",
    "started_at",
    "ended_at",
    "wait_seconds",
    "handle_seconds",
    "reason",
    "outcome",
    "agent_id",
    "transfer_count",
]
SURVEY_COLS = [
    "response_id",
    "survey_type",
    "touchpoint_ref",
    "respondent_email",
    "crm_id",
    "responded_at",
    "nps",
    "csat",
    "ces",
    "effectiveness",
    "ease",
    "emotion",
    "comment",
]


def crm_values(crm_id: str, **overrides: str) -> list[str]:
    row = {
        "crm_id": crm_id,
        "first_name": "Jan",
        "last_name": "Jansen",
        "email": f"{crm_id.lower()}@example.nl",
        "phone": "0612345678",
        "birth_date": "05-01-1980",
        "postcode": "1234AB",
        "house_number": "12",
        "city": "Utrecht",
        "gender": "M",
        "loyalty_card_no": "L" + crm_id,
        "marketing_opt_in": "J",
        "created_at": "2026-01-05 09:00:00",
        "updated_at": "2026-01-05 09:30:00",
    }
    row.update(overrides)
    return [row[c] for c in CRM_COLS]


def crm_csv(*rows: list[str], header: list[str] = CRM_COLS, eol: str = "\n") -> str:
    return eol.join([";".join(header), *(";".join(r) for r in rows)]) + eol


def cc_values(contact: str, **overrides: str) -> list[str]:
    row = {
        "contact_id": contact,
        "case_id": "K1",
        "channel": "telefoon",
        "customer_phone": "0612345678",
        "customer_email": "a@example.nl",
        "crm_id": "C1",
        "started_at": "2026-01-05 10:00:00",
        "ended_at": "2026-01-05 10:05:00",
        "wait_seconds": "30",
        "handle_seconds": "270",
        "reason": "bezorging",
        "outcome": "opgelost",
        "agent_id": "A7",
        "transfer_count": "0",
    }
    row.update(overrides)
    return [row[c] for c in CC_COLS]


def web_event(event_id: str, **overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "event_id": event_id,
        "anonymous_id": "cookie-1",
        "account_id": None,
        "event_type": "page_view",
        "url": "https://shop.example.nl/",
        "sku": None,
        "ts": "2026-01-05T10:00:00Z",
        "user_agent": "Mozilla/5.0",
        "utm_source": None,
        "utm_campaign": None,
    }
    event.update(overrides)
    return event


def order(
    order_id: str, items: object = None, returns: object = None, **overrides: object
) -> dict[str, object]:
    o: dict[str, object] = {
        "order_id": order_id,
        "account_id": "ACC1",
        "email": "a@example.nl",
        "ordered_at": "2026-01-05T10:00:00Z",
        "updated_at": "2026-01-05T10:00:00Z",
        "status": "placed",
        "promised_delivery_date": "2026-01-07",
        "delivered_at": None,
        "shipping_postcode": "1234AB",
        "items": items if items is not None else [{"sku": "SKU1", "qty": 1, "unit_price_eur": 9.95}],
        "returns": returns if returns is not None else [],
    }
    o.update(overrides)
    return o


def jsonl(*objs: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def write(root: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    extract = name.split("_2")[0]
    path = root / extract / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode(encoding) if isinstance(content, str) else content
    if name.endswith(".gz") and not isinstance(content, bytes):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> list[dict[str, object]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def rejects(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    return rows(con, "select * from raw._rejects order by file_name, line_no")


def assert_balanced(con: duckdb.DuckDBPyConnection) -> None:
    """rows_in = loaded + rejected for every manifest row; active files match the raw and rejects tables."""
    manifest = rows(con, "select * from raw._load_manifest")
    assert manifest
    for m in manifest:
        assert m["rows_in"] == m["rows_loaded"] + m["rows_rejected"], m
        if m["status"] == "replaced":
            continue
        (loaded,) = con.execute(
            f"select count(*) from raw.{m['extract']} where _file_name = ?", [m["file_name"]]
        ).fetchone()
        (rejected,) = con.execute(
            'select count(*) from raw._rejects where file_name = ? and "extract" = ?',
            [m["file_name"], m["extract"]],
        ).fetchone()
        assert (loaded, rejected) == (m["rows_loaded"], m["rows_rejected"]), m


def one(results: list[FileResult]) -> FileResult:
    assert len(results) == 1, results
    return results[0]


# ----------------------------------------------------------------------------------------------- good path


def test_csv_quoting_embedded_delimiter_newline_and_physical_line_numbers(landing: Path, con) -> None:
    content = (
        ";".join(CRM_COLS)
        + "\n"
        + ";".join(crm_values("C1", last_name='"de Vries; van ""Oranje"""'))
        + "\n"
        + ";".join(crm_values("C2", city='"Den\nHaag"'))
        + "\n"
        + ";".join(crm_values("C3", birth_date="31-02-1980"))
        + "\n"
        + ";".join(crm_values("C4"))
        + "\n"
    )
    write(landing, "crm_customers_20260105.csv", content)
    r = one(load_day(con, landing, "crm_customers", DAY))
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_rejected) == ("loaded", 4, 3, 1)
    loaded = rows(
        con, "select crm_id, last_name, city, _row_no, _line_no from raw.crm_customers order by _row_no"
    )
    assert [(x["crm_id"], x["_row_no"], x["_line_no"]) for x in loaded] == [
        ("C1", 1, 2),
        ("C2", 2, 3),
        ("C4", 4, 6),
    ]
    assert loaded[0]["last_name"] == 'de Vries; van "Oranje"'
    assert loaded[1]["city"] == "Den\nHaag"
    (bad,) = rejects(con)
    assert bad["line_no"] == 5  # C2 spans lines 3-4, so C3 starts on physical line 5
    assert bad["raw_line"].startswith("C3;Jan;")
    assert bad["reason"] == "unparseable date_dmy in column birth_date: '31-02-1980'"
    assert_balanced(con)


def test_multiline_reject_keeps_all_its_lines(landing: Path, con) -> None:
    content = crm_csv(crm_values("C1", city='"Den\nHaag"', gender="Q"), crm_values("C2"))
    write(landing, "crm_customers_20260105.csv", content)
    one(load_day(con, landing, "crm_customers", DAY))
    (bad,) = rejects(con)
    assert bad["line_no"] == 2
    assert "Den\nHaag" in bad["raw_line"]
    assert bad["reason"] == "unknown enum value in column gender: 'Q' (allowed: M, V, X)"
    assert con.execute("select _line_no from raw.crm_customers").fetchall() == [(4,)]


def test_bom_and_crlf_are_tolerated(landing: Path, con) -> None:
    content = "\ufeff" + crm_csv(crm_values("C1"), crm_values("C2", city='"Den\r\nHaag"'), eol="\r\n")
    write(landing, "crm_customers_20260105.csv", content)
    r = one(load_day(con, landing, "crm_customers", DAY))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 2, 0)
    got = con.execute(
        "select crm_id, updated_at, city, _line_no from raw.crm_customers order by 1"
    ).fetchall()
    assert got[0] == ("C1", datetime(2026, 1, 5, 9, 30), "Utrecht", 2)
    assert got[1][2] == "Den\r\nHaag"


def test_cp1252_contact_center_is_transcoded(landing: Path, con) -> None:
    content = ";".join(CC_COLS) + "\n" + ";".join(cc_values("K1", agent_id="Renée Müller")) + "\n"
    write(landing, "contact_center_20260105.csv", content, encoding="cp1252")
    r = one(load_day(con, landing, "contact_center", DAY))
    assert (r.status, r.rows_loaded) == ("loaded", 1)
    assert con.execute("select agent_id from raw.contact_center").fetchone() == ("Renée Müller",)


def test_gzip_jsonl_web_events_with_utc_offsets_and_case_insensitive_enums(landing: Path, con) -> None:
    events = [
        web_event("E1"),
        web_event("E2", ts="2026-01-05T11:30:00+01:00", event_type=" Product_View "),
        web_event("E3", ts="2026-03-29T03:30:00.250+02:00", account_id="ACC9"),
    ]
    write(landing, "web_events_20260105.jsonl.gz", jsonl(*events))
    r = one(load_day(con, landing, "web_events", DAY))
    assert (r.status, r.rows_in, r.rows_loaded) == ("loaded", 3, 3)
    got = con.execute(
        "select event_id, event_type, ts, account_id from raw.web_events order by _row_no"
    ).fetchall()
    assert got == [
        ("E1", "page_view", datetime(2026, 1, 5, 10, 0), None),
        ("E2", "product_view", datetime(2026, 1, 5, 10, 30), None),
        ("E3", "page_view", datetime(2026, 3, 29, 1, 30, 0, 250000), "ACC9"),
    ]


def test_local_timestamps_are_stored_as_delivered(landing: Path, con) -> None:
    # 02:30 on the spring DST day does not exist in Amsterdam: raw keeps it naive, dbt converts it.
    write(
        landing,
        "crm_customers_20260329.csv",
        crm_csv(crm_values("C1", created_at="2026-03-29 02:30:00", updated_at="2026-10-25 02:30:00")),
    )
    one(load_day(con, landing, "crm_customers", date(2026, 3, 29)))
    assert con.execute("select created_at, updated_at from raw.crm_customers").fetchone() == (
        datetime(2026, 3, 29, 2, 30),
        datetime(2026, 10, 25, 2, 30),
    )


def test_empty_string_and_missing_key_mean_null(landing: Path, con) -> None:
    write(
        landing, "crm_customers_20260105.csv", crm_csv(crm_values("C1", email="", gender="", birth_date=""))
    )
    event = web_event("E1")
    del event["url"]
    event["sku"] = ""
    write(landing, "web_events_20260105.jsonl.gz", jsonl(event))
    load_all(con, landing, "t")
    assert con.execute("select email, gender, birth_date from raw.crm_customers").fetchone() == (
        None,
        None,
        None,
    )
    assert con.execute("select url, sku from raw.web_events").fetchone() == (None, None)


def test_webshop_items_and_returns_go_to_child_tables(landing: Path, con) -> None:
    orders = [
        order(
            "O1",
            items=[
                {"sku": "A", "qty": 2, "unit_price_eur": 9.95},
                {"sku": "B", "qty": 1, "unit_price_eur": "5"},
            ],
            returns=[{"sku": "A", "qty": 1, "reason": "kapot", "returned_at": "2026-01-06T08:00:00Z"}],
            updated_at="2026-01-05T12:00:00+01:00",
        ),
        order("O2", items=[]),
    ]
    write(landing, "webshop_orders_20260105.jsonl", jsonl(*orders))
    r = one(load_day(con, landing, "webshop_orders", DAY))
    assert (r.rows_in, r.rows_loaded) == (2, 2)  # rows_in counts orders
    items = con.execute(
        "select order_id, updated_at, item_no, sku, qty, unit_price_eur, _row_no, _line_no "
        "from raw.webshop_order_items order by order_id, item_no"
    ).fetchall()
    assert items == [
        ("O1", datetime(2026, 1, 5, 11, 0), 1, "A", 2, Decimal("9.95"), 1, 1),
        ("O1", datetime(2026, 1, 5, 11, 0), 2, "B", 1, Decimal("5"), 1, 1),
    ]
    assert con.execute(
        "select order_id, return_no, sku, qty, reason, returned_at from raw.webshop_order_returns"
    ).fetchall() == [("O1", 1, "A", 1, "kapot", datetime(2026, 1, 6, 8, 0))]


def test_header_only_csv_and_empty_jsonl_load_zero_rows(landing: Path, con) -> None:
    write(landing, "crm_customers_20260105.csv", crm_csv())
    write(landing, "web_events_20260105.jsonl.gz", "")
    write(landing, "social_messages_20260105.jsonl", "")
    results = load_all(con, landing, "t")
    assert [(r.extract, r.status, r.rows_in) for r in results] == [
        ("crm_customers", "loaded", 0),
        ("social_messages", "loaded", 0),
        ("web_events", "loaded", 0),
    ]
    assert_balanced(con)


def test_extra_columns_are_loaded_and_recorded(landing: Path, con) -> None:
    header = [*CRM_COLS[:3], "Segment", *CRM_COLS[3:]]
    values = crm_values("C1")
    write(landing, "crm_customers_20260105.csv", crm_csv([*values[:3], "gold", *values[3:]], header=header))
    write(
        landing,
        "web_events_20260105.jsonl.gz",
        jsonl(web_event("E1", consent={"ads": True}), web_event("E2")),
    )
    results = load_all(con, landing, "t")
    assert [(r.status, r.rows_loaded, r.extra_columns) for r in results] == [
        ("loaded", 1, ("Segment",)),
        ("loaded", 2, ("consent",)),
    ]
    assert con.execute("select city, _extra from raw.crm_customers").fetchone() == (
        "Utrecht",
        '{"Segment":"gold"}',
    )
    extras = con.execute("select _extra from raw.web_events order by _row_no").fetchall()
    assert [json.loads(e) if e else None for (e,) in extras] == [{"consent": {"ads": True}}, None]
    manifest = con.execute("select extra_columns from raw._load_manifest order by file_name").fetchall()
    assert manifest == [("Segment",), ("consent",)]


def test_columns_in_another_order_and_other_case_are_matched_by_name(landing: Path, con) -> None:
    header = [c.upper() for c in reversed(CRM_COLS)]
    write(landing, "crm_customers_20260105.csv", crm_csv(list(reversed(crm_values("C1"))), header=header))
    r = one(load_day(con, landing, "crm_customers", DAY))
    assert (r.status, r.rows_loaded, r.extra_columns) == ("loaded", 1, ())
    assert con.execute("select crm_id, city from raw.crm_customers").fetchone() == ("C1", "Utrecht")


# ------------------------------------------------------------------------------------------ row rejects


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"started_at": "2026-13-01 10:00"}, "unparseable local_ts in column started_at: '2026-13-01 10:00'"),
        ({"wait_seconds": "3.5"}, "unparseable int in column wait_seconds: '3.5'"),
        ({"wait_seconds": "-4"}, "value out of range in column wait_seconds: '-4' (allowed 0..)"),
        ({"channel": "fax"}, "unknown enum value in column channel: 'fax' (allowed: telefoon, email, chat)"),
        ({"contact_id": "  "}, "missing key column contact_id"),
        (
            {"reason": "?", "transfer_count": "x"},
            "unknown enum value in column reason: '?' (allowed: bezorging, retour, betaling, product, "
            "klacht, account, overig); unparseable int in column transfer_count: 'x'",
        ),
    ],
)
def test_row_rejects_have_specific_reasons(
    landing: Path, con, overrides: dict[str, str], reason: str
) -> None:
    content = (
        ";".join(CC_COLS)
        + "\n"
        + ";".join(cc_values("K1"))
        + "\n"
        + ";".join(cc_values("K2", **overrides))
        + "\n"
        + ";".join(cc_values("K3", channel=" CHAT "))
        + "\n"
    )
    write(landing, "contact_center_20260105.csv", content, encoding="cp1252")
    r = one(load_day(con, landing, "contact_center", DAY))
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_rejected) == ("loaded", 3, 2, 1)
    (bad,) = rejects(con)
    assert (bad["line_no"], bad["reason"]) == (3, reason)
    assert bad["raw_line"] == ";".join(cc_values("K2", **overrides))
    assert con.execute("select channel from raw.contact_center where contact_id = 'K3'").fetchone() == (
        "chat",
    )
    assert_balanced(con)


def test_wrong_column_count_and_numbers(landing: Path, con) -> None:
    header = "response_id,survey_type,touchpoint_ref,respondent_email,crm_id,responded_at,nps,csat,ces," + (
        "effectiveness,ease,emotion,comment"
    )
    good = "R1,post_contact,K1,a@example.nl,C1,2026-01-05T10:00:00Z,9,5,7,4,4,5,Top"
    lines = [
        header,
        good,
        "R2,post_contact,K1,a@example.nl,C1,2026-01-05T10:00:00Z,9,5,7,4,4,5",  # 12 fields
        "R3,post_contact,K1,a@example.nl,C1,2026-01-05T10:00:00Z,11,5,7,4,4,5,",  # nps > 10
        "R4,post_contact,K1,a@example.nl,C1,2026-01-05 10:00:00,,,,,,,",  # utc without offset
        'R5,post_contact,,,,2026-01-05T10:00:00+0100,,,,,,,"Goed, snel ""geholpen"""',
    ]
    write(landing, "survey_responses_20260105.csv", "\n".join(lines) + "\n")
    r = one(load_day(con, landing, "survey_responses", DAY))
    assert (r.rows_in, r.rows_loaded, r.rows_rejected) == (5, 2, 3)
    assert [(x["line_no"], x["reason"]) for x in rejects(con)] == [
        (3, "wrong column count: 12 field(s), expected 13"),
        (4, "value out of range in column nps: '11' (allowed 0..10)"),
        (5, "unparseable utc_ts in column responded_at: '2026-01-05 10:00:00'"),
    ]
    assert con.execute(
        "select comment, responded_at, nps from raw.survey_responses where response_id = 'R5'"
    ).fetchone() == (
        'Goed, snel "geholpen"',
        datetime(2026, 1, 5, 9, 0),
        None,
    )


def test_json_rejects_not_json_not_object_and_bad_nested_elements(landing: Path, con) -> None:
    lines = [
        json.dumps(order("O1")),
        '{"order_id": "O2", "status": ',  # not JSON
        "[1, 2]",  # not an object
        json.dumps(order("O3", items=[{"sku": "A", "qty": 1}, {"sku": "B", "qty": "twee"}])),
        json.dumps(order("O4", items=[{"sku": "A", "qty": 1}, "B"])),
        json.dumps(order("O5", status="lost", items=None)),
        json.dumps(order("O6", returns={"sku": "A"})),
        "",  # a blank line is not a row
        json.dumps(order("", email="x")),
        json.dumps(order("O8", url={"nested": 1}, email=["a"])),
        json.dumps(order("O9", items=[{"sku": "A", "qty": 1, "unit_price_eur": "1,50"}])),
    ]
    write(landing, "webshop_orders_20260105.jsonl", "\n".join(lines) + "\n")
    r = one(load_day(con, landing, "webshop_orders", DAY))
    assert (r.rows_in, r.rows_loaded, r.rows_rejected) == (10, 1, 9)
    got = [(x["line_no"], x["reason"]) for x in rejects(con)]
    assert got[0][0] == 2 and got[0][1].startswith("not valid JSON: ")
    assert got[1:] == [
        (3, "not a JSON object (got array)"),
        (4, "items[2]: unparseable int in column qty: 'twee'"),
        (5, "items[2] is not a JSON object (got string)"),
        (6, "unknown enum value in column status: 'lost' (allowed: placed, shipped, delivered, cancelled)"),
        (7, "column returns is not a JSON array (got object)"),
        (9, "missing key column order_id"),  # line 8 is blank: not a row, but it is a physical line
        (10, "expected a single value in column email, got array"),
        (11, "items[1]: unparseable decimal in column unit_price_eur: '1,50'"),
    ]
    assert con.execute("select order_id from raw.webshop_orders").fetchall() == [("O1",)]
    assert con.execute("select order_id, count(*) from raw.webshop_order_items group by 1").fetchall() == [
        ("O1", 1)
    ]
    assert_balanced(con)


# ----------------------------------------------------------------------------------------- file rejects


def test_missing_column_rejects_the_whole_file(landing: Path, con) -> None:
    header = [c for c in CRM_COLS if c != "email"]
    content = crm_csv(
        *[[v for c, v in zip(CRM_COLS, crm_values(i), strict=True) if c != "email"] for i in ("C1", "C2")],
        header=header,
    )
    write(landing, "crm_customers_20260105.csv", content)
    r = one(load_day(con, landing, "crm_customers", DAY))
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_rejected) == ("rejected", 2, 0, 2)
    assert r.reason == "missing column(s): email"
    assert [(x["line_no"], x["reason"]) for x in rejects(con)] == [(2, r.reason), (3, r.reason)]
    assert con.execute("select count(*) from raw.crm_customers").fetchone() == (0,)
    assert con.execute("select status, reason from raw._load_manifest").fetchone() == ("rejected", r.reason)
    assert_balanced(con)


def test_invalid_utf8_rejects_the_whole_file_and_keeps_the_bytes(landing: Path, con) -> None:
    content = crm_csv(crm_values("C1"), crm_values("C2", city="Li\u00e8ge")).encode("cp1252")
    write(landing, "crm_customers_20260105.csv", content)
    r = one(load_day(con, landing, "crm_customers", DAY))
    assert (r.status, r.rows_in, r.rows_rejected) == ("rejected", 2, 2)
    assert r.reason is not None and r.reason.startswith(
        "wrong encoding: not valid UTF-8: byte 0xe8 on line 3"
    )
    lines = [x["raw_line"] for x in rejects(con)]
    assert lines[0].startswith("C1;") and "Li\\xe8ge" in lines[1]
    assert_balanced(con)


def test_contact_center_delivered_as_utf8_is_rejected(landing: Path, con) -> None:
    content = ";".join(CC_COLS) + "\n" + ";".join(cc_values("K1", agent_id="Renée Müller")) + "\n"
    write(landing, "contact_center_20260105.csv", content, encoding="utf-8")
    r = one(load_day(con, landing, "contact_center", DAY))
    assert (r.status, r.rows_in, r.rows_rejected) == ("rejected", 1, 1)
    assert r.reason == "wrong encoding: expected Windows-1252 but line 2 is UTF-8 (multibyte characters)"
    assert "Renée Müller" in rejects(con)[0]["raw_line"]


def test_truncated_gzip_is_rejected_whole_with_its_readable_lines(landing: Path, con) -> None:
    data = gzip.compress(
        jsonl(*[web_event(f"E{i}", url=f"https://shop.example.nl/p/{i}") for i in range(3000)]).encode()
    )
    path = write(landing, "web_events_20260105.jsonl.gz", data[: len(data) // 2])
    r = one(load_day(con, landing, "web_events", DAY))
    assert r.status == "rejected"
    assert r.reason is not None and r.reason.startswith("truncated gzip file")
    assert 0 < r.rows_in < 3000 and r.rows_rejected == r.rows_in and r.rows_loaded == 0
    assert con.execute("select count(*) from raw.web_events").fetchone() == (0,)
    assert con.execute("select min(line_no), max(line_no), count(*) from raw._rejects").fetchone() == (
        1,
        r.rows_in,
        r.rows_in,
    )
    assert path.exists()
    assert_balanced(con)


def test_corrupt_gzip_is_rejected(landing: Path, con) -> None:
    data = bytearray(gzip.compress(jsonl(web_event("E1"), web_event("E2")).encode()))
    data[15:25] = b"\xff" * 10
    write(landing, "web_events_20260105.jsonl.gz", bytes(data))
    write(landing, "web_events_20260106.jsonl.gz", b"this is not gzip at all")
    results = load_all(con, landing, "t")
    assert [r.status for r in results] == ["rejected", "rejected"]
    assert all(r.reason and "gzip" in r.reason for r in results)
    assert all(r.rows_loaded == 0 and r.rows_in == r.rows_rejected for r in results)
    assert_balanced(con)


def test_zero_byte_csv_is_malformed(landing: Path, con) -> None:
    write(landing, "crm_customers_20260105.csv", b"")
    r = one(load_day(con, landing, "crm_customers", DAY))
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_rejected) == ("malformed", 0, 0, 0)
    assert con.execute("select status, rows_in, reason from raw._load_manifest").fetchone() == (
        "malformed",
        0,
        "zero-byte file: no header row",
    )


def test_unterminated_quote_does_not_swallow_rows_silently(landing: Path, con) -> None:
    content = crm_csv(crm_values("C1"), crm_values("C2", city='"Den'), crm_values("C3"))
    write(landing, "crm_customers_20260105.csv", content)
    r = one(load_day(con, landing, "crm_customers", DAY))
    assert (r.rows_in, r.rows_loaded, r.rows_rejected) == (2, 1, 1)
    (bad,) = rejects(con)
    assert bad["line_no"] == 3 and bad["reason"].startswith("unterminated quoted field")
    assert "C3;" in bad["raw_line"]


# -------------------------------------------------------------------------------------------- fast path


def _big_web_events(n: int, bad: int | None = None) -> str:
    lines = []
    for i in range(n):
        e = web_event(f"E{i}", url=f"https://shop.example.nl/p/{i}", sku=f"SKU{i % 50}" if i % 3 else None)
        if i == bad:
            e["ts"] = "yesterday"
        lines.append(json.dumps(e))
    return "\n".join(lines) + "\n"


def _big_crm(n: int, bad: int | None = None) -> str:
    rows_ = [crm_values(f"C{i}", gender="v" if i % 2 else "M") for i in range(n)]
    if bad is not None:
        rows_[bad] = crm_values(f"C{bad}", created_at="05-01-2026")
    return crm_csv(*rows_)


def _big_orders(n: int) -> str:
    orders = [
        order(
            f"O{i}",
            items=[{"sku": f"S{j}", "qty": j + 1, "unit_price_eur": 1.25 * j} for j in range(i % 3)],
            returns=[
                {"sku": "S0", "qty": 1, "reason": "te klein", "returned_at": "2026-01-09T10:00:00+01:00"}
            ]
            if i % 5 == 0
            else [],
            delivered_at=None if i % 2 else "2026-01-07T15:00:00Z",
        )
        for i in range(n)
    ]
    return jsonl(*orders)


@pytest.mark.parametrize(
    ("extract", "name", "content"),
    [
        ("web_events", "web_events_20260105.jsonl.gz", lambda: _big_web_events(2000)),
        ("crm_customers", "crm_customers_20260105.csv", lambda: _big_crm(2000)),
        ("webshop_orders", "webshop_orders_20260105.jsonl", lambda: _big_orders(600)),
    ],
)
def test_fast_path_gives_the_same_rows_as_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extract: str, name: str, content
) -> None:
    monkeypatch.setattr(loader_module, "FAST_PATH_MIN_BYTES", 0)
    landing = tmp_path / "landing"
    write(landing, name, content())
    tables = [extract, *(EXTRACT_CHILDREN.get(extract, ()))]
    results = {}
    loaded = {}
    for fast in (True, False):
        db = duckdb.connect(str(tmp_path / f"wh_{fast}.duckdb"))
        results[fast] = one(load_all(db, landing, "t", fast_path=fast))
        loaded[fast] = [
            db.execute(f"select * exclude (_loaded_at) from raw.{t} order by all").fetchall() for t in tables
        ]
        db.close()
    assert results[True].fast_path and not results[False].fast_path
    assert loaded[True] == loaded[False]
    assert results[True].rows_loaded == len(loaded[True][0]) > 0


EXTRACT_CHILDREN = {"webshop_orders": ("webshop_order_items", "webshop_order_returns")}


def test_fast_path_falls_back_to_exact_line_numbers_on_a_bad_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, con
) -> None:
    monkeypatch.setattr(loader_module, "FAST_PATH_MIN_BYTES", 0)
    landing = tmp_path / "landing"
    write(landing, "web_events_20260105.jsonl.gz", _big_web_events(500, bad=123))
    write(landing, "crm_customers_20260105.csv", _big_crm(500, bad=321))
    results = load_all(con, landing, "t")
    assert [(r.extract, r.fast_path, r.rows_loaded, r.rows_rejected) for r in results] == [
        ("crm_customers", False, 499, 1),
        ("web_events", False, 499, 1),
    ]
    assert [(x["extract"], x["line_no"]) for x in rejects(con)] == [
        ("crm_customers", 323),
        ("web_events", 124),
    ]


def test_fast_path_hands_nested_values_to_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, con
) -> None:
    monkeypatch.setattr(loader_module, "FAST_PATH_MIN_BYTES", 0)
    landing = tmp_path / "landing"
    events = [web_event(f"E{i}", url=f"https://shop.example.nl/p/{i}") for i in range(300)]
    events[7]["utm_campaign"] = "zomer: [actie]"  # looks nested, is text: loads
    events[8]["url"] = {"path": "/p/8"}  # nested where a value belongs: rejected
    write(landing, "web_events_20260105.jsonl.gz", jsonl(*events))
    r = one(load_all(con, landing, "t"))
    assert (r.fast_path, r.rows_loaded, r.rows_rejected) == (False, 299, 1)
    assert [(x["line_no"], x["reason"]) for x in rejects(con)] == [
        (9, "expected a single value in column url, got object")
    ]
    assert con.execute("select utm_campaign from raw.web_events where event_id = 'E7'").fetchone() == (
        "zomer: [actie]",
    )


def test_fast_path_multiline_csv_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, con) -> None:
    monkeypatch.setattr(loader_module, "FAST_PATH_MIN_BYTES", 0)
    landing = tmp_path / "landing"
    write(
        landing, "crm_customers_20260105.csv", crm_csv(crm_values("C1", city='"Den\nHaag"'), crm_values("C2"))
    )
    r = one(load_all(con, landing, "t"))
    assert not r.fast_path
    assert con.execute("select crm_id, _line_no from raw.crm_customers order by 1").fetchall() == [
        ("C1", 2),
        ("C2", 4),
    ]


def test_fast_path_records_extras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, con) -> None:
    monkeypatch.setattr(loader_module, "FAST_PATH_MIN_BYTES", 0)
    landing = tmp_path / "landing"
    write(landing, "web_events_20260105.jsonl.gz", jsonl(web_event("E1", consent="yes"), web_event("E2")))
    header = [*CRM_COLS, "segment"]
    write(landing, "crm_customers_20260105.csv", crm_csv([*crm_values("C1"), "gold"], header=header))
    results = load_all(con, landing, "t")
    assert [(r.fast_path, r.extra_columns) for r in results] == [(True, ("segment",)), (True, ("consent",))]
    assert con.execute("select _extra from raw.crm_customers").fetchone() == ('{"segment":"gold"}',)
    assert con.execute("select _extra from raw.web_events order by _row_no").fetchall() == [
        ('{"consent":"yes"}',),
        (None,),
    ]


# ------------------------------------------------------------------------------------------- batching


def test_small_files_of_many_days_are_validated_together_and_kept_apart(
    landing: Path, con, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader_module, "BATCH_MAX_FILES", 2)  # also exercise a flush in the middle
    for day in range(1, 6):
        rows_ = [crm_values(f"C{day}{i}") for i in range(3)]
        if day == 3:
            rows_[1] = crm_values("C31", city='"Den\nHaag"', marketing_opt_in="misschien")
        write(landing, f"crm_customers_202601{day:02d}.csv", crm_csv(*rows_))
    write(landing, "crm_customers_20260104_r2.csv", crm_csv(crm_values("C99")))
    results = load_all(con, landing, "t")
    assert [(r.file_name[14:], r.status, r.rows_loaded, r.rows_rejected) for r in results] == [
        ("20260101.csv", "loaded", 3, 0),
        ("20260102.csv", "loaded", 3, 0),
        ("20260103.csv", "loaded", 2, 1),
        ("20260104.csv", "loaded", 3, 0),
        ("20260104_r2.csv", "loaded", 1, 0),
        ("20260105.csv", "loaded", 3, 0),
    ]
    assert results[4].replaced == ("crm_customers_20260104.csv",)
    (bad,) = rejects(con)
    assert (bad["file_name"], bad["line_no"]) == ("crm_customers_20260103.csv", 3)
    assert bad["raw_line"] == ";".join(crm_values("C31", city='"Den\nHaag"', marketing_opt_in="misschien"))
    assert con.execute(
        "select _business_date, count(*) from raw.crm_customers group by 1 order by 1"
    ).fetchall() == [
        (date(2026, 1, 1), 3),
        (date(2026, 1, 2), 3),
        (date(2026, 1, 3), 2),
        (date(2026, 1, 4), 1),
        (date(2026, 1, 5), 3),
    ]
    assert con.execute("select _line_no from raw.crm_customers where crm_id = 'C32'").fetchone() == (5,)
    assert_balanced(con)


# ---------------------------------------------------------------------------------------- transactions


def test_a_crash_mid_file_leaves_nothing_half_loaded(
    landing: Path, con, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(landing, "webshop_orders_20260105.jsonl", jsonl(order("O1"), order("O2")))

    def boom(spec: object) -> list[str]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader_module, "_child_key_columns", boom)
    with pytest.raises(RuntimeError):
        load_day(con, landing, "webshop_orders", DAY)
    for table in ("webshop_orders", "webshop_order_items", "_rejects", "_load_manifest"):
        assert con.execute(f"select count(*) from raw.{table}").fetchone() == (0,), table
    monkeypatch.undo()
    r = one(load_day(con, landing, "webshop_orders", DAY))
    assert (r.status, r.rows_loaded) == ("loaded", 2)


def test_every_manifest_row_balances_over_a_mixed_landing_tree(landing: Path, con) -> None:
    write(landing, "crm_customers_20260105.csv", crm_csv(crm_values("C1"), crm_values("C2", gender="?")))
    write(landing, "crm_customers_20260106.csv", b"")
    write(landing, "crm_customers_20260107.csv", crm_csv(crm_values("C3"), header=CRM_COLS[1:]))
    write(landing, "web_events_20260105.jsonl.gz", jsonl(web_event("E1"), web_event("E1"), "x"))
    write(landing, "webshop_orders_20260105.jsonl", jsonl(order("O1"), order("O2", items=[1])))
    write(landing, "webshop_orders_20260105_r2.jsonl", jsonl(order("O1", status="shipped")))
    results = load_all(con, landing, "t")
    assert {r.status for r in results} == {"loaded", "malformed", "rejected"}
    assert_balanced(con)
    # a repeated event_id is kept twice in raw (dbt staging deduplicates)
    assert con.execute("select count(*) from raw.web_events where event_id = 'E1'").fetchone() == (2,)
