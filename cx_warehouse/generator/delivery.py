"""Landing files: rows wait per extract and business day, then each day's files are written.

Channels hand rows over column-wise (``dict`` of column name -> list of formatted values). They are kept
as a *table*: a list of equal-length columns, in the column order of ``cx_warehouse.ingest.spec.EXTRACTS``
for CSV, or a single column of finished lines for JSON Lines. Working column-wise keeps the per-row
Python work to a few list operations and one string join, which is what makes large volumes fast.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter
from pathlib import Path

import numpy as np

from cx_warehouse.generator.clock import Clock
from cx_warehouse.ingest.spec import EXTRACTS, ExtractSpec, FileFormat

Table = list[list[str]]  # columns of formatted values (CSV) or [lines] (JSON Lines)
GZIP_LEVEL = 3  # fast; the files are rewritten by every run, size matters less than time


def _ordered(spec: ExtractSpec, columns: dict[str, Sequence[str | None]]) -> list[Sequence[str | None]]:
    """The columns in the spec's order; the names must match the spec exactly."""
    if set(columns) != set(spec.column_names):
        raise ValueError(f"{spec.name}: columns {sorted(columns)} differ from {spec.column_names}")
    return [columns[name] for name in spec.column_names]


def csv_table(spec: ExtractSpec, columns: dict[str, Sequence[str]]) -> Table:
    """A CSV table (one list per column) in the spec's column order."""
    table = [list(c) for c in _ordered(spec, columns)]
    if len({len(c) for c in table}) > 1:
        raise ValueError(f"{spec.name}: columns of different lengths")
    return table


def json_strings(values: Sequence[str], *, ascii_safe: bool = True) -> list[str]:
    """JSON encodings of strings; empty strings become ``null``.

    ``ascii_safe`` values (identifiers, URLs, timestamps) contain no quote, backslash or control character
    and are quoted directly, which is much faster than ``json.dumps``.
    """
    if ascii_safe:
        return [f'"{v}"' if v else "null" for v in values]
    return [json.dumps(v, ensure_ascii=False) if v else "null" for v in values]


def jsonl_table(spec: ExtractSpec, columns: dict[str, Sequence[str | None]]) -> Table:
    """JSON Lines (a one-column table) from already JSON-encoded values; ``None`` leaves the key out."""
    names = spec.column_names
    template = "{" + ",".join(f'"{name}":%s' for name in names) + "}"
    lines: list[str] = []
    for row in zip(*_ordered(spec, columns), strict=True):
        if None in row:
            kept = ",".join(f'"{n}":{v}' for n, v in zip(names, row, strict=True) if v is not None)
            lines.append("{" + kept + "}")
        else:
            lines.append(template % row)
    return [lines]


def take(values: list[str], index: Sequence[int] | np.ndarray) -> list[str]:
    """``values`` at positions ``index`` (fast C-level gather)."""
    return take_rows([values], index)[0]


def take_rows(table: Table, index: Sequence[int] | np.ndarray) -> Table:
    """The rows ``index`` of every column of ``table``."""
    positions = np.asarray(index, dtype=np.int64).tolist()
    if len(positions) == 0:
        return [[] for _ in table]
    if len(positions) == 1:
        return [[column[positions[0]]] for column in table]
    getter = itemgetter(*positions)
    return [list(getter(column)) for column in table]


def file_name(spec: ExtractSpec, stamp: str, delivery_no: int = 1) -> str:
    """``<extract>_<YYYYMMDD>[_r<N>].<ext>`` as the contract names landing files."""
    redelivery = f"_r{delivery_no}" if delivery_no > 1 else ""
    return f"{spec.name}_{stamp}{redelivery}{spec.file_suffix}"


def _csv_quoted(values: list[str], delimiter: str) -> list[str]:
    """Quote fields that contain the delimiter, a quote or a line break (doubling quotes), like
    ``csv.QUOTE_MINIMAL``; a column without any such field is returned as it is."""
    specials = (delimiter, '"', "\n", "\r")
    joined = "".join(values)
    if not any(ch in joined for ch in specials):
        return values
    return ['"' + v.replace('"', '""') + '"' if any(ch in v for ch in specials) else v for v in values]


def csv_text(header: Sequence[str], table: Table, delimiter: str = ",") -> str:
    """CSV text: a header line and one line per row, fields quoted where needed, ``\\n`` line ends."""
    columns = [_csv_quoted(c, delimiter) for c in table]
    lines = [delimiter.join(header), *map(delimiter.join, zip(*columns, strict=True))]
    return "\n".join(lines) + "\n"


