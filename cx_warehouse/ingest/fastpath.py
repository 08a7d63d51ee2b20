"""The fast path: DuckDB's own readers feed the validation directly, without per-row Python.

The stage is a view over ``read_csv`` / ``read_json_objects`` (all VARCHAR), numbered with
``row_number() over ()`` - DuckDB runs that as a streaming window over the scan, which keeps the file's
order. It is only used when it is provably exact; otherwise the caller falls back to the Python path:

- the file is UTF-8 (contact_center's Windows-1252 is always read by Python), its gzip stream is intact and
  its bytes are valid UTF-8 (``reader.scan_bytes``, a streaming pass run in a thread while DuckDB reads);
- a CSV header (its first line) names every contract column once;
- DuckDB reads it without error (strict CSV: a row with the wrong column count or a bad quote fails the
  read; JSON: a line that is not JSON fails it);
- DuckDB returned as many rows as the file has physical lines (minus the CSV header): then there is no
  blank line and no multi-line record, so row *n* starts on line *n* (+1 for CSV) and line numbers are
  exact; and
- no row fails validation (a reject needs the exact raw line, which the Python path gives).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import duckdb

from cx_warehouse.ingest.reader import UTF8_BOM, ByteSource
from cx_warehouse.ingest.spec import ExtractSpec, FileFormat
from cx_warehouse.ingest.stage import child_stage, json_columns, q, scalar_columns
from cx_warehouse.ingest.validate import lit

log = logging.getLogger("cx_warehouse.ingest")

FAST = "_cxw_fast"  # the stage views of the fast path
NONSCALAR = "('OBJECT', 'ARRAY')"
NESTED_VALUE_RE = r":\s*[\[{]"  # a JSON value that is an array or object (or text that looks like one)


def first_line(path: Path, gz: bool, limit: int = 1 << 20) -> bytes:
    """The file's first line (without newline, BOM or CR); reads only as far as needed."""
    head = b""
    for chunk in ByteSource(path, gz):
        head += chunk
        if b"\n" in head or len(head) >= limit:
            break
    return head.split(b"\n", 1)[0].removeprefix(UTF8_BOM).rstrip(b"\r")


def csv_header(line: bytes, spec: ExtractSpec) -> list[str] | None:
    """The header fields when ``line`` is a plain one-line CSV header naming every column once."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.count('"') % 2:
        return None
    rows = list(csv.reader([text], delimiter=spec.delimiter, quotechar='"'))
    if len(rows) != 1:
        return None
    names = [h.strip() for h in rows[0]]
    lowered = [n.lower() for n in names]
    wanted = [c.name for c in scalar_columns(spec)]
    if len(set(lowered)) != len(lowered) or any(w not in lowered for w in wanted) or not all(names):
        return None
    return names


def create_csv_view(
    con: duckdb.DuckDBPyConnection, path: Path, spec: ExtractSpec, header: list[str], file_no: int
) -> list[str]:
    """The stage view over DuckDB's CSV reader. Returns the extra (unknown) column names."""
    positions = {n.lower(): i for i, n in enumerate(header)}
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    wanted = [c.name for c in scalar_columns(spec)]
    known = set(wanted)
    extras = [(i, n) for i, n in enumerate(header) if n.lower() not in known]
    extra_sql = (
        "json_object(" + ", ".join(f"{lit(n)}, c{i}" for i, n in extras) + ")::varchar" if extras else "null"
    )
    picks = ", ".join(f"c{positions[w]} as {q(w)}" for w in wanted)
    con.execute(
        f"""create or replace temp view {FAST} as
        select {file_no}::bigint as _file, rn as _row_no, rn + 1 as _line_no, rn + 1 as _line_end,
            null::varchar as _pre, {extra_sql} as _extra, {picks}
        from (
            select row_number() over () as rn, *
            from read_csv({lit(str(path))}, header = false, skip = 1, columns = {{{columns}}},
                auto_detect = false, delim = {lit(spec.delimiter)}, quote = '"', escape = '"',
                strict_mode = true, null_padding = false, encoding = 'utf-8', compression = 'auto')
        )"""
    )
    return [n for _, n in extras]


