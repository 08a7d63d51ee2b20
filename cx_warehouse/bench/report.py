"""The bench's figures as one JSON-able report, its targets, and the printed table.

Targets (from the issue that asked for the bench; reported as met / missed, never enforced):

- ``total_vs_floor``: the full night's total wall time is at most 3 x the floor;
- ``incremental_vs_full``: the one-day incremental night takes at most 10 % of the full night;
- ``full_peak_memory``: the full night's peak process-tree RSS stays below 8 GiB.

A bench whose night fails (``cx-nightly`` exits non-zero) still gets a report: ``status`` is ``"failed"``
(else ``"ok"``), ``failed_night`` says which night (``"full"`` or ``"incremental"``), ``error`` and
``log_tail`` say why, and the failed night holds what was measured until it stopped (its total, and per stage
a ``status`` and the figures of the steps that ran: :func:`cx_warehouse.bench.night.failed_night`). What was
not measured is None and named, with the reason, in ``not_measured``: after a failed full night, no
incremental night runs. A target that was not measured is missed, with a ``note`` giving the partial figure.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from cx_warehouse.bench.floor import Floor
from cx_warehouse.bench.night import NightResult
from cx_warehouse.bench.procs import GIB, MIB
from cx_warehouse.bench.stages import LABELS, NIGHT_STAGES

# 2: ``status`` (report, nights, stages) and the keys of a failed bench (module docstring); target ``note``.
SCHEMA_VERSION = 2
TOTAL_OVER_FLOOR_MAX = 3.0
INCREMENTAL_OVER_FULL_MAX = 0.10
PEAK_MEMORY_MAX_BYTES = 8 * GIB


@dataclass(frozen=True)
class Target:
    """One target: ``value`` measured against ``limit`` (``None`` value: not measured, so missed).

    ``note``: why a target was not measured, and the partial figure when there is one (a failed night).
    """

    name: str
    description: str
    value: float | None
    limit: float
    strict: bool = False  # value < limit (else value <= limit)
    note: str | None = None

    @property
    def met(self) -> bool:
        if self.value is None:
            return False
        return self.value < self.limit if self.strict else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "value": self.value,
            "limit": self.limit,
            "met": self.met,
            "note": self.note,
        }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def evaluate_targets(
    total_s: float | None, floor_s: float | None, incremental_s: float | None, peak_rss: int | None
) -> list[Target]:
    """The three targets from the full night's ``total_s``, ``peak_rss`` (bytes), floor and incremental."""
    return [
        Target(
            "total_vs_floor",
            f"full night total <= {TOTAL_OVER_FLOOR_MAX:g} x floor",
            ratio(total_s, floor_s),
            TOTAL_OVER_FLOOR_MAX,
        ),
        Target(
            "incremental_vs_full",
            f"incremental night <= {INCREMENTAL_OVER_FULL_MAX:.0%} of the full night",
            ratio(incremental_s, total_s),
            INCREMENTAL_OVER_FULL_MAX,
        ),
        Target(
            "full_peak_memory",
            f"full night peak memory < {PEAK_MEMORY_MAX_BYTES // GIB} GiB",
            None if peak_rss is None else float(peak_rss),
            float(PEAK_MEMORY_MAX_BYTES),
            strict=True,
        ),
    ]


def _mib(value: int | None) -> float | None:
    return None if value is None else round(value / MIB, 1)


def stage_dict(rows: int | None, wall_s: float | None, peak_rss: int | None, **extra: Any) -> dict[str, Any]:
    """A stage as JSON: ``rows``, ``wall_s``, ``peak_mib`` (tree RSS, MiB) and extras."""
    return {
        "rows": rows,
        "wall_s": None if wall_s is None else round(wall_s, 3),
        "peak_mib": _mib(peak_rss),
        **extra,
    }


