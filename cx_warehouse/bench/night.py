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

A night whose ``cx-nightly`` exits non-zero is still measured (:func:`failed_night`): its total is the
subprocess up to its exit, and each stage's figures cover the steps of it that the event log shows, with
a ``status`` (see :class:`StageFigures`). A step that started and never ended (the process died, e.g. killed
when out of memory) counts from its start to the process's exit. What cannot be read (the event log, the
warehouse) is None, with the error kept; :func:`run_night` then raises :class:`NightFailed` carrying it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
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
    unfinished_steps,
)

# Tables in the dbt schemas that the propensity step (not dbt) writes: counted under models, not dbt build.
MODEL_TABLES = (("marts", "customer_propensity"), ("marts", "model_metrics"))
DBT_SCHEMAS = ("staging", "intermediate", "marts")
PROPENSITY_TABLE = ("marts", "customer_propensity")
PUBLISHED_SCHEMA = "main"
_RUNS_LINE = re.compile(r"\(runs: ([0-9a-f, -]+)\)")


class NightFailed(RuntimeError):
    """``cx-nightly`` exited non-zero; ``night``: what was measured until then (see :func:`failed_night`)."""

    def __init__(self, night: NightResult) -> None:
        super().__init__(f"{night.error}\n{night.measured.log_tail()}")
        self.night = night


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
    """One stage: rows (see the module docstring), wall seconds, peak tree RSS bytes, its steps.

    ``status``: ``"succeeded"`` (a night that succeeded); in a failed night ``"ran"`` (its steps that
    started succeeded, but the night stopped, so it may have had more steps that never started),
    ``"failed"`` (a step of it failed or never ended), ``"not_run"`` (no step of it started: no figures) or
    ``"unknown"`` (the event log could not be read: no figures). ``wall_s`` is None when the stage was not
    measured.
    """

    rows: int | None
    wall_s: float | None
    peak_rss: int | None
    steps: tuple[str, ...] = ()
    rows_source: str = ""
    status: str = "succeeded"


@dataclass
class NightResult:
    """One measured ``cx-nightly``: its process, runs, steps and per-stage figures.

    ``error`` is None when ``cx-nightly`` exited 0, else what went wrong (exit code or signal, log path): the
    figures are then those of a :func:`failed_night`. ``event_log_error`` / ``rows_error``: why the Dagster
    event log / the row counts could not be read (failed nights only; a successful night raises instead).
    """

    label: str
    measured: Measured
    run_ids: list[str]
    steps: list[StepRecord]
    stages: dict[str, StageFigures]
    unmapped: list[StepRecord] = field(default_factory=list)
    error: str | None = None
    event_log_error: str | None = None
    rows_error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def total_s(self) -> float:
        return self.measured.wall_s

    @property
    def other_s(self) -> float:
        """Total minus the stages' wall (0 for a stage not measured): start-up, run set-up, between steps."""
        return self.measured.wall_s - sum(s.wall_s or 0.0 for s in self.stages.values())


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


def _validated_rows(grouped: dict[str, list[StepRecord]], rows_validated: dict[str, int]) -> list[int]:
    """``rows_validated`` of the night's quality-gate (checks stage) steps."""
    check_steps = {s.step_key for s in grouped["checks"]}
    return [n for key, n in rows_validated.items() if key in check_steps]


def _night_events(paths: BenchPaths, measured: Measured, printed: list[str]) -> EventLog:
    """The event log of the night's runs: those cx-nightly printed, else the runs created since it started."""
    return read_event_log(paths.dagster_home, printed, created_after=measured.started_at - 1.0)


def _printed_run_ids(measured: Measured) -> list[str]:
    """The run ids in the night's log (cx-nightly prints none when it fails)."""
    return run_ids_from_output(measured.log_path.read_text(errors="replace") if measured.log_path else "")


def stage_figures(
    grouped: dict[str, list[StepRecord]],
    measured: Measured,
    rows: NightRows,
    rows_validated: dict[str, int],
) -> dict[str, StageFigures]:
    """Per night stage: rows, wall (sum of its steps) and peak tree RSS inside its steps' windows."""
    validated = _validated_rows(grouped, rows_validated)
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


def _exit_text(returncode: int) -> str:
    """``exited <n>``, or ``was killed by signal <n> (<NAME>)`` for a negative return code."""
    if returncode >= 0:
        return f"exited {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = "unknown signal"
    return f"was killed by signal {-returncode} ({name})"


