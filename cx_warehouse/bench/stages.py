"""From the steps of a Dagster run to the bench's stages.

A stage of the night is one or more Dagster steps, recognised by the op that runs them: Dagster names a step
after its op, with ``_2``, ``_3``... when the same op runs as several steps of one run (the dbt assets run in
subsets around the Python propensity asset; the quality gate checks in several subsets). The op names are
those of ``orchestration/assets`` and ``orchestration/checks``; :func:`group_steps` raises when a stage has
no step, so a renamed op fails the bench instead of silently moving its time to "other".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

STAGES: tuple[str, ...] = ("generate", "ingest", "dbt_build", "models", "checks", "publish")
NIGHT_STAGES: tuple[str, ...] = STAGES[1:]
LABELS: dict[str, str] = {
    "generate": "generate",
    "ingest": "ingest",
    "dbt_build": "dbt build",
    "models": "models",
    "checks": "checks",
    "publish": "publish",
}
# Stage -> the op whose steps make it (orchestration/assets/*.py, orchestration/checks/quality.py).
STAGE_OPS: dict[str, str] = {
    "ingest": "ingest_extracts",
    "dbt_build": "cx_dbt_models",
    "models": "propensity_models",
    "checks": "quality_gate",
    "publish": "published_marts",
}

STEP_START = "STEP_START"
STEP_ENDS = ("STEP_SUCCESS", "STEP_FAILURE")


class StageMappingError(RuntimeError):
    """A stage of the night has no step in the event log (an op was renamed or did not run)."""


@dataclass(frozen=True)
class StepEvent:
    """One step event of the Dagster event log: ``timestamp`` in epoch seconds."""

    run_id: str
    step_key: str
    event_type: str
    timestamp: float


@dataclass(frozen=True)
class StepRecord:
    """One execution of a step: from its STEP_START to its STEP_SUCCESS or STEP_FAILURE."""

    run_id: str
    step_key: str
    start: float
    end: float
    status: str  # "success" | "failure" | "unfinished" (never ended: see unfinished_steps)

    @property
    def duration(self) -> float:
        return self.end - self.start


def _pair(events: Iterable[StepEvent]) -> tuple[list[StepRecord], dict[tuple[str, str], float]]:
    """Ended step records (ordered by start) and the starts left without an end, per (run id, step key)."""
    open_starts: dict[tuple[str, str], float] = {}
    records: list[StepRecord] = []
    for event in sorted(events, key=lambda e: e.timestamp):
        key = (event.run_id, event.step_key)
        if event.event_type == STEP_START:
            open_starts[key] = event.timestamp
        elif event.event_type in STEP_ENDS and key in open_starts:
            status = "success" if event.event_type == "STEP_SUCCESS" else "failure"
            records.append(
                StepRecord(event.run_id, event.step_key, open_starts.pop(key), event.timestamp, status)
            )
    return sorted(records, key=lambda r: (r.start, r.step_key)), open_starts


def steps_from_events(events: Iterable[StepEvent]) -> list[StepRecord]:
    """Pair each step's STEP_START with its next end event, per run; ordered by start.

    A start without an end (the process died) is left out; a retried step gives one record per attempt.
    """
    return _pair(events)[0]


def unfinished_steps(events: Iterable[StepEvent], ended_at: float) -> list[StepRecord]:
    """The steps that started and never ended (their process died, e.g. killed when out of memory).

    Each is a record with status ``"unfinished"`` that runs from its STEP_START to ``ended_at`` (epoch
    seconds: when the measured process exited, the latest moment the step can have run); ordered by start.
    """
    _, open_starts = _pair(events)
    records = [
        StepRecord(run_id, step_key, start, max(start, ended_at), "unfinished")
        for (run_id, step_key), start in open_starts.items()
    ]
    return sorted(records, key=lambda r: (r.start, r.step_key))


def stage_of(step_key: str) -> str | None:
    """The stage a step belongs to (``<op>`` or ``<op>_<n>``), or None."""
    for stage, op in STAGE_OPS.items():
        if re.fullmatch(rf"{re.escape(op)}(?:_\d+)?", step_key):
            return stage
    return None


def group_steps(
    steps: Sequence[StepRecord], required: Sequence[str] = NIGHT_STAGES
) -> tuple[dict[str, list[StepRecord]], list[StepRecord]]:
    """Steps per stage (every stage of ``required`` present) and the steps of no stage.

    Raises :class:`StageMappingError` when a required stage has no step.
    """
    grouped: dict[str, list[StepRecord]] = {stage: [] for stage in NIGHT_STAGES}
    unmapped: list[StepRecord] = []
    for step in steps:
        stage = stage_of(step.step_key)
        if stage is None:
            unmapped.append(step)
        else:
            grouped[stage].append(step)
    missing = [stage for stage in required if not grouped.get(stage)]
    if missing:
        seen = ", ".join(sorted({s.step_key for s in steps})) or "none"
        raise StageMappingError(
            "no Dagster step for stage(s) "
            + ", ".join(f"{LABELS[m]} (op {STAGE_OPS[m]})" for m in missing)
            + f"; steps in the event log: {seen}"
        )
    return grouped, unmapped


def stage_wall(steps: Iterable[StepRecord]) -> float:
    """A stage's wall time: the sum of its steps' durations (the in-process executor runs one at a time)."""
    return sum(s.duration for s in steps)