def night_dict(night: NightResult) -> dict[str, Any]:
    """A night as JSON: status, per stage, total (wall, peak, ru_maxrss), other, runs, steps, unmapped steps,
    log; a failed night adds its ``error`` and why its event log or rows could not be read (None: they were).

    In a failed night the total is the subprocess until it exited, and a step of ``status`` ``"unfinished"``
    (it never ended: its process died) counts from its start to that exit.
    """
    measured = night.measured
    failure: dict[str, Any] = {}
    if night.failed:
        failure = {
            "error": night.error,
            "event_log_error": night.event_log_error,
            "rows_error": night.rows_error,
        }
    return {
        "status": "failed" if night.failed else "succeeded",
        **failure,
        "stages": {
            stage: stage_dict(
                fig.rows,
                fig.wall_s,
                fig.peak_rss,
                steps=list(fig.steps),
                rows_source=fig.rows_source,
                status=fig.status,
            )
            for stage, fig in night.stages.items()
        },
        "total": stage_dict(
            night.stages["ingest"].rows,
            measured.wall_s,
            measured.peak_rss,
            ru_maxrss_mib=_mib(measured.ru_maxrss),
            rows_source="rows the night loaded (= ingest rows)",
        ),
        "other_s": round(night.other_s, 3),
        "run_ids": night.run_ids,
        "steps": [
            {
                "run_id": s.run_id,
                "step_key": s.step_key,
                "start": s.start,
                "end": s.end,
                "duration_s": round(s.duration, 3),
                "status": s.status,
            }
            for s in night.steps
        ],
        "unmapped_steps": [s.step_key for s in night.unmapped],
        "memory_samples": len(measured.samples),
        "log": str(measured.log_path),
    }


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _total_ram() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    """The machine and software the figures were measured on.

    ``load_average`` (1, 5, 15 minutes, at the start; the CLI adds ``load_average_end``) shows how much other
    work the machine was doing: with a load above the CPU count, timings are inflated.
    """
    ram = _total_ram()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_available": len(os.sched_getaffinity(0)),
        "total_ram_gib": None if ram is None else round(ram / GIB, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {
            dist: _version(dist)
            for dist in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt", "cx-warehouse")
        },
        "git_commit": _git_commit(),
    }


def _target_notes(floor: Floor, full: NightResult, incremental: NightResult | None) -> dict[str, str]:
    """Per target that a failed night left unmeasured: why, and the partial figure (a lower bound).

    A failed full night measures none of the three (its wall time and peak stop at the failure); a failed
    incremental night only leaves ``incremental_vs_full`` unmeasured.
    """
    if full.failed:
        after = f"not measured: the full night failed after {full.total_s:.1f} s"
        over_floor = ratio(full.total_s, floor.seconds)
        peak_gib = full.measured.peak_rss / GIB
        return {
            "total_vs_floor": after
            + ("" if over_floor is None else f" ({over_floor:.2f} x floor until then, a lower bound)"),
            "incremental_vs_full": "not measured: the full night failed, so no incremental night ran",
            "full_peak_memory": f"{after}; peak until then {peak_gib:.2f} GiB (a lower bound)",
        }
    if incremental is not None and incremental.failed:
        after = f"not measured: the incremental night failed after {incremental.total_s:.1f} s"
        share = ratio(incremental.total_s, full.total_s)
        return {
            "incremental_vs_full": after
            + ("" if share is None else f" ({share:.1%} of the full night until then, a lower bound)")
        }
    return {}