def create_jsonl_views(con: duckdb.DuckDBPyConnection, path: Path, spec: ExtractSpec, file_no: int) -> None:
    """The stage views over DuckDB's JSON reader.

    Each line is parsed once for all columns (``json_extract_string`` / ``json_extract`` with a list of
    paths). Unknown keys go to ``_extra`` (``json_merge_patch`` with the known keys set to null removes
    them). Anything the Python path would reject structurally sets ``_pre``, so that validation fails and the
    caller falls back to the exact path, which words the reason and keeps the raw line: an object or array
    where a single value belongs (for extracts without nested columns: any ``:`` followed by ``[`` or ``{``
    in the line, which may also be text inside a string - then the file just takes the exact path), a
    nested element that is not an object or has unknown keys. A line that is not an object has no key
    column and fails validation anyway.
    """
    assert spec.key, "every extract has a key column"
    scalars = [c.name for c in scalar_columns(spec)]
    nested = json_columns(spec)
    known = scalars + [c.name for c in nested]
    known_list = "[" + ", ".join(lit(n) for n in known) + "]"
    reader = f"read_json_objects({lit(str(path))}, format = 'newline_delimited', compression = 'auto')"
    patch = "{" + ", ".join(f'"{n}": null' for n in known) + "}"
    extra = (
        f"case when len(list_filter(json_keys(json), lambda k: not list_contains({known_list}, k))) > 0 "
        f"then json_merge_patch(json, {lit(patch)})::varchar end"
    )
    if not nested:
        paths = "[" + ", ".join(lit("$." + n) for n in scalars) + "]"
        picks = ", ".join(f"v[{i}] as {q(n)}" for i, n in enumerate(scalars, start=1))
        con.execute(
            f"""create or replace temp view {FAST} as
            select {file_no}::bigint as _file, rn as _row_no, rn as _line_no, rn as _line_end,
                case when regexp_matches(json, {lit(NESTED_VALUE_RE)}) then 'exact path' end as _pre,
                {extra} as _extra, {picks}
            from (select row_number() over () as rn, json, json_extract_string(json, {paths}) as v
                  from {reader})"""
        )
        return

    paths = "[" + ", ".join(lit("$." + n) for n in known) + "]"
    odd = [
        "json_type(json) <> 'OBJECT'",
        f"coalesce(list_bool_or(list_transform(v[1:{len(scalars)}], lambda x: json_type(x) in {NONSCALAR})), "
        "false)",
    ]
    for i, col in enumerate(nested, start=len(scalars) + 1):
        fields = [ch.name for ch in col.children]
        field_list = "[" + ", ".join(lit(f) for f in fields) + "]"
        elem_checks = " or ".join(
            ["json_type(e) <> 'OBJECT'"]
            + [f"coalesce(json_type(e, {lit('$.' + f)}) in {NONSCALAR}, false)" for f in fields]
            + [f"len(list_filter(json_keys(e), lambda k: not list_contains({field_list}, k))) > 0"]
        )
        odd.append(f"coalesce(json_type(v[{i}]) not in ('ARRAY', 'NULL'), false)")
        odd.append(
            f"coalesce(list_bool_or(list_transform(json_extract(v[{i}], '$[*]'), "
            f"lambda e: {elem_checks})), false)"
        )
    picks = ", ".join(f"v[{i}] ->> '$' as {q(n)}" for i, n in enumerate(scalars, start=1))
    con.execute(
        f"""create or replace temp view {FAST} as
        select {file_no}::bigint as _file, rn as _row_no, rn as _line_no, rn as _line_end,
            case when {" or ".join(odd)} then 'structure needs the exact path' end as _pre,
            case when json_type(json) = 'OBJECT' then {extra} end as _extra,
            {picks}
        from (select row_number() over () as rn, json, json_extract(json, {paths}) as v from {reader})"""
    )
    for col in nested:
        fields = ", ".join(f"e ->> {lit(ch.name)} as {q(ch.name)}" for ch in col.children)
        con.execute(
            f"""create or replace temp view {child_stage(col, FAST)} as
            select {file_no}::bigint as _file, _row_no, _elem_no, null::varchar as _extra, {fields}
            from (
                select rn as _row_no, unnest(range(1, len(a) + 1)) as _elem_no, unnest(a) as e
                from (
                    select row_number() over () as rn, json_type(json) = 'OBJECT' as is_object,
                        json_extract(json, {lit("$." + col.name + "[*]")}) as a
                    from {reader}
                )
                where is_object
            )"""
        )


def create_views(con: duckdb.DuckDBPyConnection, path: Path, spec: ExtractSpec, gz: bool) -> list[str] | None:
    """Create the fast stage views for file number 0. Returns the CSV extra column names ([] for JSON Lines),
    or None when the file's header rules the fast path out."""
    if spec.format is FileFormat.CSV:
        header = csv_header(first_line(path, gz), spec)
        if header is None:
            return None
        return create_csv_view(con, path, spec, header, 0)
    create_jsonl_views(con, path, spec, 0)
    return []


def drop_views(con: duckdb.DuckDBPyConnection, spec: ExtractSpec) -> None:
    names = [child_stage(col, FAST) for col in json_columns(spec)] + [FAST]
    con.execute("; ".join(f"drop view if exists {n}" for n in names))
