"""The cheap "what is new" check: pending files are found from name, size and mtime alone.

Real landing files and a real DuckDB warehouse file. Running as root ignores ``chmod 000``, so "not read" is
shown by replacing an already-loaded file's bytes while keeping its size and mtime: it stays known and is
not reloaded, which it would be (the checksum differs) had it been opened.
"""

from __future__ import annotations

import gzip
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.ingest import (
    ensure_raw_schema,
    load_all,
    load_files,
    manifest_state,
    pending_files,
    warehouse_manifest_state,
)

STORE_HEADER = "store_id,store_name,city,province,opened_on"
DAY1, DAY2, DAY3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)


def stores(*ids: str, name: str = "Winkel") -> str:
    return STORE_HEADER + "\n" + "".join(f"{i},{name} {i},Utrecht,Utrecht,2020-01-01\n" for i in ids)


def write(root: Path, name: str, content: str | bytes) -> Path:
    extract = name.split("_2")[0]
    path = root / extract / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def replace_keeping_stamp(path: Path, content: str) -> None:
    """New bytes of the same size, with the old mtime put back (what ``cp -p`` of another file could do)."""
    st = path.stat()
    data = content.encode()
    assert len(data) == st.st_size
    assert data != path.read_bytes()
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def names(files: list) -> list[str]:
    return [f.name for f in files]


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(warehouse))
    yield connection
    connection.close()


def night(con: duckdb.DuckDBPyConnection, landing: Path, run_id: str) -> list:
    """What the ingest asset does: load only the pending files."""
    return load_files(con, landing, pending_files(con, landing), run_id)


