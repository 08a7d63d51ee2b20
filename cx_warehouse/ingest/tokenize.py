"""The exact path: Python splits a file into rows with their physical line numbers.

Only what needs line numbers happens here (``csv.reader`` on the decoded lines, one ``json.loads`` per
line); typing and validation are SQL (``validate``). Each staged row carries the first and last physical
line of its record; the raw text of a rejected record is read back from the file when it is written.
Structural problems found here (wrong column count, unterminated quote, not JSON, not an object, a nested
element that is not an object, a non-scalar where a value is expected) go to the stage as ``_pre`` reasons.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from cx_warehouse.ingest.reader import TextLines, record_texts
from cx_warehouse.ingest.spec import ExtractSpec
from cx_warehouse.ingest.stage import Stager, json_columns, scalar_columns

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class TokenizeResult:
    """What tokenising a file found besides its rows (which are in the stage)."""

    rows: int = 0
    no_header: bool = False  # a CSV without a header row (zero bytes, or only blank lines)
    file_error: str | None = None  # the whole file is rejected for this reason (e.g. missing columns)
    extra_columns: list[str] = field(default_factory=list)


def _dumps(obj: dict[str, Any]) -> str:
    """Compact JSON, like DuckDB's ``json_object`` (so both paths record extras alike)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _records(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, int, list[str] | None, str | None]]:
    """``(first line, last line, fields or None, problem or None)`` per record; blank lines are skipped.

    ``csv.reader`` pulls lines straight from the (C) line iterator; ``line_num`` tells how many physical
    lines each record used, so a quoted field with newlines gives a record spanning several lines.
    """
    it = iter(lines)
    consumed = 0  # physical lines consumed before the current reader
    while True:
        reader = csv.reader(it, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        end = consumed
        try:
            for rec in reader:
                start = end + 1
                end = consumed + reader.line_num
                if rec:
                    yield start, end, rec, None
            return
        except csv.Error as e:
            start = end + 1
            consumed = end = consumed + reader.line_num
            yield start, end, None, f"CSV parse error: {e}"


def tokenize_csv(lines: TextLines, spec: ExtractSpec, stager: Stager) -> TokenizeResult:
    result = TokenizeResult()
    records = _records(lines, spec.delimiter)
    header: list[str] | None = None
    for _start, _end, rec, _problem in records:
        header = rec if rec is not None else []
        break
    if header is None:
        result.no_header = True
        return result

    names = [h.strip() for h in header]
    if names and names[0].startswith("\ufeff"):  # a BOM that was not at the very start of the bytes
        names[0] = names[0].lstrip("\ufeff")
    lowered = [n.lower() for n in names]
    wanted = [c.name for c in scalar_columns(spec)]
    positions: dict[str, int] = {}
    duplicates: list[str] = []
    for i, n in enumerate(lowered):
        if n in positions:
            duplicates.append(names[i])
        else:
            positions[n] = i
    missing = [w for w in wanted if w not in positions]
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    dup_known = [d for d in duplicates if d.lower() in wanted]
    if dup_known:
        problems.append(f"duplicate column(s) in header: {', '.join(dup_known)}")
    width = len(header)
    none_values: tuple[None, ...] = (None,) * len(wanted)
    add = stager.add
    row_no = 0
    if problems:
        result.file_error = "; ".join(problems)
        for start, end, _rec, _problem in records:
            row_no += 1
            add((row_no, start, end, None, None, *none_values))
        result.rows = row_no
        return result

    known = set(wanted)
    extra_idx = [i for i, n in enumerate(lowered) if n not in known]
    extra_names: list[str] = []
    for i in extra_idx:
        name = names[i] or f"column_{i + 1}"
        while name in extra_names:  # a repeated unknown column keeps its values under a unique key
            name += f"_{i + 1}"
        extra_names.append(name)
    result.extra_columns = extra_names
    idx = [positions[w] for w in wanted]
    pick = itemgetter(*idx) if len(idx) > 1 else (lambda r: (r[idx[0]],))
    last = (0, 0, 0)
    for start, end, rec, problem in records:
        row_no += 1
        if rec is None:
            add((row_no, start, end, problem, None, *none_values))
        elif len(rec) != width:
            reason = f"wrong column count: {len(rec)} field(s), expected {width}"
            add((row_no, start, end, reason, None, *none_values))
        elif extra_idx:
            extra = _dumps({n: rec[i] or None for n, i in zip(extra_names, extra_idx, strict=True)})
            add((row_no, start, end, None, extra, *pick(rec)))
        else:
            add((row_no, start, end, None, None, *pick(rec)))
        last = (row_no, start, end)
    result.rows = row_no
    row_no, start, end = last
    if end > start:  # the last record spans lines: was its quote ever closed?
        (text,) = record_texts(lines.path, lines.gz, lines.encoding, [(start, end)])
        if text.count('"') % 2:
            stager.set_pre(
                row_no,
                f"unterminated quoted field: the record starting on line {start} runs to the end of the file",
            )
    return result


_JSON_TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
}


