"""Idempotency and re-deliveries: skip by checksum, `_rN` replaces, late `_r1` superseded, late days load."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.ingest import load_all, load_day

DAY = date(2026, 1, 5)
STORE_HEADER = "store_id,store_name,city,province,opened_on"


def stores(*ids: str, name: str = "Winkel") -> str:
    return STORE_HEADER + "\n" + "".join(f"{i},{name} {i},Utrecht,Utrecht,2020-01-01\n" for i in ids)


def orders(*specs: tuple[str, int]) -> str:
    """JSON Lines of orders ``(order_id, number of items)``."""
    lines = []
    for order_id, n_items in specs:
        lines.append(
            json.dumps(
                {
                    "order_id": order_id,
                    "ordered_at": "2026-01-05T10:00:00Z",
                    "updated_at": "2026-01-05T10:00:00Z",
                    "status": "placed",
                    "items": [{"sku": f"S{i}", "qty": 1, "unit_price_eur": "2.50"} for i in range(n_items)],
                    "returns": [
                        {"sku": "S0", "qty": 1, "reason": "x", "returned_at": "2026-01-06T10:00:00Z"}
                    ],
                }
            )
            + "\n"
        )
    return "".join(lines)


def write(root: Path, name: str, content: str | bytes) -> Path:
    extract = name.split("_2")[0]
    path = root / extract / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
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


def manifest(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        "select file_name, status, rows_in, rows_loaded, rows_rejected from raw._load_manifest "
        "order by loaded_at, file_name"
    ).fetchall()


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    (n,) = con.execute(f"select count(*) from raw.{table}").fetchone()
    return int(n)


def assert_balanced(con: duckdb.DuckDBPyConnection) -> None:
    for row in con.execute(
        'select file_name, "extract", status, rows_in, rows_loaded, rows_rejected from raw._load_manifest'
    ).fetchall():
        name, extract, status, rows_in, loaded, rejected = row
        assert rows_in == loaded + rejected, row
        if status != "replaced":
            assert count_where(con, extract, name) == loaded, row
            (rej,) = con.execute("select count(*) from raw._rejects where file_name = ?", [name]).fetchone()
            assert rej == rejected, row


def count_where(con: duckdb.DuckDBPyConnection, table: str, file_name: str) -> int:
    (n,) = con.execute(f"select count(*) from raw.{table} where _file_name = ?", [file_name]).fetchone()
    return int(n)


def test_rerun_skips_files_with_the_same_name_and_checksum(landing: Path, con) -> None:
    write(landing, "stores_20260105.csv", stores("S1", "S2"))
    write(landing, "webshop_orders_20260105.jsonl", orders(("O1", 2)))
    first = load_all(con, landing, "run-1")
    assert [r.status for r in first] == ["loaded", "loaded"]
    before = (count(con, "stores"), count(con, "webshop_order_items"), manifest(con))
    second = load_all(con, landing, "run-2")
    assert [r.status for r in second] == ["skipped", "skipped"]
    assert all(r.rows_in == 0 and r.checksum == f.checksum for r, f in zip(second, first, strict=True))
    assert (count(con, "stores"), count(con, "webshop_order_items"), manifest(con)) == before
    assert con.execute("select distinct run_id from raw._load_manifest").fetchall() == [("run-1",)]


def test_r2_replaces_r1_in_parent_and_child_tables(landing: Path, con) -> None:
    write(landing, "webshop_orders_20260105.jsonl", orders(("O1", 2), ("O2", 1)))
    load_day(con, landing, "webshop_orders", DAY, run_id="night-1")
    assert (count(con, "webshop_orders"), count(con, "webshop_order_items")) == (2, 3)
    write(landing, "webshop_orders_20260105_r2.jsonl", orders(("O1", 1)))
    results = load_day(con, landing, "webshop_orders", DAY, run_id="night-2")
    assert [(r.file_name, r.status) for r in results] == [
        ("webshop_orders_20260105.jsonl", "skipped"),
        ("webshop_orders_20260105_r2.jsonl", "loaded"),
    ]
    assert results[1].replaced == ("webshop_orders_20260105.jsonl",)
    for table, expected in [("webshop_orders", 1), ("webshop_order_items", 1), ("webshop_order_returns", 1)]:
        assert con.execute(f"select distinct _file_name, _delivery_no from raw.{table}").fetchall() == [
            ("webshop_orders_20260105_r2.jsonl", 2)
        ], table
        assert count(con, table) == expected
    assert manifest(con) == [
        ("webshop_orders_20260105.jsonl", "replaced", 2, 2, 0),
        ("webshop_orders_20260105_r2.jsonl", "loaded", 1, 1, 0),
    ]
    (reason,) = con.execute("select reason from raw._load_manifest where status = 'replaced'").fetchone()
    assert reason == "replaced by webshop_orders_20260105_r2.jsonl"
    assert_balanced(con)


def test_a_day_with_r1_and_r2_at_once_is_processed_in_delivery_order(landing: Path, con) -> None:
    write(landing, "stores_20260105_r2.csv", stores("S1"))
    write(landing, "stores_20260105.csv", stores("S1", "S2", "S3"))
    write(landing, "stores_20260105_r3.csv.gz", stores("S9"))
    results = load_day(con, landing, "stores", DAY)
    assert [(r.delivery_no, r.status) for r in results] == [(1, "loaded"), (2, "loaded"), (3, "loaded")]
    assert con.execute("select store_id from raw.stores").fetchall() == [("S9",)]
    assert [s for _, s, *_ in manifest(con)] == ["replaced", "replaced", "loaded"]
    assert_balanced(con)


def test_late_r1_after_r2_is_superseded_and_recorded(landing: Path, con) -> None:
    write(landing, "stores_20260105_r2.csv", stores("S1", "S2"))
    load_day(con, landing, "stores", DAY)
    write(landing, "stores_20260105.csv", stores("S1", "S2", "S3"))
    results = load_day(con, landing, "stores", DAY)
    late = next(r for r in results if r.delivery_no == 1)
    assert (late.status, late.rows_in, late.rows_loaded, late.rows_rejected) == ("superseded", 3, 0, 3)
    assert late.reason is not None and late.reason.startswith(
        "superseded: stores_20260105_r2.csv (delivery 2)"
    )
    assert con.execute("select store_id from raw.stores order by 1").fetchall() == [("S1",), ("S2",)]
    assert con.execute("select line_no, reason like 'superseded:%' from raw._rejects").fetchall() == [
        (2, True),
        (3, True),
        (4, True),
    ]
    # a re-run changes nothing
    assert [r.status for r in load_day(con, landing, "stores", DAY)] == ["skipped", "skipped"]
    assert count(con, "_rejects") == 3
    assert_balanced(con)


def test_same_name_with_new_bytes_replaces_the_old_version(landing: Path, con) -> None:
    path = write(landing, "stores_20260105.csv", stores("S1", "S2", "X"))
    path.write_text(stores("S1", "S2") + "S3,Winkel,Utrecht,Utrecht,not-a-date\n")
    load_day(con, landing, "stores", DAY)
    assert (count(con, "stores"), count(con, "_rejects")) == (2, 1)
    path.write_text(stores("S1", "S2", "S3", name="Nieuw"))
    (r,) = load_day(con, landing, "stores", DAY)
    assert (r.status, r.rows_loaded, r.replaced) == ("loaded", 3, ("stores_20260105.csv",))
    assert con.execute("select distinct store_name like 'Nieuw%' from raw.stores").fetchall() == [(True,)]
    assert (count(con, "stores"), count(con, "_rejects")) == (3, 0)
    assert [s for _, s, *_ in manifest(con)] == ["replaced", "loaded"]
    assert_balanced(con)


def test_rejected_redelivery_keeps_the_earlier_rows(landing: Path, con) -> None:
    write(landing, "stores_20260105.csv", stores("S1", "S2"))
    load_day(con, landing, "stores", DAY)
    write(landing, "stores_20260105_r2.csv", "store_id,store_name\nS1,Winkel\n")
    (_, r2) = load_day(con, landing, "stores", DAY)
    assert (r2.status, r2.reason) == ("rejected", "missing column(s): city, province, opened_on")
    assert count_where(con, "stores", "stores_20260105.csv") == 2
    # the fixed _r3 then replaces the plain file (the rejected _r2 has no rows to replace)
    write(landing, "stores_20260105_r3.csv", stores("S1", "S2", "S3"))
    results = load_day(con, landing, "stores", DAY)
    assert results[-1].status == "loaded"
    assert set(results[-1].replaced) == {"stores_20260105.csv", "stores_20260105_r2.csv"}
    assert count(con, "stores") == 3 and count(con, "_rejects") == 0
    assert_balanced(con)


def test_a_late_file_for_an_old_day_loads_under_its_own_date(landing: Path, con) -> None:
    write(landing, "stores_20260105.csv", stores("S1"))
    write(landing, "stores_20260106.csv", stores("S1", "S2"))
    load_all(con, landing, "night-1")
    write(landing, "stores_20260101.csv", stores("S0"))
    results = load_all(con, landing, "night-2")
    assert [(r.business_date, r.status) for r in results] == [
        (date(2026, 1, 1), "loaded"),
        (date(2026, 1, 5), "skipped"),
        (date(2026, 1, 6), "skipped"),
    ]
    assert con.execute(
        "select _business_date, count(*) from raw.stores group by 1 order by 1"
    ).fetchall() == [(date(2026, 1, 1), 1), (date(2026, 1, 5), 1), (date(2026, 1, 6), 2)]
    assert_balanced(con)


def test_load_all_filters_extracts_and_dates(landing: Path, con) -> None:
    write(landing, "stores_20260105.csv", stores("S1"))
    write(landing, "stores_20260106.csv", stores("S1"))
    write(landing, "webshop_orders_20260105.jsonl", orders(("O1", 1)))
    results = load_all(con, landing, "t", extracts=["stores"], dates=[date(2026, 1, 6)])
    assert [r.file_name for r in results] == ["stores_20260106.csv"]
    with pytest.raises(ValueError, match="unknown extract"):
        load_all(con, landing, "t", extracts=["nope"])