def _failed_rows(
    stage: str, status: dict[str, str], rows: NightRows, validated: list[int]
) -> tuple[int | None, str]:
    """Rows of a stage of a failed night and where they come from (None: not counted, and why).

    Only figures this night produced: ingest (the manifest rows of its runs), dbt build (the tables as the
    night left them) and checks (``rows_validated`` of the gate's checks that ran) also when their stage
    failed; models and publish only when their stage ran (after a failure, their table may be an earlier
    night's).
    """
    if status[stage] not in ("ran", "failed"):
        return None, "not measured: no step of this stage started before cx-nightly exited"
    if stage == "ingest":
        return rows.ingest, "raw._load_manifest.rows_loaded of the night's runs (until it stopped)"
    if stage == "dbt_build":
        return rows.dbt_build, "rows of the staging/intermediate/marts tables as the night left them"
    if stage == "checks":
        if validated:
            return sum(validated), "rows_validated of the quality gate's checks that ran"
        if status["publish"] == "ran":
            return rows.published, "rows of the published tables (no rows_validated in the event log)"
        return None, "not counted: no rows_validated in the event log"
    if status[stage] == "failed":
        return None, "not counted: the stage failed (its table may be an earlier night's)"
    if stage == "models":
        return rows.models, "rows of marts.customer_propensity"
    return rows.published, "rows of the published file's tables"


def _failed_status(steps: list[StepRecord]) -> str:
    """``"not_run"`` (no step), ``"failed"`` (a step's last attempt failed or never ended), else ``"ran"``."""
    last: dict[str, StepRecord] = {}  # step key -> its last attempt
    for step in sorted(steps, key=lambda s: s.start):
        last[step.step_key] = step
    if not last:
        return "not_run"
    return "failed" if any(s.status != "success" for s in last.values()) else "ran"


def failed_stage_figures(
    grouped: dict[str, list[StepRecord]],
    measured: Measured,
    rows: NightRows,
    rows_validated: dict[str, int],
) -> dict[str, StageFigures]:
    """Per night stage of a failed night: its status and the figures of its steps that the event log shows.

    Wall and peak as in :func:`stage_figures`, over the stage's ended and unfinished steps; a stage without a
    step is ``"not_run"``, with no figures. Rows: see :func:`_failed_rows`.
    """
    status = {stage: _failed_status(grouped[stage]) for stage in NIGHT_STAGES}
    validated = _validated_rows(grouped, rows_validated)
    figures: dict[str, StageFigures] = {}
    for stage in NIGHT_STAGES:
        steps = grouped[stage]
        stage_rows, source = _failed_rows(stage, status, rows, validated)
        measured_stage = status[stage] != "not_run"
        figures[stage] = StageFigures(
            rows=stage_rows,
            wall_s=stage_wall(steps) if measured_stage else None,
            peak_rss=peak_in_windows(measured.samples, [(s.start, s.end) for s in steps]),
            steps=tuple(s.step_key for s in steps),
            rows_source=source,
            status=status[stage],
        )
    return figures


def failed_night(label: str, paths: BenchPaths, memory_limit: str, measured: Measured) -> NightResult:
    """What a ``cx-nightly`` that exited non-zero measured: its total and the stages of the steps that ran.

    Read like a successful night (its printed run ids, else the runs created since it started; the row counts
    after it), but a stage may have no step (see :func:`failed_stage_figures`), and an event log or warehouse
    that cannot be read leaves its figures None with the error kept instead of raising: the total (wall time,
    peak memory) measured by the subprocess is always there.
    """
    error = f"cx-nightly ({label} night) {_exit_text(measured.returncode)}; log: {measured.log_path}"
    printed = _printed_run_ids(measured)
    try:
        events = _night_events(paths, measured, printed)
    except Exception as exc:  # anything: the report of the failed night must still be written
        reason = f"{type(exc).__name__}: {exc}"
        why = "not measured: the Dagster event log could not be read"
        unknown = {stage: StageFigures(None, None, None, (), why, status="unknown") for stage in NIGHT_STAGES}
        return NightResult(label, measured, printed, [], unknown, error=error, event_log_error=reason)
    steps = sorted(
        steps_from_events(events.step_events) + unfinished_steps(events.step_events, measured.ended_at),
        key=lambda s: (s.start, s.step_key),
    )
    grouped, unmapped = group_steps(steps, required=())
    rows, rows_error = NightRows(None, None, None, None), None
    if paths.warehouse.exists():
        try:
            rows = night_rows(paths, events.run_ids, memory_limit)
        except (duckdb.Error, OSError) as exc:
            rows_error = f"{type(exc).__name__}: {exc}"
    return NightResult(
        label=label,
        measured=measured,
        run_ids=events.run_ids,
        steps=steps,
        stages=failed_stage_figures(grouped, measured, rows, events.rows_validated),
        unmapped=unmapped,
        error=error,
        rows_error=rows_error,
    )


def run_night(label: str, paths: BenchPaths, memory_limit: str, *, interval: float = 0.25) -> NightResult:
    """Run ``cx-nightly`` on the bench directory and measure it.

    Raises :class:`NightFailed` when it exits non-zero, carrying the :func:`failed_night` figures.
    """
    log_path = paths.logs / f"{label}_night.log"
    measured = run_measured(
        [executable("cx-nightly")],
        env=night_env(paths, memory_limit),
        log_path=log_path,
        interval=interval,
    )
    if measured.returncode != 0:
        raise NightFailed(failed_night(label, paths, memory_limit, measured))
    events = _night_events(paths, measured, _printed_run_ids(measured))
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
