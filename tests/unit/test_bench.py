"""The bench's pure pieces: hold-back, step records to stages, memory windows, targets, the report's shape."""

from __future__ import annotations

import csv
import gzip
import json
import os
import stat
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cx_warehouse.bench import cli as bench_cli
from cx_warehouse.bench import landing as bench_landing
from cx_warehouse.bench import night as bench_night
from cx_warehouse.bench.cli import main as bench_main
from cx_warehouse.bench.cli import parse_generated_rows
from cx_warehouse.bench.floor import ExtractFloor, Floor, floor_sql, measure_floor
from cx_warehouse.bench.night import (
    BenchPaths,
    EventLog,
    NightFailed,
    NightResult,
    StageFigures,
    failed_night,
    failed_stage_figures,
    run_ids_from_output,
    run_night,
)
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
    unfinished_steps,
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
    unfinished = unfinished_steps(events, ended_at=42.0)
    assert [(r.step_key, r.start, r.end, r.status) for r in unfinished] == [
        ("published_marts", 30.0, 42.0, "unfinished")
    ]


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
    report = _report(full, incremental, floor=floor)
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
    assert report["status"] == "ok" and "failed_night" not in report and "not_measured" not in report
    assert report["full_night"]["status"] == report["incremental_night"]["status"] == "succeeded"
    assert {report["stages"][s]["status"] for s in NIGHT_STAGES} == {"succeeded"}
    assert all(t["note"] is None for t in report["targets"])
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
    assert not written[0].name.endswith("_failed.json")
    assert "FAILED" not in text
    assert json.loads((tmp_path / "latest.json").read_text()) == report


# --- a failed night ----------------------------------------------------------------------------------------


def _floor() -> Floor:
    return Floor(
        seconds=40.0,
        rows=5000,
        files=10,
        threads=2,
        memory_limit="6GB",
        extracts={"crm_customers": ExtractFloor(10, 5000, 40.0)},
    )


def _report(
    full: NightResult, incremental: NightResult | None, *, floor: Floor | None = None, reused: bool = False
) -> dict:
    """build_report on a 1000-customer x 10-day config, as the JSON the bench writes."""
    report = build_report(
        config={"customers": 1000, "days": 10, "seed": 42, "memory_limit": "6GB"},
        machine={"cpu_count": 2, "total_ram_gib": 8.0},
        generate={"rows": 6000, "wall_s": 1.0, "peak_mib": 80.0, "days_generated": 11, "reused": reused},
        held_back={"business_date": "2026-01-11", "files": 11},
        floor=floor or _floor(),
        full=full,
        incremental=incremental,
        started_at=datetime.now(UTC),
    )
    return json.loads(json.dumps(report))  # JSON-able


