"""The bench's pure pieces: hold-back, step records to stages, memory windows, targets, the report's shape."""

from __future__ import annotations

import csv
import gzip
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cx_warehouse.bench import landing as bench_landing
from cx_warehouse.bench.cli import parse_generated_rows
from cx_warehouse.bench.floor import ExtractFloor, Floor, floor_sql, measure_floor
from cx_warehouse.bench.night import NightResult, StageFigures, run_ids_from_output
from cx_warehouse.bench.procs import GIB, MIB, Measured, MemorySample, peak_in_windows, run_measured, tree_rss
from cx_warehouse.bench.report import build_report, evaluate_targets, format_report, ratio, write_report
from cx_warehouse.bench.stages import (
    NIGHT_STAGES,
    STAGES,
    StageMappingError,
    StepEvent,
    StepRecord,
    group_steps,
    stage_of,
    stage_wall,
    steps_from_events,
)
from cx_warehouse.generator.engine import generate
from cx_warehouse.ingest.spec import EXTRACTS

# --- hold-back -------------------------------------------------------------------------------------------


def _touch(root: Path, rel: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")


LANDING_FILES = [
    "crm_customers/crm_customers_20260101.csv",
    "crm_customers/crm_customers_20260102.csv",
    "crm_customers/crm_customers_20260103.csv",
    "crm_customers/crm_customers_20260103_r2.csv",  # re-delivery of the last day
    "pos_transactions/pos_transactions_20260101_r2.csv",  # late re-delivery of an old day: stays
    "web_events/web_events_20260103.jsonl.gz",
    "products/products_20260103.csv",
    "products/products_20260102.csv",
]


def test_hold_back_moves_every_file_of_the_last_date_and_restore_puts_them_back(tmp_path: Path) -> None:
    landing, held = tmp_path / "landing", tmp_path / "held_back"
    for rel in LANDING_FILES:
        _touch(landing, rel)
    _touch(landing, "notes/readme_20260103.txt")  # not a contract file: never moved

    last, moved = bench_landing.hold_back(landing, held)

    assert last == date(2026, 1, 3)
    expected = sorted(Path(r) for r in LANDING_FILES if "20260103" in r)
    assert moved == expected
    assert sorted(p.relative_to(held) for p in held.rglob("*") if p.is_file()) == expected
    left = sorted(p.relative_to(landing) for p in landing.rglob("*") if p.is_file())
    assert left == sorted(
        [Path(r) for r in LANDING_FILES if "20260103" not in r] + [Path("notes/readme_20260103.txt")]
    )

    restored = bench_landing.restore(held, landing)
    assert sorted(restored) == expected
    assert not [p for p in held.rglob("*") if p.is_file()]
    assert all((landing / r).exists() for r in LANDING_FILES)


def test_hold_back_of_an_empty_landing_tree_raises(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    with pytest.raises(ValueError, match="nothing to hold back"):
        bench_landing.hold_back(tmp_path / "landing", tmp_path / "held_back")


def test_restore_refuses_to_overwrite(tmp_path: Path) -> None:
    _touch(tmp_path / "held_back", "stores/stores_20260103.csv")
    _touch(tmp_path / "landing", "stores/stores_20260103.csv")
    with pytest.raises(FileExistsError):
        bench_landing.restore(tmp_path / "held_back", tmp_path / "landing")


def test_generation_marker_round_trip_and_match(tmp_path: Path) -> None:
    marker = bench_landing.GenerationMarker(
        customers=300,
        days=6,
        seed=42,
        generated_days=7,
        rows=4855,
        files=78,
        wall_s=0.5,
        peak_rss=80 * MIB,
        generated_at="2026-01-01T00:00:00+00:00",
    )
    bench_landing.write_marker(tmp_path, marker)
    read = bench_landing.read_marker(tmp_path)
    assert read == marker
    assert read.matches(300, 6, 42)
    assert not read.matches(300, 7, 42)
    assert not read.matches(300, 6, 1)
    (tmp_path / bench_landing.MARKER_NAME).write_text("{not json")
    assert bench_landing.read_marker(tmp_path) is None


def test_parse_generated_rows() -> None:
    out = "crm_customers   280\nproducts   3,320\ntotal                    1,234,855\n78 files in x\n"
    assert parse_generated_rows(out) == 1_234_855
    assert parse_generated_rows("nothing here") is None


# --- steps to stages ---------------------------------------------------------------------------------------

# The step keys of a real nightly_build run (dbt and the gate run as several subsets of their op).
RUN_STEPS = [
    ("cx_dbt_models_3", 100.0, 110.0),
    ("ingest_extracts", 110.0, 140.0),
    ("cx_dbt_models_2", 140.0, 180.0),
    ("propensity_models", 180.0, 200.0),
    ("quality_gate", 200.0, 204.0),
    ("quality_gate_3", 204.0, 205.0),
    ("cx_dbt_models", 205.0, 211.0),
    ("quality_gate_2", 211.0, 212.0),
    ("published_marts", 212.0, 213.0),
]


def _records(steps: list[tuple[str, float, float]], run_id: str = "r1") -> list[StepRecord]:
    return [StepRecord(run_id, key, start, end, "success") for key, start, end in steps]


def test_stage_of_matches_the_op_and_its_numbered_subsets_only() -> None:
    assert stage_of("ingest_extracts") == "ingest"
    assert stage_of("cx_dbt_models") == "dbt_build"
    assert stage_of("cx_dbt_models_12") == "dbt_build"
    assert stage_of("propensity_models") == "models"
    assert stage_of("quality_gate_3") == "checks"
    assert stage_of("published_marts") == "publish"
    assert stage_of("cx_dbt_models_extra") is None
    assert stage_of("my_quality_gate") is None


def test_group_steps_sums_each_stage() -> None:
    grouped, unmapped = group_steps(_records(RUN_STEPS))
    assert unmapped == []
    walls = {stage: stage_wall(steps) for stage, steps in grouped.items()}
    assert walls == {"ingest": 30.0, "dbt_build": 56.0, "models": 20.0, "checks": 6.0, "publish": 1.0}
    assert [s.step_key for s in grouped["dbt_build"]] == [
        "cx_dbt_models_3",
        "cx_dbt_models_2",
        "cx_dbt_models",
    ]


def test_group_steps_keeps_unknown_steps_apart() -> None:
    grouped, unmapped = group_steps(_records([*RUN_STEPS, ("new_asset", 213.0, 215.0)]))
    assert [s.step_key for s in unmapped] == ["new_asset"]
    assert sum(stage_wall(s) for s in grouped.values()) == 113.0


def test_group_steps_raises_when_a_stage_has_no_step() -> None:
    renamed = [(("propensity" if k == "propensity_models" else k), a, b) for k, a, b in RUN_STEPS]
    with pytest.raises(StageMappingError, match=r"models \(op propensity_models\)"):
        group_steps(_records(renamed))


def test_steps_from_events_pairs_starts_and_ends_per_run() -> None:
    events = [
        StepEvent("r1", "ingest_extracts", "STEP_START", 10.0),
        StepEvent("r1", "ingest_extracts", "STEP_SUCCESS", 15.0),
        StepEvent("r2", "ingest_extracts", "STEP_START", 12.0),
        StepEvent("r2", "ingest_extracts", "STEP_FAILURE", 13.0),
        StepEvent("r2", "ingest_extracts", "STEP_START", 14.0),  # retried
        StepEvent("r2", "ingest_extracts", "STEP_SUCCESS", 20.0),
        StepEvent("r1", "published_marts", "STEP_START", 30.0),  # never ended: left out
    ]
    records = steps_from_events(reversed(events))
    assert [(r.run_id, r.start, r.end, r.status) for r in records] == [
        ("r1", 10.0, 15.0, "success"),
        ("r2", 12.0, 13.0, "failure"),
        ("r2", 14.0, 20.0, "success"),
    ]
    assert records[2].duration == 6.0


def test_run_ids_from_cx_nightly_output() -> None:
    out = "...\nNightly build finished in 110.9 s (runs: 9a69870c-20b9, 0b1c2d3e-4f5a).\n"
    assert run_ids_from_output(out) == ["9a69870c-20b9", "0b1c2d3e-4f5a"]
    assert run_ids_from_output("Nothing new to load") == []


# --- memory ------------------------------------------------------------------------------------------------


def test_peak_in_windows() -> None:
    samples = [MemorySample(t, rss) for t, rss in [(0.0, 10), (1.0, 50), (2.0, 20), (3.0, 90), (4.0, 30)]]
    assert peak_in_windows(samples, [(0.5, 2.5)]) == 50
    assert peak_in_windows(samples, [(0.5, 2.5), (3.5, 4.5)]) == 50
    assert peak_in_windows(samples, [(0.0, 4.0)]) == 90
    assert peak_in_windows(samples, [(2.9, 3.1)]) == 90
    assert peak_in_windows(samples, [(1.4, 1.45)]) == 50  # no sample inside: the nearest to the middle
    assert peak_in_windows([], [(0.0, 1.0)]) is None
    assert peak_in_windows(samples, []) is None


def test_run_measured_samples_the_whole_process_tree(tmp_path: Path) -> None:
    # A parent that starts a child holding ~200 MiB; the tree's peak must include the child.
    child = (
        "import time; b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    )
    parent = (
        f"import subprocess, sys; sys.exit(subprocess.run([sys.executable, '-c', {child!r}]).returncode + 3)"
    )
    measured = run_measured(
        [sys.executable, "-c", parent], env={}, log_path=tmp_path / "log.txt", interval=0.05
    )
    assert measured.returncode == 3
    assert measured.peak_rss > 200 * MIB
    assert measured.ru_maxrss > 200 * MIB
    assert measured.wall_s > 0
    assert len(measured.samples) > 1
    assert tree_rss(1 << 30) == 0  # no such process
    assert tree_rss(os.getpid()) > 0


# --- floor -------------------------------------------------------------------------------------------------


def _records_in(path: Path, spec_name: str) -> int:
    """Data records of one landing file, counted by Python (csv module / lines), not by DuckDB."""
    spec = EXTRACTS[spec_name]
    opener = gzip.open if path.name.endswith(".gz") else open
    encoding = "cp1252" if spec.encoding == "cp1252" else "utf-8"
    with opener(path, "rt", encoding=encoding, newline="") as f:
        if spec.format.value == "jsonl":
            return sum(1 for line in f if line.strip())
        return max(sum(1 for _ in csv.reader(f, delimiter=spec.delimiter)) - 1, 0)


def test_floor_reads_every_file_of_every_extract(tmp_path: Path) -> None:
    summary = generate(out=tmp_path / "landing", truth_dir=tmp_path / "truth", customers=200, days=3)
    floor = measure_floor(tmp_path / "landing", tmp_path / "floor.duckdb", "1GB")
    expected: dict[str, int] = {}
    for path in (tmp_path / "landing").rglob("*.*"):
        expected[path.parent.name] = expected.get(path.parent.name, 0) + _records_in(path, path.parent.name)
    assert {name: e.rows for name, e in floor.extracts.items()} == expected
    assert floor.rows == sum(expected.values()) >= sum(summary.rows.values())  # + re-delivered rows
    assert floor.files == summary.files
    assert floor.seconds > 0
    assert floor.memory_limit == "1GB"
    assert not (tmp_path / "floor.duckdb").exists()


def test_floor_sql_uses_the_contract_delimiter_and_encoding() -> None:
    sql, params = floor_sql(EXTRACTS["contact_center"], [Path("/x/contact_center_20260101.csv")])
    assert "read_csv" in sql and "all_varchar = true" in sql
    assert params["delim"] == ";" and params["encoding"] == "latin-1"
    sql, params = floor_sql(EXTRACTS["web_events"], [Path("/x/web_events_20260101.jsonl.gz")])
    assert "read_json" in sql and "'event_id': 'VARCHAR'" in sql
    assert params == {"files": ["/x/web_events_20260101.jsonl.gz"]}


# --- targets and report ------------------------------------------------------------------------------------


def test_ratio() -> None:
    assert ratio(30.0, 10.0) == 3.0
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 1.0) is None


def test_targets_met_and_missed() -> None:
    met = {t.name: t.met for t in evaluate_targets(30.0, 10.0, 3.0, 8 * GIB - 1)}
    assert met == {"total_vs_floor": True, "incremental_vs_full": True, "full_peak_memory": True}
    missed = {t.name: t.met for t in evaluate_targets(30.1, 10.0, 3.1, 8 * GIB)}
    assert missed == {"total_vs_floor": False, "incremental_vs_full": False, "full_peak_memory": False}
    unknown = evaluate_targets(30.0, None, 3.0, None)
    assert [t.met for t in unknown] == [False, True, False]


def _night(label: str, total: float, peak: int, tmp_path: Path) -> NightResult:
    steps = _records(RUN_STEPS, run_id=f"{label}-run")
    grouped, _ = group_steps(steps)
    measured = Measured(
        command=["cx-nightly"],
        returncode=0,
        wall_s=total,
        started_at=90.0,
        ended_at=90.0 + total,
        samples=[MemorySample(150.0, peak)],
        ru_maxrss=peak // 2,
        log_path=tmp_path / f"{label}.log",
    )
    stages = {
        stage: StageFigures(rows=1000, wall_s=stage_wall(grouped[stage]), peak_rss=peak, steps=("x",))
        for stage in NIGHT_STAGES
    }
    return NightResult(label, measured, [f"{label}-run"], steps, stages)


def test_report_shape_and_printed_table(tmp_path: Path) -> None:
    full, incremental = _night("full", 130.0, 2 * GIB, tmp_path), _night("incremental", 10.0, GIB, tmp_path)
    floor = Floor(
        seconds=40.0,
        rows=5000,
        files=10,
        threads=2,
        memory_limit="6GB",
        extracts={"crm_customers": ExtractFloor(10, 5000, 40.0)},
    )
    report = build_report(
        config={"customers": 1000, "days": 10, "seed": 42, "memory_limit": "6GB"},
        machine={"cpu_count": 2, "total_ram_gib": 8.0},
        generate={"rows": 6000, "wall_s": 1.0, "peak_mib": 80.0, "days_generated": 11, "reused": False},
        held_back={"business_date": "2026-01-11", "files": 11},
        floor=floor,
        full=full,
        incremental=incremental,
        started_at=datetime.now(UTC),
    )
    report = json.loads(json.dumps(report))  # JSON-able
    assert list(report["stages"]) == list(STAGES)
    for stage in STAGES:
        assert {"rows", "wall_s", "peak_mib"} <= set(report["stages"][stage])
    assert list(report["incremental_night"]["stages"]) == list(NIGHT_STAGES)
    assert report["floor"]["floor_s"] == 40.0
    assert report["total_over_floor"] == pytest.approx(3.25)
    assert report["incremental_over_full"] == pytest.approx(10 / 130)
    assert report["full_night"]["other_s"] == pytest.approx(130.0 - 113.0)
    assert report["full_night"]["total"]["peak_mib"] == 2048.0
    assert report["full_night"]["total"]["ru_maxrss_mib"] == 1024.0
    assert {t["name"]: t["met"] for t in report["targets"]} == {
        "total_vs_floor": False,
        "incremental_vs_full": True,
        "full_peak_memory": True,
    }

    text = format_report(report)
    for label in (
        "generate",
        "ingest",
        "dbt build",
        "models",
        "checks",
        "publish",
        "other",
        "total",
        "floor",
    ):
        assert f"  {label} " in text
    assert "total / floor  3.25" in text and "incremental / full  7.7%" in text
    assert "MISSED" in text and "met" in text

    written = write_report(report, tmp_path / "bench", tmp_path / "latest.json")
    assert written[0].name.startswith("bench_") and written[0].parent == tmp_path / "bench"
    assert json.loads((tmp_path / "latest.json").read_text()) == report
