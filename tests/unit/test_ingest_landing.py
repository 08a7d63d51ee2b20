"""Landing file names and discovery."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from cx_warehouse.ingest import LandingFile, business_dates, discover, parse_file_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("crm_customers_20260105.csv", ("crm_customers", date(2026, 1, 5), 1, "csv")),
        ("crm_customers_20260105_r1.csv", ("crm_customers", date(2026, 1, 5), 1, "csv")),
        ("crm_customers_20260105_r12.csv.gz", ("crm_customers", date(2026, 1, 5), 12, "csv")),
        ("web_events_20261231.jsonl.gz", ("web_events", date(2026, 12, 31), 1, "jsonl")),
        ("web_events_20261231.jsonl", ("web_events", date(2026, 12, 31), 1, "jsonl")),
        ("pos_transactions_20240229_r2.CSV", ("pos_transactions", date(2024, 2, 29), 2, "csv")),
    ],
)
def test_contract_names_parse(name: str, expected: tuple[object, ...]) -> None:
    assert parse_file_name(name) == expected


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("crm_customers_20260230.csv", "invalid business date"),
        ("crm_customers_2026015.csv", "does not match"),
        ("crm_customers_20260105.csv.tmp", "does not match"),
        ("crm_customers_20260105.txt", "does not match"),
        ("crm_customers_20260105_r0.csv", "invalid re-delivery"),
        ("crm_customers_20260105_v2.csv", "does not match"),
        ("customers_20260105.csv", "unknown extract 'customers'"),
        ("crm_customers_20260105.jsonl", "crm_customers is delivered as .csv"),
        ("web_events_20260105.csv.gz", "web_events is delivered as .jsonl"),
        (".DS_Store", "does not match"),
    ],
)
def test_other_names_say_why_they_are_not_contract_files(name: str, why: str) -> None:
    result = parse_file_name(name)
    assert isinstance(result, str) and why in result


def test_discover_returns_sorted_files_and_reports_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for rel in [
        "stores/stores_20260106.csv",
        "stores/stores_20260105_r2.csv",
        "stores/stores_20260105.csv",
        "crm_customers/crm_customers_20260105.csv",
        "crm_customers/stores_20260105.csv",
        "crm_customers/notes.txt",
        "unknown/unknown_20260105.csv",
        "stray.csv",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    with caplog.at_level(logging.WARNING, logger="cx_warehouse.ingest"):
        found = discover(tmp_path)
    assert isinstance(found, list) and all(isinstance(f, LandingFile) for f in found)
    assert [f.name for f in found] == [
        "crm_customers_20260105.csv",
        "stores_20260105.csv",
        "stores_20260105_r2.csv",
        "stores_20260106.csv",
    ]
    assert found.files == list(found)
    assert found[2].delivery_no == 2 and found[2].path == tmp_path / "stores/stores_20260105_r2.csv"
    reasons = {path.relative_to(tmp_path).as_posix(): why for path, why in found.unrecognised}
    assert reasons == {
        "crm_customers/notes.txt": "name does not match <extract>_<YYYYMMDD>[_r<N>].<csv|jsonl>[.gz]",
        "crm_customers/stores_20260105.csv": "a stores file in folder 'crm_customers'",
        "unknown/unknown_20260105.csv": "unknown extract 'unknown'",
        "stray.csv": "not in an <extract>/ folder directly under the landing root",
    }
    assert len([r for r in caplog.records if "not a contract file" in r.getMessage()]) == 4
    assert business_dates(tmp_path) == [date(2026, 1, 5), date(2026, 1, 6)]


def test_missing_landing_root_is_empty(tmp_path: Path) -> None:
    assert discover(tmp_path / "nope") == []
    assert business_dates(tmp_path / "nope") == []