_TEXT_TYPES = {str, type(None)}


class _NotScalar(Exception):
    pass


def _text(v: Any) -> str | None:
    """A JSON scalar as the text the SQL validation parses; objects and arrays raise ``_NotScalar``."""
    if v is None:
        return None
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return repr(v)
    raise _NotScalar(_JSON_TYPE_NAMES.get(t, t.__name__))


def _type_name(v: Any) -> str:
    return "null" if v is None else _JSON_TYPE_NAMES.get(type(v), type(v).__name__)


def tokenize_jsonl(lines: Iterable[str], spec: ExtractSpec, stager: Stager) -> TokenizeResult:
    result = TokenizeResult()
    scalars = [c.name for c in scalar_columns(spec)]
    nested = {c.name: [ch.name for ch in c.children] for c in json_columns(spec)}
    known = set(scalars) | set(nested)
    none_values: tuple[None, ...] = (None,) * len(scalars)
    extras_seen: dict[str, None] = {}
    add = stager.add
    loads = json.JSONDecoder().decode
    row_no = 0
    line_no = 0
    for text in lines:
        line_no += 1
        if text.isspace() or not text:
            continue  # blank line
        row_no += 1
        try:
            obj = loads(text)
        except ValueError as e:
            msg = (
                f"not valid JSON: {e.msg} (column {e.colno})"
                if isinstance(e, json.JSONDecodeError)
                else str(e)
            )
            add((row_no, line_no, line_no, msg, None, *none_values))
            continue
        if type(obj) is not dict:
            add((row_no, line_no, line_no, f"not a JSON object (got {_type_name(obj)})", None, *none_values))
            continue
        raw_values = tuple(map(obj.get, scalars))
        try:
            values = (
                raw_values
                if set(map(type, raw_values)) <= _TEXT_TYPES
                else tuple([_text(v) for v in raw_values])
            )
        except _NotScalar:
            bad = next(n for n in scalars if type(obj.get(n)) in (dict, list))
            reason = f"expected a single value in column {bad}, got {_type_name(obj[bad])}"
            add((row_no, line_no, line_no, reason, None, *none_values))
            continue
        extra = None
        if len(obj) > len(known) or not known.issuperset(obj):
            extras = {k: v for k, v in obj.items() if k not in known}
            if extras:
                for k in extras:
                    extras_seen.setdefault(k)
                extra = _dumps(extras)
        problem = None
        children: list[tuple[str, tuple[Any, ...]]] = []
        for col, fields in nested.items():
            arr = obj.get(col)
            if arr is None:
                continue
            if type(arr) is not list:
                problem = f"column {col} is not a JSON array (got {_type_name(arr)})"
                break
            for elem_no, elem in enumerate(arr, 1):
                if type(elem) is not dict:
                    problem = f"{col}[{elem_no}] is not a JSON object (got {_type_name(elem)})"
                    break
                try:
                    child_values = tuple([_text(elem.get(f)) for f in fields])
                except _NotScalar:
                    bad = next(f for f in fields if type(elem.get(f)) in (dict, list))
                    problem = (
                        f"{col}[{elem_no}]: expected a single value in {bad}, got {_type_name(elem[bad])}"
                    )
                    break
                child_extra = None
                unknown = [k for k in elem if k not in fields]
                if unknown:
                    for k in unknown:
                        extras_seen.setdefault(f"{col}.{k}")
                    child_extra = _dumps({k: elem[k] for k in unknown})
                children.append((col, (row_no, elem_no, child_extra, *child_values)))
            if problem:
                break
        if problem:
            add((row_no, line_no, line_no, problem, None, *none_values))
            continue
        add((row_no, line_no, line_no, None, extra, *values))
        for col, child in children:
            stager.add_child(col, child)
    result.rows = row_no
    result.extra_columns = list(extras_seen)
    return result
