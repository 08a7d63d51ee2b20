"""``cx-bench``: benchmark the nightly build (``make bench``); see :mod:`cx_warehouse.bench`.

Steps, all inside ``--dir`` (default ``data/bench/c<customers>_d<days>``):

1. generate: ``cx-generate`` writes ``days + 1`` business days into ``landing/`` (skipped with
   ``--reuse-landing`` when ``generated.json`` says the same customers, days and seed), then the last
   business date's files move to ``held_back/``;
2. unless ``--keep``: remove the warehouse, published file, Dagster home and quality reports of earlier runs;
3. floor: DuckDB reads every file of ``landing/`` once (:mod:`cx_warehouse.bench.floor`);
4. full night: ``cx-nightly`` on ``landing/`` (``days`` days) into an empty warehouse;
5. incremental night: the held-back files go back to ``landing/``, ``cx-nightly`` runs again;
6. print the table and the targets; write ``bench_<UTC timestamp>.json`` and ``--latest``.

When a night fails (``cx-nightly`` exits non-zero or is killed), what was measured until then is still
printed and written, as ``bench_<UTC timestamp>_failed.json`` and ``--latest``, with ``"status": "failed"``
(see :mod:`cx_warehouse.bench.report`); after a failed full night no incremental night runs. ``cx-bench``
then exits 1.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cx_warehouse.bench import landing as bench_landing
from cx_warehouse.bench.floor import measure_floor
from cx_warehouse.bench.night import (
    BenchPaths,
    NightFailed,
    NightResult,
    executable,
    prepare_dagster_home,
    run_night,
)
from cx_warehouse.bench.procs import run_measured
from cx_warehouse.bench.report import build_report, format_report, machine_info, stage_dict, write_report
from cx_warehouse.bench.stages import StageMappingError

# The business dates' time zone: "today" there is the first date the bench does not generate.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

DEFAULT_MEMORY_LIMIT = "6GB"
_TOTAL_LINE = re.compile(r"^total\s+([\d,]+)\s*$", re.MULTILINE)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cx-bench",
        description="Benchmark the nightly build: per stage rows, wall time and peak memory, the floor "
        "(DuckDB reading every landing file once), a one-day incremental night, and the targets.",
    )
    parser.add_argument("--customers", type=int, default=1_000_000, help="persons to generate (1000000)")
    parser.add_argument("--days", type=int, default=180, help="business days of the full build (180)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (42)")
    parser.add_argument(
        "--dir", type=Path, default=None, help="bench directory (default: data/bench/c<customers>_d<days>)"
    )
    parser.add_argument(
        "--memory-limit",
        default=os.environ.get("CX_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
        help="DuckDB memory limit for the floor and the nights, passed on as CX_DUCKDB_MEMORY_LIMIT "
        f"(default: $CX_DUCKDB_MEMORY_LIMIT or {DEFAULT_MEMORY_LIMIT})",
    )
    parser.add_argument(
        "--reuse-landing",
        action="store_true",
        help="skip generation when <dir>/landing was generated with the same customers, days and seed",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the warehouse, published file and Dagster home of an earlier bench (default: the full "
        "build starts from empty)",
    )
    parser.add_argument(
        "--latest",
        type=Path,
        default=Path("data/bench/latest.json"),
        help="where to write a copy of the JSON report (default: data/bench/latest.json)",
    )
    parser.add_argument(
        "--sample-interval", type=float, default=0.25, help="seconds between memory samples (0.25)"
    )
    return parser


def _say(message: str) -> None:
    print(f"[cx-bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def parse_generated_rows(output: str) -> int | None:
    """Rows written, from ``cx-generate``'s summary line ``total  <n>`` (None if it printed none)."""
    match = _TOTAL_LINE.search(output)
    return int(match.group(1).replace(",", "")) if match else None