def build_report(
    *,
    config: dict[str, Any],
    machine: dict[str, Any],
    generate: dict[str, Any],
    held_back: dict[str, Any],
    floor: Floor,
    full: NightResult,
    incremental: NightResult | None,
    started_at: datetime,
) -> dict[str, Any]:
    """Everything the bench prints, as one JSON-able dict.

    ``incremental`` is None only when the full night failed (then no incremental night runs). When a night
    failed, the report says so (``status``, ``failed_night``, ``error``, ``log_tail``, ``not_measured``: see
    the module docstring) and keeps every figure measured until then.
    """
    if incremental is None and not full.failed:
        raise ValueError("no incremental night although the full night succeeded")
    failed = full if full.failed else incremental if incremental is not None and incremental.failed else None
    full_dict = night_dict(full)
    incremental_dict = None if incremental is None else night_dict(incremental)
    # A failed night's wall time and peak stop at its failure: not the figures the targets are about.
    total_s = None if full.failed else full.total_s
    peak_rss = None if full.failed else full.measured.peak_rss
    incremental_s = None if incremental is None or incremental.failed else incremental.total_s
    notes = _target_notes(floor, full, incremental)
    targets = [
        replace(t, note=notes.get(t.name))
        for t in evaluate_targets(total_s, floor.seconds, incremental_s, peak_rss)
    ]
    failure: dict[str, Any] = {}
    if failed is not None:
        after = f"the {failed.label} night failed after {failed.total_s:.1f} s"
        not_measured = (
            {
                "total_over_floor": f"{after} (a lower bound of its total)",
                "incremental_night": f"not run: {after}",
                "incremental_over_full": f"not run: {after}",
            }
            if full.failed
            else {"incremental_over_full": f"{after} (a lower bound)"}
        )
        failure = {
            "failed_night": failed.label,
            "error": failed.error,
            "log_tail": failed.measured.log_tail(),
            "not_measured": not_measured,  # key of this report left None -> why
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "status": "ok" if failed is None else "failed",
        **failure,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config,
        "machine": machine,
        # The six stages of the full build (generate is not part of the night: it writes days + 1 days).
        "stages": {"generate": generate, **full_dict["stages"]},
        "held_back": held_back,
        "floor": {
            "floor_s": round(floor.seconds, 3),
            "rows": floor.rows,
            "files": floor.files,
            "threads": floor.threads,
            "memory_limit": floor.memory_limit,
            "extracts": {
                name: {"files": e.files, "rows": e.rows, "seconds": round(e.seconds, 3)}
                for name, e in floor.extracts.items()
            },
        },
        "full_night": full_dict,
        "total_over_floor": ratio(total_s, floor.seconds),
        "incremental_night": incremental_dict,
        "incremental_over_full": ratio(incremental_s, total_s),
        "targets": [t.as_dict() for t in targets],
    }


def _fmt_rows(value: Any) -> str:
    return "-" if value is None else f"{value:,}"


