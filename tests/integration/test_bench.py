"""``cx-bench`` end to end at a small size: generate, floor, full night, one-day incremental night, JSON.

Size: 1,000 customers x 10 days (+1 held back). Smaller trees publish nothing: the quality gate needs at least
one contact-center contact in ``fct_contacts`` (the generator's first days have none at a few hundred
customers), and the one-day incremental night must stay inside the drift bounds of the previous publish (row
counts at most x1.5). Most of the time is dbt's fixed cost per night, not the data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.bench.stages import NIGHT_STAGES, STAGES

pytestmark = pytest.mark.integration

CUSTOMERS = 1000
DAYS = 10


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> tuple[dict, Path, str]:
    root = tmp_path_factory.mktemp("bench")
    latest = root / "latest.json"
    args = ["--customers", str(CUSTOMERS), "--days", str(DAYS), "--dir", str(root / "b"), "--latest"]
    result = subprocess.run(
        [sys.executable, "-m", "cx_warehouse.bench", *args, str(latest), "--memory-limit", "2GB"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return json.loads(latest.read_text()), root / "b", result.stdout


def test_report_has_every_stage_with_rows(bench: tuple[dict, Path, str]) -> None:
    report, _, _ = bench
    assert list(report["stages"]) == list(STAGES)
    for stage in STAGES:
        figures = report["stages"][stage]
        assert figures["wall_s"] is not None and figures["wall_s"] >= 0
        assert figures["peak_mib"] is not None and figures["peak_mib"] > 0
    for stage in ("generate", "ingest", "dbt_build", "publish"):
        assert report["stages"][stage]["rows"] > 0, stage
    assert report["stages"]["generate"]["days_generated"] == DAYS + 1
    assert report["full_night"]["total"]["wall_s"] > 0
    assert report["full_night"]["unmapped_steps"] == []


def test_floor_and_ratios(bench: tuple[dict, Path, str]) -> None:
    report, _, _ = bench
    floor = report["floor"]
    assert floor["floor_s"] > 0
    assert 0 < report["stages"]["ingest"]["rows"] <= floor["rows"]  # the full night loads the floor's files
    total_s = report["full_night"]["total"]["wall_s"]
    assert report["total_over_floor"] == pytest.approx(total_s / floor["floor_s"], rel=0.01)  # rounded
    assert {t["name"] for t in report["targets"]} == {
        "total_vs_floor",
        "incremental_vs_full",
        "full_peak_memory",
    }


def test_incremental_night_loads_the_held_back_day(bench: tuple[dict, Path, str]) -> None:
    report, root, _ = bench
    incremental = report["incremental_night"]
    assert list(incremental["stages"]) == list(NIGHT_STAGES)
    assert 0 < incremental["stages"]["ingest"]["rows"] < report["stages"]["ingest"]["rows"]
    assert incremental["total"]["wall_s"] > 0
    assert report["incremental_over_full"] > 0
    assert set(incremental["run_ids"]).isdisjoint(report["full_night"]["run_ids"])
    assert not [p for p in (root / "held_back").rglob("*") if p.is_file()]  # put back


def test_published_file_and_outputs(bench: tuple[dict, Path, str]) -> None:
    _, root, stdout = bench
    published = root / "marts.duckdb"
    assert published.exists()
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute("select count(*) from dim_customer").fetchall()[0][0]
    assert rows > 0
    assert (root / "logs" / "full_night.log").exists() and (root / "logs" / "incremental_night.log").exists()
    assert not (root / "floor.duckdb").exists()
    assert len(list(root.glob("bench_*.json"))) == 1
    assert "Targets" in stdout and "total / floor" in stdout
