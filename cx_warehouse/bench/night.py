"""One measured night: ``cx-nightly`` as a subprocess, then its Dagster event log and its row counts.

The bench depends only on the ``cx-nightly`` command, the environment variables it reads, the Dagster event
log of the runs it made and table names in the warehouse and the published file. The warehouse is opened
read-only, and only after the night ended (DuckDB allows one writer).

Figures of a stage (see :mod:`cx_warehouse.bench.stages` for which steps make a stage):

- ``wall_s``: the sum of its steps' durations (STEP_START to STEP_SUCCESS/FAILURE in the event log);
- ``peak_rss``: the largest process-tree RSS sample taken while one of its steps ran;
- ``rows``: ingest: rows loaded by the night's runs (``raw._load_manifest.rows_loaded``); dbt build: rows of
  the tables in schemas staging, intermediate and marts after the night, except the tables the propensity
  step writes; models: rows of ``marts.customer_propensity``; checks: rows the quality gate's checks
  validated (their ``rows_validated`` metadata, summed over checks), else the published rows; publish: rows
  of the published file's tables (schema main). Rows after an incremental night are table sizes, not rows
  touched, except ingest.

The night's total is the subprocess: ``wall_s`` from start to exit, ``peak_rss`` the largest sample, and
``other_s`` = total minus the stages' wall (Python and Dagster start-up, run set-up, between steps).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from cx_warehouse.bench.procs import Measured, peak_in_windows, run_measured
from cx_warehouse.bench.stages import (
    NIGHT_STAGES,
    STEP_ENDS,
    STEP_START,
    StepEvent,
    StepRecord,
    group_steps,
    stage_wall,
    steps_from_events,
)

# Tables in the dbt schemas that the propensity step (not dbt) writes: counted under models, not dbt build.
MODEL_TABLES = (("marts", "customer_propensity"), ("marts", "model_metrics"))
DBT_SCHEMAS = ("staging", "intermediate", "marts")
PROPENSITY_TABLE = ("marts", "customer_propensity")
PUBLISHED_SCHEMA = "main"
_RUNS_LINE = re.compile(r"\(runs: ([0-9a-f, -]+)\)")


class NightFailed(RuntimeError):
    """``cx-nightly`` exited non-zero."""


@dataclass(frozen=True)
class BenchPaths:
    """Every file of one bench directory (``--dir``)."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def held_back(self) -> Path:
        return self.root / "held_back"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "marts.duckdb"

    @property
    def quality(self) -> Path:
        return self.root / "quality"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def floor_db(self) -> Path:
        return self.root / "floor.duckdb"

    def build_outputs(self) -> list[Path]:
        """What a night writes (removed before the full night unless ``--keep``)."""
        outputs = [self.dagster_home, self.quality]
        for db in (self.warehouse, self.published):
            outputs += [db, db.with_name(db.name + ".wal")]
        outputs += sorted(self.root.glob("marts.duckdb.*"))  # the publisher's temporary files, if left
        return outputs


@dataclass(frozen=True)
class StageFigures:
    """One stage: rows (see the module docstring), wall seconds, peak tree RSS bytes, its steps."""

    rows: int | None
    wall_s: float
    peak_rss: int | None
    steps: tuple[str, ...] = ()
    rows_source: str = ""


@dataclass
class NightResult:
    """One measured ``cx-nightly``: its process, runs, steps and per-stage figures."""

    label: str
    measured: Measured
    run_ids: list[str]
    steps: list[StepRecord]
    stages: dict[str, StageFigures]
    unmapped: list[StepRecord] = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return self.measured.wall_s

    @property
    def other_s(self) -> float:
        """Total minus the stages' wall: start-up, run set-up and time between steps."""
        return self.measured.wall_s - sum(s.wall_s for s in self.stages.values())