def _fmt_num(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _stage_line(label: str, fig: dict[str, Any]) -> str:
    return (
        f"  {label:<14} {_fmt_rows(fig.get('rows')):>15} {_fmt_num(fig.get('wall_s'), '.1f'):>10} "
        f"{_fmt_num(fig.get('peak_mib'), ',.0f'):>10}"
    )


def _target_value(target: dict[str, Any]) -> str:
    value = target["value"]
    if value is None:
        return "n/a"
    if target["name"] == "total_vs_floor":
        return f"{value:.2f} x"
    if target["name"] == "incremental_vs_full":
        return f"{value:.1%}"
    return f"{value / GIB:.2f} GiB"


def _status_note(night: dict[str, Any], stage: str) -> str:
    """What the table says after a stage of a failed night (nothing for a stage that ran or succeeded)."""
    status = night["stages"][stage].get("status")
    if status == "failed":
        keys = set(night["stages"][stage]["steps"])
        last = {s["step_key"]: s["status"] for s in night["steps"] if s["step_key"] in keys}
        bad = [f"{key} {state}" for key, state in last.items() if state != "success"]
        return f"   FAILED ({', '.join(bad)})" if bad else "   FAILED"
    if status == "not_run":
        return "   not run"
    if status == "unknown":
        return "   not measured (event log unreadable)"
    return ""


def _night_lines(night: dict[str, Any], stages: dict[str, Any], total_note: str) -> list[str]:
    """A night's stage lines (``stages``: its stage figures), other and total, with a failed night's marks."""
    lines = [_stage_line(LABELS[s], stages[s]) + _status_note(night, s) for s in NIGHT_STAGES]
    lines.append(_stage_line("other", {"wall_s": night["other_s"]}) + "   (start-up, between steps)")
    failed = "   FAILED, until cx-nightly exited" if night["status"] == "failed" else ""
    lines.append(_stage_line("total", night["total"]) + failed + total_note)
    return lines


def format_report(report: dict[str, Any]) -> str:
    """The printed summary of a report from :func:`build_report`; a failed bench says so first and last."""
    config = report["config"]
    header = f"  {'stage':<14} {'rows':>15} {'wall s':>10} {'peak MiB':>10}"
    full = report["full_night"]
    incremental = report["incremental_night"]
    not_measured = report.get("not_measured", {})
    gen = report["stages"]["generate"]
    failed = report.get("status") == "failed"
    banner = (
        [f"FAILED: {report['error']}", "Figures below: what was measured until the night failed.", ""]
        if failed
        else []
    )
    lines = [
        f"cx-bench: {config['customers']:,} customers, {config['days']} days (+1 held back), seed "
        f"{config['seed']}, DuckDB memory limit {config['memory_limit']}, "
        f"{report['machine']['cpu_count']} CPUs, {report['machine']['total_ram_gib']} GiB RAM",
        "",
        *banner,
        f"Full build ({config['days']} days, from an empty warehouse)",
        header,
        _stage_line("generate", gen)
        + f"   ({gen.get('days_generated')} days{', reused' if gen.get('reused') else ''}; not in the night)",
    ]
    lines += _night_lines(full, report["stages"], f"   (ru_maxrss {full['total']['ru_maxrss_mib']} MiB)")
    floor = report["floor"]
    over_floor = _fmt_num(report["total_over_floor"], ".2f")
    if "total_over_floor" in not_measured:
        over_floor += f"   (not measured: {not_measured['total_over_floor']})"
    lines += [
        "",
        f"Floor (DuckDB reads the {floor['files']:,} landing files once, {floor['threads']} threads)",
        _stage_line("floor", {"rows": floor["rows"], "wall_s": floor["floor_s"]}),
        f"  total / floor  {over_floor}",
        "",
        f"Incremental night (business date {report['held_back']['business_date']}, "
        f"{report['held_back']['files']} files)",
    ]
    if incremental is None:
        lines.append(f"  {not_measured.get('incremental_night', 'not run')}")
    else:
        lines += [header, *_night_lines(incremental, incremental["stages"], "")]
        share = _fmt_num(report["incremental_over_full"], ".1%")
        if "incremental_over_full" in not_measured:
            share += f"   (not measured: {not_measured['incremental_over_full']})"
        lines.append(f"  incremental / full  {share}")
    for label, night in (("full", full), ("incremental", incremental)):
        if night is None:
            continue
        if night["unmapped_steps"]:
            lines.append(
                f"  warning: {label} night steps of no stage (counted in other): "
                + ", ".join(night["unmapped_steps"])
            )
        if night.get("event_log_error"):
            lines.append(
                f"  warning: {label} night: the event log could not be read: {night['event_log_error']}"
            )
        if night.get("rows_error"):
            lines.append(f"  warning: {label} night: rows could not be counted: {night['rows_error']}")
    lines += ["", "Targets"]
    for t in report["targets"]:
        lines.append(f"  {t['description']:<45} {_target_value(t):>12}  {'met' if t['met'] else 'MISSED'}")
        if t.get("note"):
            lines.append(f"    {t['note']}")
    if failed:
        lines += ["", f"FAILED: the {report['failed_night']} night failed; the figures above stop there."]
    return "\n".join(lines)


def write_report(report: dict[str, Any], directory: Path, latest: Path | None) -> list[Path]:
    """``<directory>/bench_<UTC timestamp>.json`` (``..._failed.json`` when a night failed) and a copy at
    ``latest``; returns the paths written.

    A failed bench replaces ``latest`` too: it is the latest run, and its ``status`` says it failed (keeping
    an older successful report there would pass it off as the current state).
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(report, indent=2) + "\n"
    suffix = "_failed" if report.get("status") == "failed" else ""
    written = [directory / f"bench_{stamp}{suffix}.json"]
    if latest is not None:
        written.append(latest)
    for path in written:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return written