def render(spec: ExtractSpec, table: Table) -> bytes:
    """The bytes of a landing file: header plus rows for CSV, one object per line for JSON Lines."""
    if spec.format is FileFormat.CSV:
        data = csv_text(spec.column_names, table, spec.delimiter).encode(spec.encoding)
    else:
        data = "".join(line + "\n" for line in table[0]).encode("utf-8")
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0) if spec.gzip else data


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a hidden temporary name first, so that a reader never sees a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Delivery:
    """Per extract and business day, the rows waiting to be written; writes each day's files."""

    def __init__(
        self, out: Path, clock: Clock, rng: np.random.Generator, resend_share: dict[str, float]
    ) -> None:
        self.out = out
        self.clock = clock
        self._rng = rng
        self._resend_share = resend_share
        self._pending: dict[str, defaultdict[int, list[tuple[np.ndarray, Table]]]] = {
            name: defaultdict(list) for name in EXTRACTS
        }
        self._first_deliveries: dict[tuple[str, int], Callable[[Table], Table]] = {}
        self.rows: dict[str, int] = dict.fromkeys(EXTRACTS, 0)
        self.superseded_rows: dict[str, int] = dict.fromkeys(EXTRACTS, 0)
        self.resent_rows: dict[str, int] = dict.fromkeys(EXTRACTS, 0)
        self.files = 0
        self.redeliveries: list[str] = []

    def prepare(self) -> None:
        """Create the extract folders and remove landing files of an earlier run (only generator names)."""
        for spec in EXTRACTS.values():
            folder = self.out / spec.name
            folder.mkdir(parents=True, exist_ok=True)
            pattern = re.compile(rf"{re.escape(spec.name)}_\d{{8}}(_r\d+)?{re.escape(spec.file_suffix)}")
            for path in sorted(folder.iterdir()):
                if pattern.fullmatch(path.name):
                    path.unlink()

    def add(self, extract: str, day: int | np.ndarray, ts: np.ndarray, table: Table) -> None:
        """Queue rows for the file of their business day (``day`` per row, or one day for all).

        ``ts`` orders the rows inside the file. Rows of days after the range are never delivered.
        """
        if not table or not table[0]:
            return
        if isinstance(day, int | np.integer):
            if day < self.clock.days:
                self._pending[extract][int(day)].append((np.asarray(ts), table))
            return
        days = np.asarray(day)
        order = np.argsort(days, kind="stable")
        values, starts = np.unique(days[order], return_index=True)
        bounds = np.r_[starts, len(order)]
        for k, value in enumerate(values.tolist()):
            if value >= self.clock.days:
                break
            idx = order[bounds[k] : bounds[k + 1]]
            self._pending[extract][value].append((ts[idx], take_rows(table, idx)))

    def redeliver(self, extract: str, day: int, first_delivery: Callable[[Table], Table]) -> None:
        """Deliver ``extract`` of ``day`` twice: first ``first_delivery(table)``, then ``_r2`` with all."""
        self._first_deliveries[(extract, day)] = first_delivery

    def flush(self, day: int) -> None:
        """Write every extract's file for business day ``day`` (header-only or empty when nothing)."""
        for name, spec in EXTRACTS.items():
            chunks = self._pending[name].pop(day, [])
            if any(k < day for k in self._pending[name]):
                raise RuntimeError(f"{name}: rows queued for a day that was already written")
            ts, table = self._sorted(spec, chunks)
            share = self._resend_share.get(name, 0.0)
            if share and day + 1 < self.clock.days and len(ts):
                again = np.flatnonzero(self._rng.random(len(ts)) < share)
                self._pending[name][day + 1].append((ts[again], take_rows(table, again)))
                self.resent_rows[name] += len(again)
            self._write(spec, day, table)

    @staticmethod
    def _sorted(spec: ExtractSpec, chunks: list[tuple[np.ndarray, Table]]) -> tuple[np.ndarray, Table]:
        """The day's rows as one table, ordered by ``ts`` (stable)."""
        width = len(spec.column_names) if spec.format is FileFormat.CSV else 1
        if not chunks:
            return np.zeros(0, np.int64), [[] for _ in range(width)]
        ts = np.concatenate([c[0] for c in chunks])
        table = [list(chain.from_iterable(c[1][k] for c in chunks)) for k in range(width)]
        if np.all(ts[1:] >= ts[:-1]):
            return ts, table
        order = np.argsort(ts, kind="stable")
        return ts[order], take_rows(table, order)

    def _write(self, spec: ExtractSpec, day: int, table: Table) -> None:
        stamp = self.clock.stamp(day)
        folder = self.out / spec.name
        first = self._first_deliveries.get((spec.name, day))
        if first is not None:
            variant = first(table)
            _write_atomic(folder / file_name(spec, stamp), render(spec, variant))
            self.superseded_rows[spec.name] += len(variant[0])
            self.files += 1
            name = file_name(spec, stamp, 2)
            self.redeliveries.append(f"{spec.name}/{name}")
        else:
            name = file_name(spec, stamp)
        _write_atomic(folder / name, render(spec, table))
        self.rows[spec.name] += len(table[0])
        self.files += 1