def store_names(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute("select store_id, store_name from raw.stores order by all").fetchall()


def test_an_empty_warehouse_has_everything_pending(landing: Path, warehouse: Path, con) -> None:
    write(landing, "stores_20260105.csv", stores("S1"))
    write(
        landing,
        "products_20260105.csv",
        "sku,product_name,category,subcategory,brand,list_price_eur,active\n",
    )
    assert warehouse_manifest_state(landing.parent / "missing.duckdb") == {}
    assert names(pending_files({}, landing)) == ["products_20260105.csv", "stores_20260105.csv"]
    assert names(pending_files(con, landing)) == ["products_20260105.csv", "stores_20260105.csv"]
    ensure_raw_schema(con)
    assert len(pending_files(con, landing)) == 2


def test_loaded_files_are_known_and_not_read_again(landing: Path, con) -> None:
    path = write(landing, "stores_20260105.csv", stores("S1", "S2"))
    assert [r.status for r in night(con, landing, "night-1")] == ["loaded"]
    pending = pending_files(con, landing)
    assert list(pending) == [] and names(pending.known) == ["stores_20260105.csv"]
    # Same size, same mtime, other bytes: not opened, so not noticed (the accepted corner case).
    replace_keeping_stamp(path, stores("S1", "S3"))
    assert list(pending_files(con, landing)) == []
    assert night(con, landing, "night-2") == []
    assert store_names(con) == [("S1", "Winkel S1"), ("S2", "Winkel S2")]
    # Once its mtime moves, it is pending, hashed, and its new bytes replace the old load.
    bump_mtime(path)
    assert names(pending_files(con, landing)) == ["stores_20260105.csv"]
    assert [r.status for r in night(con, landing, "night-3")] == ["loaded"]
    assert store_names(con) == [("S1", "Winkel S1"), ("S3", "Winkel S3")]
    assert list(pending_files(con, landing)) == []


def test_a_new_day_is_pending_and_only_it(landing: Path, con) -> None:
    write(landing, "stores_20260105.csv", stores("S1"))
    write(landing, "stores_20260106.csv", stores("S1", "S2"))
    night(con, landing, "night-1")
    write(landing, "stores_20260107.csv", stores("S1", "S2", "S3"))
    pending = pending_files(con, landing)
    assert names(pending) == ["stores_20260107.csv"] and pending.dates == [DAY3]
    assert len(pending.known) == 2
    assert pending_files(con, landing, dates=[DAY1, DAY2]) == []
    assert [(r.file_name, r.status) for r in night(con, landing, "night-2")] == [
        ("stores_20260107.csv", "loaded")
    ]


def test_an_r2_redelivery_of_an_old_day_is_pending_and_replaces_it(landing: Path, con) -> None:
    write(landing, "stores_20260105.csv", stores("S1", "S2"))
    write(landing, "stores_20260106.csv", stores("S1"))
    night(con, landing, "night-1")
    write(landing, "stores_20260105_r2.csv", stores("S9"))
    pending = pending_files(con, landing)
    assert names(pending) == ["stores_20260105_r2.csv"] and pending.dates == [DAY1]
    results = night(con, landing, "night-2")
    assert [(r.file_name, r.status, r.replaced) for r in results] == [
        ("stores_20260105_r2.csv", "loaded", ("stores_20260105.csv",))
    ]
    # The replaced plain file is still in the landing tree, unchanged: known (status replaced), not re-read.
    state = manifest_state(con)
    assert state[("stores", "stores_20260105.csv")].status == "replaced"
    assert list(pending_files(con, landing)) == []
    # Touched (same bytes, new mtime): pending, hashed once and skipped, then known again.
    bump_mtime(landing / "stores" / "stores_20260105.csv")
    assert [r.status for r in night(con, landing, "night-3")] == ["skipped"]
    assert list(pending_files(con, landing)) == []


def test_a_file_rewritten_with_new_bytes_is_pending(landing: Path, con) -> None:
    path = write(landing, "stores_20260105.csv", stores("S1"))
    night(con, landing, "night-1")
    st = path.stat()
    path.write_text(stores("S1", "S2"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime: the size differs
    assert names(pending_files(con, landing)) == ["stores_20260105.csv"]
    assert [r.status for r in night(con, landing, "night-2")] == ["loaded"]
    assert store_names(con) == [("S1", "Winkel S1"), ("S2", "Winkel S2")]


def test_a_touched_file_is_hashed_once_and_its_new_mtime_recorded(landing: Path, con) -> None:
    path = write(landing, "stores_20260105.csv", stores("S1"))
    night(con, landing, "night-1")
    bump_mtime(path)
    assert names(pending_files(con, landing)) == ["stores_20260105.csv"]
    assert [r.status for r in night(con, landing, "night-2")] == ["skipped"]
    (rows, mtime) = con.execute("select count(*), max(file_mtime_ns) from raw._load_manifest").fetchone()
    assert (rows, mtime) == (1, path.stat().st_mtime_ns)  # updated in place, no manifest row added
    assert list(pending_files(con, landing)) == []


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("stores_20260105.csv", "store_id,store_name\nS1,x\n", "rejected"),  # missing contract columns
        ("stores_20260105.csv", "", "malformed"),  # zero bytes: no header
        ("web_events_20260105.jsonl.gz", b"this is not gzip at all", "rejected"),
    ],
)
def test_a_rejected_file_is_not_retried_unless_it_changes(
    landing: Path, con, name: str, content: str | bytes, status: str
) -> None:
    path = landing / name.split("_2")[0] / name
    path.parent.mkdir(parents=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    assert [r.status for r in night(con, landing, "night-1")] == [status]
    assert list(pending_files(con, landing)) == [] and names(pending_files(con, landing).known) == [name]
    assert night(con, landing, "night-2") == []
    if name.startswith("stores"):
        path.write_text(stores("S1"))  # fixed by the sender, in place
        assert names(pending_files(con, landing)) == [name]
        assert [r.status for r in night(con, landing, "night-3")] == ["loaded"]
        assert store_names(con) == [("S1", "Winkel S1")]


def test_a_superseded_file_is_known(landing: Path, con) -> None:
    write(landing, "stores_20260105_r2.csv", stores("S2"))
    night(con, landing, "night-1")
    write(landing, "stores_20260105.csv", stores("S1"))  # the plain delivery arrives after its _r2
    assert [r.status for r in night(con, landing, "night-2")] == ["superseded"]
    assert list(pending_files(con, landing)) == []


def test_a_warehouse_from_before_the_mtime_column_is_checked_by_checksum_once(
    landing: Path, warehouse: Path, con
) -> None:
    write(landing, "stores_20260105.csv", stores("S1"))
    write(landing, "stores_20260106.csv", stores("S1", "S2"))
    load_all(con, landing, "old-loader")
    con.execute("alter table raw._load_manifest drop column file_mtime_ns")  # as an old warehouse has it
    con.close()
    # Read-only, unmigrated: every mtime is unknown, so everything is pending.
    assert {k.mtime_ns for k in warehouse_manifest_state(warehouse).values()} == {None}
    with duckdb.connect(str(warehouse)) as con2:
        assert len(pending_files(con2, landing)) == 2
        results = night(con2, landing, "night-1")  # the loader migrates the manifest, hashes, skips
        assert [r.status for r in results] == ["skipped", "skipped"]
        assert con2.execute(
            "select count(*) from raw._load_manifest where file_mtime_ns is null"
        ).fetchone() == (0,)
        assert con2.execute("select count(*) from raw._load_manifest").fetchone() == (2,)
    assert list(pending_files(warehouse_manifest_state(warehouse), landing)) == []


def test_extract_and_date_filters(landing: Path, con) -> None:
    write(landing, "stores_20260105.csv", stores("S1"))
    write(landing, "stores_20260106.csv", stores("S1"))
    write(
        landing,
        "products_20260106.csv",
        "sku,product_name,category,subcategory,brand,list_price_eur,active\n",
    )
    assert names(pending_files(con, landing, extracts=["stores"], dates=[DAY2])) == ["stores_20260106.csv"]
    assert pending_files(con, landing, extracts=["stores"], dates=[DAY3]) == []