def generate_stage(paths: BenchPaths, args: argparse.Namespace) -> dict[str, Any]:
    """Generate ``days + 1`` days (or reuse them), hold back the last date; the generate stage's figures."""
    marker = bench_landing.read_marker(paths.root)
    today = datetime.now(AMSTERDAM).date()
    reuse = (
        args.reuse_landing
        and marker is not None
        and marker.matches(args.customers, args.days, args.seed)
        and paths.landing.is_dir()
        and bench_landing.count_files(paths.landing, paths.held_back) == marker.files
    )
    if reuse and marker is not None and marker.last_date() >= today:
        _say(
            f"the landing tree in {paths.landing} runs to {marker.last_date()}, not before today: the "
            "quality gate blocks events dated in the future, so its night could not publish"
        )
        reuse = False
    if reuse and marker is not None:
        _say(f"reusing the landing tree in {paths.landing} (generated {marker.generated_at})")
        # An earlier bench may have stopped with the last date held back or after putting it back.
        bench_landing.restore(paths.held_back, paths.landing)
    else:
        if args.reuse_landing:
            _say("no matching generated landing tree: generating")
        for old in (paths.landing, paths.held_back, paths.truth, paths.root / bench_landing.MARKER_NAME):
            bench_landing.remove_tree(old)
        days = args.days + 1
        start = bench_landing.bench_start(args.days, today)
        _say(f"generating {args.customers:,} customers x {days} days from {start} into {paths.landing}")
        measured = run_measured(
            [
                executable("cx-generate"),
                "--out",
                str(paths.landing),
                "--truth-dir",
                str(paths.truth),
                "--customers",
                str(args.customers),
                "--days",
                str(days),
                "--seed",
                str(args.seed),
                "--start-date",
                start.isoformat(),
            ],
            env=dict(os.environ),
            log_path=paths.logs / "generate.log",
            interval=args.sample_interval,
        )
        if measured.returncode != 0:
            raise RuntimeError(f"cx-generate exited {measured.returncode}:\n{measured.log_tail()}")
        rows = parse_generated_rows(measured.log_path.read_text() if measured.log_path else "")
        if rows is None:
            _say("warning: cx-generate printed no 'total' line: generate rows unknown")
        marker = bench_landing.GenerationMarker(
            customers=args.customers,
            days=args.days,
            seed=args.seed,
            generated_days=days,
            rows=rows,
            files=bench_landing.count_files(paths.landing),
            wall_s=round(measured.wall_s, 3),
            peak_rss=measured.peak_rss,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            start_date=start.isoformat(),
        )
        bench_landing.write_marker(paths.root, marker)
    return stage_dict(
        marker.rows,
        marker.wall_s,
        marker.peak_rss,
        reused=bool(reuse),
        days_generated=marker.generated_days,
        files=marker.files,
        rows_source="rows cx-generate wrote (all days + 1 days)",
    )


def _night(label: str, paths: BenchPaths, args: argparse.Namespace) -> NightResult:
    """One measured night; a failed one too (its :attr:`NightResult.error` set), announced."""
    try:
        night = run_night(label, paths, args.memory_limit, interval=args.sample_interval)
    except NightFailed as exc:
        _say(f"{label} night FAILED after {exc.night.total_s:.1f} s: {exc.night.error}")
        return exc.night
    _say(f"{label} night {night.total_s:.1f} s")
    return night


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole bench; returns the report (also printed and written, a failed night's too).

    The report's ``status`` is ``"failed"`` when a night failed; after a failed full night, no incremental
    night runs (the held-back files stay in ``held_back/``; ``--reuse-landing`` puts them back next time).
    """
    started_at = datetime.now(UTC)
    root = (args.dir or Path("data/bench") / f"c{args.customers}_d{args.days}").resolve()
    paths = BenchPaths(root)
    paths.logs.mkdir(parents=True, exist_ok=True)
    machine = machine_info()

    generate = generate_stage(paths, args)
    business_date, held = bench_landing.hold_back(paths.landing, paths.held_back)
    _say(f"held back {len(held)} files of business date {business_date} in {paths.held_back}")

    if not args.keep:
        for output in paths.build_outputs():
            bench_landing.remove_tree(output)
    prepare_dagster_home(paths.dagster_home)

    _say("floor: DuckDB reads every landing file once")
    floor = measure_floor(paths.landing, paths.floor_db, args.memory_limit)
    _say(f"floor {floor.seconds:.1f} s for {floor.rows:,} rows in {floor.files:,} files")

    _say(f"full night: cx-nightly (log: {paths.logs / 'full_night.log'})")
    full = _night("full", paths, args)

    incremental: NightResult | None = None
    if not full.failed:
        restored = bench_landing.restore(paths.held_back, paths.landing)
        _say(
            f"put back {len(restored)} files; incremental night (log: {paths.logs / 'incremental_night.log'})"
        )
        incremental = _night("incremental", paths, args)

    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    config = {
        "customers": args.customers,
        "days": args.days,
        "seed": args.seed,
        "dir": str(root),
        "memory_limit": args.memory_limit,
        "reuse_landing": args.reuse_landing,
        "keep": args.keep,
        "sample_interval_s": args.sample_interval,
    }
    report = build_report(
        config=config,
        machine=machine,
        generate=generate,
        held_back={"business_date": business_date.isoformat(), "files": len(held)},
        floor=floor,
        full=full,
        incremental=incremental,
        started_at=started_at,
    )
    print()
    print(format_report(report))
    written = write_report(report, root, args.latest.resolve() if args.latest else None)
    print("\nJSON: " + ", ".join(str(p) for p in written))
    return report


def main(argv: list[str] | None = None) -> int:
    """``cx-bench``: 0 when both nights succeeded; 1 when one failed (its report is written all the same)."""
    args = _parser().parse_args(argv)
    if args.customers < 1 or args.days < 1:
        print("cx-bench: --customers and --days must be at least 1", file=sys.stderr)
        return 2
    try:
        report = run(args)
    except StageMappingError as exc:
        print(f"cx-bench: {exc}", file=sys.stderr)
        return 1
    if report["status"] != "ok":
        print(f"cx-bench: {report['error']}\n{report['log_tail']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
