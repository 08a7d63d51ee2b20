"""Outcomes of a quality suite, in a plain JSON-able shape shared by GX suites, drift and the PII guard."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """Plain JSON values from numpy / pandas / datetime scalars (and containers of them)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    if str(value) in {"NaT", "<NA>", "nan"}:
        return None
    return str(value)


@dataclass
class ExpectationOutcome:
    expectation: str  # GX expectation type, or the rule name for non-GX checks
    success: bool
    column: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    observed: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)  # sample bad rows (key columns + value)
    error: str | None = None
    # How it was evaluated: "gx: 12 chunk(s) of <= 500000 rows", "duckdb: whole relation" (None: one frame).
    evaluated_on: str | None = None

    def describe(self) -> str:
        what = self.expectation + (f"({self.column})" if self.column else "")
        bounds = {k: v for k, v in self.kwargs.items() if k not in {"column", "batch_id"}}
        if bounds:
            what += " " + json.dumps(jsonable(bounds), sort_keys=True)
        if self.error:
            return f"{what}: error {self.error}"
        if self.unexpected_count:
            return f"{what}: {self.unexpected_count} unexpected row(s)"
        return f"{what}: observed {jsonable(self.observed)}"


@dataclass
class SuiteOutcome:
    suite: str
    table: str
    success: bool
    run_id: str
    rows: int | None = None
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False  # nothing to compare with (first publish): passed, with a note saying so
    duration_s: float = 0.0
    validated_at: str = field(
        default_factory=lambda: datetime.now().astimezone().isoformat(timespec="seconds")
    )
    result_path: str | None = None
    # Suites validated per batch (SuiteSpec.increment): the newest batch of the relation when it was
    # validated, and a fingerprint of the suite's rules; a later run validates row by row only the newer
    # batches when the outcome it starts from passed with the same fingerprint (cx_warehouse.quality.gate).
    batch_watermark: str | None = None
    suite_fingerprint: str | None = None
    increment_rows: int | None = None  # rows validated row by row when only the newer batches were

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def reason(self) -> str:
        if self.success:
            return f"{self.suite}: passed"
        if self.error:
            return f"{self.suite} ({self.table}): {self.error}"
        return f"{self.suite} ({self.table}): " + "; ".join(e.describe() for e in self.failed[:5])

    def to_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuiteOutcome:
        known = {f.name for f in fields(ExpectationOutcome)}
        expectations = [
            ExpectationOutcome(**{k: v for k, v in e.items() if k in known})
            for e in data.get("expectations", [])
        ]
        names = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in names}, "expectations": expectations})


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(jsonable(payload), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def mostly_ok(unexpected: int, counted: int, mostly: float | None) -> bool:
    """GX's ``mostly``: the share of expected among the counted values reaches it (else none unexpected)."""
    if mostly is None or mostly >= 1:
        return unexpected == 0
    return counted == 0 or (counted - unexpected) / counted >= mostly