def executable(name: str) -> str:
    """A console script of this virtualenv (beside the running interpreter), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found beside {sys.executable} nor on PATH")
    return found


def prepare_dagster_home(home: Path) -> None:
    """Create ``home`` with the project's instance settings (``orchestration/dagster.yaml``)."""
    home.mkdir(parents=True, exist_ok=True)
    config = resources.files("orchestration").joinpath("dagster.yaml")
    (home / "dagster.yaml").write_text(config.read_text())


def night_env(paths: BenchPaths, memory_limit: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a bench ``cx-nightly``: every path inside the bench directory."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "DAGSTER_HOME": str(paths.dagster_home),
            "CX_LANDING_DIR": str(paths.landing),
            "CX_WAREHOUSE_PATH": str(paths.warehouse),
            "CX_PUBLISH_PATH": str(paths.published),
            "CX_GROUND_TRUTH_DIR": str(paths.truth),
            "CX_QUALITY_DIR": str(paths.quality),
            "CX_DUCKDB_MEMORY_LIMIT": memory_limit,
            "PYTHONUNBUFFERED": "1",
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    return env


def run_ids_from_output(text: str) -> list[str]:
    """The run ids ``cx-nightly`` prints (``... (runs: <id>, <id>)``), or [] when it printed none."""
    ids: list[str] = []
    for match in _RUNS_LINE.finditer(text):
        ids += [part.strip() for part in match.group(1).split(",") if part.strip()]
    return list(dict.fromkeys(ids))


@dataclass
class EventLog:
    """What the bench reads from the Dagster event log of a night's runs."""

    run_ids: list[str]
    step_events: list[StepEvent]
    rows_validated: dict[str, int]  # step key -> sum of the check evaluations' rows_validated metadata


def read_event_log(dagster_home: Path, run_ids: Sequence[str], created_after: float) -> EventLog:
    """Step events and check rows of ``run_ids``, or (when empty) of the runs created after the epoch time."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        if not run_ids:
            after = datetime.fromtimestamp(created_after, UTC)
            records = [r for r in instance.get_run_records() if r.create_timestamp >= after]
            run_ids = [r.dagster_run.run_id for r in sorted(records, key=lambda r: r.create_timestamp)]
        step_events: list[StepEvent] = []
        rows_validated: dict[str, int] = {}
        for run_id in run_ids:
            for entry in instance.all_logs(run_id):
                event = entry.dagster_event
                if event is None or event.step_key is None:
                    continue
                kind = event.event_type_value
                if kind == STEP_START or kind in STEP_ENDS:
                    step_events.append(StepEvent(run_id, event.step_key, kind, entry.timestamp))
                elif kind == "ASSET_CHECK_EVALUATION":
                    metadata: dict[str, Any] = getattr(event.event_specific_data, "metadata", None) or {}
                    value = metadata.get("rows_validated")
                    if value is not None and isinstance(getattr(value, "value", None), int):
                        rows_validated[event.step_key] = rows_validated.get(event.step_key, 0) + value.value
    finally:
        instance.dispose()
    return EventLog(list(run_ids), step_events, rows_validated)


@contextmanager
def _read_only(path: Path, memory_limit: str) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path), read_only=True, config={"memory_limit": memory_limit})
    try:
        yield con
    finally:
        con.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(con: duckdb.DuckDBPyConnection, schemas: Sequence[str]) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        f"""select schema_name, table_name from duckdb_tables()
            where database_name = current_database() and schema_name in ({placeholders})
            order by 1, 2""",
        list(schemas),
    ).fetchall()
    return [(str(s), str(t)) for s, t in rows]


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    return int(con.execute(f"select count(*) from {_quote(schema)}.{_quote(table)}").fetchall()[0][0])


@dataclass(frozen=True)
class NightRows:
    """Row counts of a night (see the module docstring); None where the table is missing."""

    ingest: int | None
    dbt_build: int | None
    models: int | None
    published: int | None


def night_rows(paths: BenchPaths, run_ids: Sequence[str], memory_limit: str) -> NightRows:
    """Rows loaded by ``run_ids`` and table sizes after the night, from the warehouse and published file."""
    with _read_only(paths.warehouse, memory_limit) as con:
        raw_tables = _tables(con, ["raw"])
        ingest = None
        if ("raw", "_load_manifest") in raw_tables and run_ids:
            placeholders = ", ".join("?" for _ in run_ids)
            ingest = int(
                con.execute(
                    "select coalesce(sum(rows_loaded), 0) from raw._load_manifest "
                    f"where run_id in ({placeholders})",
                    list(run_ids),
                ).fetchall()[0][0]
            )
        dbt_tables = [t for t in _tables(con, DBT_SCHEMAS) if t not in MODEL_TABLES]
        dbt_build = sum(_count(con, s, t) for s, t in dbt_tables) if dbt_tables else None
        has_propensity = PROPENSITY_TABLE in _tables(con, [PROPENSITY_TABLE[0]])
        models = _count(con, *PROPENSITY_TABLE) if has_propensity else None
    published = None
    if paths.published.exists():
        with _read_only(paths.published, memory_limit) as con:
            published = sum(_count(con, s, t) for s, t in _tables(con, [PUBLISHED_SCHEMA]))
    return NightRows(ingest=ingest, dbt_build=dbt_build, models=models, published=published)


def stage_figures(
    grouped: dict[str, list[StepRecord]],
    measured: Measured,
    rows: NightRows,
    rows_validated: dict[str, int],
) -> dict[str, StageFigures]:
    """Per night stage: rows, wall (sum of its steps) and peak tree RSS inside its steps' windows."""
    check_steps = {s.step_key for s in grouped["checks"]}
    validated = [n for key, n in rows_validated.items() if key in check_steps]
    stage_rows: dict[str, tuple[int | None, str]] = {
        "ingest": (rows.ingest, "raw._load_manifest.rows_loaded of the night's runs"),
        "dbt_build": (rows.dbt_build, "rows of the staging/intermediate/marts tables dbt builds"),
        "models": (rows.models, "rows of marts.customer_propensity"),
        "checks": (
            (sum(validated), "rows_validated of the quality gate's checks")
            if validated
            else (rows.published, "rows of the published tables (no rows_validated in the event log)")
        ),
        "publish": (rows.published, "rows of the published file's tables"),
    }
    figures: dict[str, StageFigures] = {}
    for stage in NIGHT_STAGES:
        steps = grouped[stage]
        figures[stage] = StageFigures(
            rows=stage_rows[stage][0],
            wall_s=stage_wall(steps),
            peak_rss=peak_in_windows(measured.samples, [(s.start, s.end) for s in steps]),
            steps=tuple(s.step_key for s in steps),
            rows_source=stage_rows[stage][1],
        )
    return figures


def run_night(label: str, paths: BenchPaths, memory_limit: str, *, interval: float = 0.25) -> NightResult:
    """Run ``cx-nightly`` on the bench directory and measure it; raises :class:`NightFailed` on failure."""
    log_path = paths.logs / f"{label}_night.log"
    measured = run_measured(
        [executable("cx-nightly")],
        env=night_env(paths, memory_limit),
        log_path=log_path,
        interval=interval,
    )
    if measured.returncode != 0:
        raise NightFailed(
            f"cx-nightly ({label} night) exited {measured.returncode}; log: {log_path}\n{measured.log_tail()}"
        )
    printed = run_ids_from_output(log_path.read_text(errors="replace"))
    events = read_event_log(paths.dagster_home, printed, created_after=measured.started_at - 1.0)
    steps = steps_from_events(events.step_events)
    grouped, unmapped = group_steps(steps)
    rows = night_rows(paths, events.run_ids, memory_limit)
    return NightResult(
        label=label,
        measured=measured,
        run_ids=events.run_ids,
        steps=steps,
        stages=stage_figures(grouped, measured, rows, events.rows_validated),
        unmapped=unmapped,
    )