def _failed_measured(tmp_path: Path, label: str, total: float, peak: int, returncode: int = 1) -> Measured:
    """A cx-nightly that started at 90.0 and exited ``returncode`` after ``total`` s (error in its log)."""
    log = tmp_path / f"{label}_night.log"
    log.write_text("Run 1/1: nightly_build over business dates 2026-01-01..2026-01-10\nboom: out of memory\n")
    return Measured(
        command=["cx-nightly"],
        returncode=returncode,
        wall_s=total,
        started_at=90.0,
        ended_at=90.0 + total,
        samples=[MemorySample(120.0, peak // 2), MemorySample(150.0, peak), MemorySample(190.0, peak // 4)],
        ru_maxrss=peak // 2,
        log_path=log,
    )


# A full night that failed in dbt: ingest and one dbt subset succeeded, the next dbt subset failed (retried
# once, failed again); the later stages never started.
FAILED_EVENTS = [
    StepEvent("r1", "cx_dbt_models_3", "STEP_START", 100.0),
    StepEvent("r1", "cx_dbt_models_3", "STEP_SUCCESS", 110.0),
    StepEvent("r1", "ingest_extracts", "STEP_START", 110.0),
    StepEvent("r1", "ingest_extracts", "STEP_SUCCESS", 140.0),
    StepEvent("r1", "cx_dbt_models_2", "STEP_START", 140.0),
    StepEvent("r1", "cx_dbt_models_2", "STEP_FAILURE", 160.0),
    StepEvent("r1", "cx_dbt_models_2", "STEP_START", 161.0),
    StepEvent("r1", "cx_dbt_models_2", "STEP_FAILURE", 171.0),
]


def test_failed_night_keeps_the_total_and_the_stages_of_the_steps_that_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = BenchPaths(tmp_path)
    (tmp_path / "logs").mkdir()
    measured = _failed_measured(tmp_path / "logs", "full", 110.0, 3 * GIB)
    asked: list[tuple[list[str], float]] = []

    def fake_event_log(home: Path, run_ids: list[str], created_after: float) -> EventLog:
        asked.append((list(run_ids), created_after))
        return EventLog(["r1"], FAILED_EVENTS, {})

    monkeypatch.setattr(bench_night, "read_event_log", fake_event_log)
    night = failed_night("full", paths, "1GB", measured)

    assert asked == [([], 89.0)]  # no "(runs: ...)" line: the runs created since the night started
    assert night.failed and night.error is not None
    assert "exited 1" in night.error and str(measured.log_path) in night.error
    assert night.event_log_error is None and night.rows_error is None
    assert night.run_ids == ["r1"]
    status = {stage: fig.status for stage, fig in night.stages.items()}
    assert status == {
        "ingest": "ran",
        "dbt_build": "failed",
        "models": "not_run",
        "checks": "not_run",
        "publish": "not_run",
    }
    ingest, dbt = night.stages["ingest"], night.stages["dbt_build"]
    assert ingest.wall_s == 30.0 and ingest.peak_rss == 3 * GIB // 2  # the sample at 120.0, in 110..140
    assert dbt.wall_s == 10.0 + 20.0 + 10.0 and dbt.peak_rss == 3 * GIB
    assert dbt.steps == ("cx_dbt_models_3", "cx_dbt_models_2", "cx_dbt_models_2")
    for stage in ("models", "checks", "publish"):
        fig = night.stages[stage]
        assert (fig.rows, fig.wall_s, fig.peak_rss, fig.steps) == (None, None, None, ())
        assert fig.rows_source.startswith("not measured")
    assert night.stages["ingest"].rows is None  # no warehouse: nothing to count
    assert night.total_s == 110.0 and night.measured.peak_rss == 3 * GIB
    assert night.other_s == pytest.approx(110.0 - 70.0)


def test_failed_night_when_the_event_log_cannot_be_read_keeps_the_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(home: Path, run_ids: list[str], created_after: float) -> EventLog:
        raise OSError("disk full: event log unreadable")

    monkeypatch.setattr(bench_night, "read_event_log", broken)
    measured = _failed_measured(tmp_path, "full", 75.5, 2 * GIB, returncode=-9)
    night = failed_night("full", BenchPaths(tmp_path), "1GB", measured)

    assert night.error is not None and "killed by signal 9 (SIGKILL)" in night.error
    assert night.event_log_error == "OSError: disk full: event log unreadable"
    assert {fig.status for fig in night.stages.values()} == {"unknown"}
    assert all(fig.wall_s is None and fig.rows is None for fig in night.stages.values())
    assert night.total_s == 75.5 and night.other_s == 75.5

    report = _report(night, None)
    assert report["status"] == "failed" and report["failed_night"] == "full"
    assert report["full_night"]["event_log_error"] == "OSError: disk full: event log unreadable"
    assert report["full_night"]["total"]["wall_s"] == 75.5
    assert report["full_night"]["total"]["peak_mib"] == 2048.0
    text = format_report(report)
    assert "the event log could not be read: OSError: disk full" in text
    assert "not measured (event log unreadable)" in text


def _failed_full_report(tmp_path: Path) -> dict:
    grouped, _ = group_steps(steps_from_events(FAILED_EVENTS), required=())
    measured = _failed_measured(tmp_path, "full", 110.0, 3 * GIB)
    rows = bench_night.NightRows(ingest=4000, dbt_build=12000, models=None, published=None)
    stages = failed_stage_figures(grouped, measured, rows, {})
    full = NightResult(
        "full",
        measured,
        ["r1"],
        steps_from_events(FAILED_EVENTS),
        stages,
        error=f"cx-nightly (full night) exited 1; log: {measured.log_path}",
    )
    return _report(full, None)


def test_report_of_a_failed_full_night(tmp_path: Path) -> None:
    report = _failed_full_report(tmp_path)

    assert report["status"] == "failed" and report["failed_night"] == "full"
    assert report["error"].startswith("cx-nightly (full night) exited 1")
    assert report["log_tail"].endswith("boom: out of memory")
    # Everything measured before the failure is there: generate, held back, floor, the night's total.
    assert report["stages"]["generate"]["rows"] == 6000
    assert report["held_back"] == {"business_date": "2026-01-11", "files": 11}
    assert report["floor"]["floor_s"] == 40.0
    assert report["full_night"]["status"] == "failed"
    assert report["full_night"]["total"]["wall_s"] == 110.0
    assert report["full_night"]["total"]["peak_mib"] == 3072.0
    assert report["full_night"]["total"]["rows"] == 4000  # = ingest rows
    assert report["stages"]["ingest"] == {
        "rows": 4000,
        "wall_s": 30.0,
        "peak_mib": 1536.0,
        "steps": ["ingest_extracts"],
        "rows_source": "raw._load_manifest.rows_loaded of the night's runs (until it stopped)",
        "status": "ran",
    }
    assert report["stages"]["dbt_build"]["status"] == "failed"
    assert report["stages"]["dbt_build"]["rows"] == 12000
    assert report["stages"]["models"]["status"] == "not_run"
    assert report["stages"]["models"]["wall_s"] is None
    assert report["full_night"]["other_s"] == pytest.approx(40.0)
    # No incremental night, and the report says so.
    assert report["incremental_night"] is None and report["incremental_over_full"] is None
    assert report["total_over_floor"] is None
    assert set(report["not_measured"]) == {"total_over_floor", "incremental_night", "incremental_over_full"}
    assert "full night failed after 110.0 s" in report["not_measured"]["incremental_night"]
    # No target can be met by a night that did not finish, even where the partial figure is under the limit.
    targets = {t["name"]: t for t in report["targets"]}
    assert [t["met"] for t in report["targets"]] == [False, False, False]
    assert all(t["value"] is None for t in report["targets"])
    assert "2.75 x floor until then, a lower bound" in targets["total_vs_floor"]["note"]
    assert "peak until then 3.00 GiB" in targets["full_peak_memory"]["note"]

    text = format_report(report)
    assert [line for line in text.splitlines() if line.startswith("FAILED: ")] == [
        f"FAILED: {report['error']}",
        "FAILED: the full night failed; the figures above stop there.",
    ]
    assert "cx-nightly (full night) exited 1" in text
    assert "not run: the full night failed after 110.0 s" in text
    assert "FAILED (cx_dbt_models_2 failure)" in text
    assert "   not run" in text
    assert "total / floor  -   (not measured" in text
    assert " met" not in text.split("Targets")[1]
    assert text.split("Targets")[1].count("MISSED") == 3

    latest = tmp_path / "latest.json"
    latest.write_text('{"status": "ok"}')  # an earlier successful bench
    written = write_report(report, tmp_path / "bench", latest)
    assert written[0].parent == tmp_path / "bench" and written[0].name.endswith("_failed.json")
    assert json.loads(written[0].read_text()) == report
    assert json.loads(latest.read_text())["status"] == "failed"  # the latest run failed


def test_report_of_a_failed_incremental_night(tmp_path: Path) -> None:
    full = _night("full", 130.0, 2 * GIB, tmp_path)
    events = [
        StepEvent("i1", "ingest_extracts", "STEP_START", 100.0),
        StepEvent("i1", "ingest_extracts", "STEP_SUCCESS", 101.0),
        StepEvent("i1", "cx_dbt_models_3", "STEP_START", 101.0),
        StepEvent("i1", "cx_dbt_models_3", "STEP_SUCCESS", 104.0),
        StepEvent("i1", "propensity_models", "STEP_START", 104.0),  # never ended: the process was killed
    ]
    measured = _failed_measured(tmp_path, "incremental", 20.0, GIB, returncode=-9)
    measured.ended_at = 110.0
    steps = sorted(
        steps_from_events(events) + unfinished_steps(events, measured.ended_at), key=lambda s: s.start
    )
    grouped, _ = group_steps(steps, required=())
    rows = bench_night.NightRows(ingest=300, dbt_build=9000, models=77, published=5000)
    incremental = NightResult(
        "incremental",
        measured,
        ["i1"],
        steps,
        failed_stage_figures(grouped, measured, rows, {}),
        error="cx-nightly (incremental night) was killed by signal 9 (SIGKILL); log: x",
    )
    report = _report(full, incremental, reused=True)

    assert report["status"] == "failed" and report["failed_night"] == "incremental"
    assert report["full_night"]["status"] == "succeeded"
    assert report["total_over_floor"] == pytest.approx(3.25)  # the full night finished: measured
    assert report["incremental_over_full"] is None
    assert list(report["not_measured"]) == ["incremental_over_full"]
    inc = report["incremental_night"]
    assert inc["status"] == "failed" and inc["total"]["wall_s"] == 20.0
    assert inc["stages"]["models"]["status"] == "failed"
    assert inc["stages"]["models"]["wall_s"] == 6.0  # 104.0 until the process exited at 110.0
    assert inc["stages"]["models"]["rows"] is None  # the table may be the full night's
    assert inc["stages"]["dbt_build"]["status"] == "ran" and inc["stages"]["dbt_build"]["rows"] == 9000
    assert inc["stages"]["publish"]["rows"] is None and inc["stages"]["publish"]["status"] == "not_run"
    assert [s["status"] for s in inc["steps"]] == ["success", "success", "unfinished"]
    targets = {t["name"]: t for t in report["targets"]}
    assert targets["total_vs_floor"]["value"] == pytest.approx(3.25) and not targets["total_vs_floor"]["met"]
    assert targets["full_peak_memory"]["met"] and targets["full_peak_memory"]["note"] is None
    assert targets["incremental_vs_full"]["value"] is None and not targets["incremental_vs_full"]["met"]
    assert "15.4% of the full night until then" in targets["incremental_vs_full"]["note"]

    text = format_report(report)
    assert "FAILED: cx-nightly (incremental night) was killed by signal 9" in text
    assert "FAILED (propensity_models unfinished)" in text
    assert "incremental / full  -   (not measured" in text


# --- the whole bench with a cx-nightly that fails -------------------------------------------------------

CUSTOMERS, DAYS = 200, 3

# A stand-in for cx-nightly that runs a real Dagster job into $DAGSTER_HOME: the ingest step succeeds, then
# the dbt step holds ~150 MiB and the process is killed in the middle of it (as the kernel does when memory
# runs out): no STEP_FAILURE, no "(runs: ...)" line.
KILLED_NIGHTLY = """
    import os, signal, time
    import dagster as dg

    @dg.op
    def ingest_extracts() -> int:
        time.sleep(0.5)
        return 1

    @dg.op
    def cx_dbt_models(x: int) -> int:
        held = bytearray(150 * 1024 * 1024)
        held[::4096] = b"x" * len(held[::4096])
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)
        return x

    @dg.op
    def published_marts(x: int) -> None:
        pass

    @dg.job
    def nightly_build():
        published_marts(cx_dbt_models(ingest_extracts()))

    print("Run 1/1: nightly_build over business dates 2026-01-01..2026-01-03", flush=True)
    nightly_build.execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False)
"""


def _fake_nightly(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the bench run ``body`` (Python, this interpreter) as cx-nightly."""
    script = tmp_path / "fake-cx-nightly"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    real = bench_night.executable
    monkeypatch.setattr(
        bench_night, "executable", lambda name: str(script) if name == "cx-nightly" else real(name)
    )


def _bench_dir(tmp_path: Path) -> Path:
    """A bench directory whose landing tree ``--reuse-landing`` takes (no cx-generate subprocess)."""
    root = tmp_path / "b"
    summary = generate(out=root / "landing", truth_dir=root / "truth", customers=CUSTOMERS, days=DAYS + 1)
    marker = bench_landing.GenerationMarker(
        customers=CUSTOMERS,
        days=DAYS,
        seed=42,
        generated_days=DAYS + 1,
        rows=sum(summary.rows.values()),
        files=bench_landing.count_files(root / "landing"),
        wall_s=1.0,
        peak_rss=MIB,
        generated_at="2026-01-01T00:00:00+00:00",
    )
    bench_landing.write_marker(root, marker)
    return root


def _run_bench(root: Path, latest: Path) -> int:
    args = ["--customers", str(CUSTOMERS), "--days", str(DAYS), "--dir", str(root), "--reuse-landing"]
    return bench_main([*args, "--latest", str(latest), "--memory-limit", "1GB", "--sample-interval", "0.05"])


def test_bench_whose_full_night_exits_non_zero_writes_a_failed_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_nightly(tmp_path, "import sys\nprint('cx-nightly: no luck tonight')\nsys.exit(3)\n", monkeypatch)
    root, latest = _bench_dir(tmp_path), tmp_path / "latest.json"

    assert _run_bench(root, latest) == 1

    out, err = capsys.readouterr()
    [written] = root.glob("bench_*.json")
    assert written.name.endswith("_failed.json")
    report = json.loads(written.read_text())
    assert json.loads(latest.read_text()) == report
    assert report["status"] == "failed" and report["failed_night"] == "full"
    assert "exited 3" in report["error"] and report["log_tail"] == "cx-nightly: no luck tonight"
    assert report["stages"]["generate"]["reused"] is True
    assert report["floor"]["floor_s"] > 0 and report["floor"]["rows"] > 0
    assert report["held_back"]["files"] > 0
    assert report["full_night"]["total"]["wall_s"] > 0
    assert report["full_night"]["total"]["peak_mib"] > 0
    assert report["full_night"]["event_log_error"] is None  # read, and empty: no Dagster run
    assert {report["stages"][s]["status"] for s in NIGHT_STAGES} == {"not_run"}
    assert report["incremental_night"] is None and "incremental_night" in report["not_measured"]
    assert not any(t["met"] for t in report["targets"])
    assert not (root / "logs" / "incremental_night.log").exists()
    assert "FAILED: cx-nightly (full night) exited 3" in out and str(written) in out
    assert "cx-nightly: no luck tonight" in err


def test_bench_whose_night_is_killed_mid_step_keeps_the_steps_that_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_nightly(tmp_path, KILLED_NIGHTLY, monkeypatch)
    root, latest = _bench_dir(tmp_path), tmp_path / "latest.json"

    assert _run_bench(root, latest) == 1

    out, _ = capsys.readouterr()
    report = json.loads(latest.read_text())
    [written] = root.glob("bench_*.json")
    assert written.name.endswith("_failed.json")
    assert report["status"] == "failed" and report["failed_night"] == "full"
    assert "killed by signal 9 (SIGKILL)" in report["error"]
    night = report["full_night"]
    assert night["event_log_error"] is None and len(night["run_ids"]) == 1  # found by its start time
    assert [(s["step_key"], s["status"]) for s in night["steps"]] == [
        ("ingest_extracts", "success"),
        ("cx_dbt_models", "unfinished"),
    ]
    stages = report["stages"]
    assert stages["ingest"]["status"] == "ran" and stages["ingest"]["wall_s"] >= 0.5
    assert stages["dbt_build"]["status"] == "failed" and stages["dbt_build"]["wall_s"] >= 1.0
    assert stages["dbt_build"]["peak_mib"] >= 150  # the step that was killed held 150 MiB
    assert night["total"]["peak_mib"] >= stages["dbt_build"]["peak_mib"]
    assert stages["publish"]["status"] == "not_run" and stages["publish"]["wall_s"] is None
    assert night["total"]["wall_s"] >= stages["ingest"]["wall_s"] + stages["dbt_build"]["wall_s"]
    assert night["other_s"] >= 0
    assert "FAILED (cx_dbt_models unfinished)" in out


def test_run_night_raises_night_failed_carrying_the_measured_night(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_nightly(tmp_path, "import sys\nsys.exit(5)\n", monkeypatch)
    monkeypatch.setattr(bench_night, "read_event_log", lambda *a, **k: EventLog([], [], {}))
    with pytest.raises(NightFailed, match=r"cx-nightly \(full night\) exited 5") as caught:
        run_night("full", BenchPaths(tmp_path), "1GB", interval=0.05)
    assert caught.value.night.failed and caught.value.night.measured.returncode == 5
    assert caught.value.night.total_s > 0


def test_bench_start_ends_the_generated_days_yesterday() -> None:
    today = date(2026, 11, 22)
    start = bench_landing.bench_start(180, today)
    marker = bench_landing.GenerationMarker(
        customers=1, days=180, seed=42, generated_days=181, rows=None, files=0, wall_s=0.0, peak_rss=0,
        generated_at="2026-11-22T00:00:00+00:00", start_date=start.isoformat(),
    )  # fmt: skip
    assert start == date(2026, 5, 25)
    assert marker.last_date() == date(2026, 11, 21)
    # A marker from before start_date was recorded: its tree starts on the generator's default start.
    assert replace(marker, start_date=None).last_date() == date(2027, 1, 16)


def test_reuse_regenerates_a_landing_tree_that_runs_past_today(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _bench_dir(tmp_path)
    marker = bench_landing.read_marker(root)
    assert marker is not None
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    bench_landing.write_marker(root, replace(marker, start_date=today.isoformat()))  # ends DAYS days from now
    calls = tmp_path / "generate-args.json"
    script = tmp_path / "fake-cx-generate"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(calls)!r}, 'w').write(json.dumps(sys.argv[1:]))\nsys.exit(1)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    real = bench_night.executable
    monkeypatch.setattr(
        bench_cli, "executable", lambda name: str(script) if name == "cx-generate" else real(name)
    )

    with pytest.raises(RuntimeError, match="cx-generate exited 1"):
        _run_bench(root, tmp_path / "latest.json")

    assert "not before today: the quality gate blocks events dated in the future" in capsys.readouterr().out
    argv = json.loads(calls.read_text())
    start = date.fromisoformat(argv[argv.index("--start-date") + 1])
    assert start == today - timedelta(days=DAYS + 1)  # DAYS + 1 days, the last one yesterday
