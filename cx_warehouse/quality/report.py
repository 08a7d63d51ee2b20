"""Per-run quality report: one JSON per suite and an ``index.html`` a person can open, under
``<quality dir>/<run_id>/`` (default ``data/quality/<run_id>/``, beside the published file)."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from cx_warehouse.quality.results import SuiteOutcome, jsonable, write_json


def quality_root(publish_path: str | os.PathLike[str]) -> Path:
    """``CX_QUALITY_DIR`` if set, else ``quality/`` beside the published file."""
    configured = os.environ.get("CX_QUALITY_DIR")
    return Path(configured) if configured else Path(publish_path).resolve().parent / "quality"


def run_dir(root: Path, run_id: str) -> Path:
    return root / run_id


def write_outcome(directory: Path, outcome: SuiteOutcome, gx_result: dict[str, Any] | None = None) -> Path:
    """Store one suite's outcome (and GX's raw validation result) and refresh the run's HTML index."""
    path = directory / f"{outcome.suite}.json"
    outcome.result_path = str(path)
    write_json(path, {"outcome": outcome.to_json(), "gx_result": gx_result})
    write_index(directory)
    return path


def load_outcome(directory: Path, suite: str) -> SuiteOutcome | None:
    path = directory / f"{suite}.json"
    if not path.exists():
        return None
    return SuiteOutcome.from_json(json.loads(path.read_text(encoding="utf-8"))["outcome"])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return html.escape(json.dumps(jsonable(value), ensure_ascii=False)[:400])
    return html.escape(str(value))


def write_index(directory: Path) -> Path:
    outcomes = []
    for path in sorted(directory.glob("*.json")):
        try:
            outcomes.append(SuiteOutcome.from_json(json.loads(path.read_text(encoding="utf-8"))["outcome"]))
        except (KeyError, TypeError, ValueError):
            continue
    failed = [o for o in outcomes if not o.success]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>CX Warehouse quality report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;font-size:90%}"
        ".ok{color:#2a7d2a}.bad{color:#b00020;font-weight:bold}code{font-size:90%}</style></head><body>",
        f"<h1>Quality report, run <code>{html.escape(directory.name)}</code></h1>",
        f"<p>{len(outcomes)} suite(s), "
        f"<span class='{'bad' if failed else 'ok'}'>{len(failed)} failed</span>.</p>",
        "<table><tr><th>suite</th><th>table</th><th>status</th><th>rows</th><th>expectations</th>"
        "<th>failed</th><th>validated at</th><th>notes</th></tr>",
    ]
    for o in outcomes:
        status = "passed" if o.success else "FAILED"
        parts.append(
            f"<tr><td><a href='#{html.escape(o.suite)}'>{html.escape(o.suite)}</a></td>"
            f"<td>{html.escape(o.table)}</td>"
            f"<td class='{'ok' if o.success else 'bad'}'>{status}{' (skipped)' if o.skipped else ''}</td>"
            f"<td>{_cell(o.rows)}</td><td>{len(o.expectations)}</td><td>{len(o.failed)}</td>"
            f"<td>{_cell(o.validated_at)}</td>"
            f"<td>{_cell('; '.join(o.notes + ([o.error] if o.error else [])))}</td></tr>"
        )
    parts.append("</table>")
    for o in outcomes:
        parts.append(f"<h2 id='{html.escape(o.suite)}'>{html.escape(o.suite)} ({html.escape(o.table)})</h2>")
        if o.error:
            parts.append(f"<p class='bad'>Error: {_cell(o.error)}</p>")
        parts.append(
            "<table><tr><th>status</th><th>expectation</th><th>column</th><th>arguments</th>"
            "<th>observed</th><th>unexpected</th><th>sample bad rows</th></tr>"
        )
        for e in sorted(o.expectations, key=lambda e: e.success):
            args = {k: v for k, v in e.kwargs.items() if k not in {"column", "column_list"}}
            how = f"<br><small>{_cell(e.evaluated_on)}</small>" if e.evaluated_on else ""
            parts.append(
                f"<tr><td class='{'ok' if e.success else 'bad'}'>{'ok' if e.success else 'FAILED'}</td>"
                f"<td>{_cell(e.expectation)}{how}</td><td>{_cell(e.column)}</td>"
                f"<td>{_cell(args or None)}</td>"
                f"<td>{_cell(e.observed)}</td><td>{_cell(e.unexpected_count)}</td>"
                f"<td>{_cell(e.sample or None)}{_cell(e.error)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    path = directory / "index.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path
