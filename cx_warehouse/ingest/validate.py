"""Typing and validation as SQL generated from the spec: one definition for every extract.

From the all-VARCHAR stage (``stage``) it builds ``<stage>_val``: the typed columns, the lineage the stage
carries, and ``_reason`` (NULL for a valid row; otherwise every problem of the row, ``; ``-separated, e.g.
``unparseable local_ts in column started_at: '2026-13-01 10:00'``). Nested JSON arrays are validated in
``<child stage>_val`` and an order with a bad element is rejected whole.

Rules: empty (or blank) means unknown (NULL). Free text is stored as delivered. Numbers: ``[+-]digits`` for
int, decimal point for decimals (no exponent, no thousands separator). Local timestamps
``YYYY-MM-DD HH:MM:SS`` are stored naive as delivered; UTC timestamps need ``Z`` or an offset and are stored
naive UTC. Enums match case-insensitively after trimming and are stored canonical. Key columns must be
non-blank. Numbers outside the spec's min/max are rejected.
"""

from __future__ import annotations

from cx_warehouse.ingest.spec import DUCKDB_TYPES, ColType, Column, ExtractSpec
from cx_warehouse.ingest.stage import child_stage, json_columns, q, scalar_columns

VALID = "_cxw_val"

WS = "' \t\n\r'"  # a SQL literal holding a space, a tab, a newline and a carriage return
INT_RE = r"[+-]?[0-9]+"
DEC_RE = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
UTC_RE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r" ?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)"
)
MAX_VALUE_CHARS = 200


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def trimmed(src: str) -> str:
    """SQL for the value without surrounding whitespace, NULL when nothing is left."""
    return f"nullif(trim({src}, {WS}), '')"


def typed_expr(col: Column, t: str, src: str) -> str:
    """SQL giving the column's stored value from ``t`` (the trimmed value) or ``src`` (as delivered, for
    free text); NULL when empty or unparseable."""
    match col.type:
        case ColType.STR:
            return f"nullif({src}, '')"
        case ColType.INT:
            return f"case when regexp_full_match({t}, {lit(INT_RE)}) then try_cast({t} as bigint) end"
        case ColType.DECIMAL:
            dec = DUCKDB_TYPES[ColType.DECIMAL]
            return f"case when regexp_full_match({t}, {lit(DEC_RE)}) then try_cast({t} as {dec}) end"
        case ColType.LOCAL_TS:
            return f"try_strptime({t}, '%Y-%m-%d %H:%M:%S')"
        case ColType.UTC_TS:
            return (
                f"case when regexp_full_match({t}, {lit(UTC_RE)}) "
                f"then timezone('UTC', try_cast({t} as timestamptz)) end"
            )
        case ColType.DATE_ISO:
            return f"cast(try_strptime({t}, '%Y-%m-%d') as date)"
        case ColType.DATE_DMY:
            return f"cast(try_strptime({t}, '%d-%m-%Y') as date)"
        case ColType.ENUM:
            canonical = "[" + ", ".join(lit(v) for v in col.values) + "]"
            lowered = "[" + ", ".join(lit(v.lower()) for v in col.values) + "]"
            return f"{canonical}[list_position({lowered}, lower({t}))]"
    raise ValueError(f"no scalar SQL type for {col.name} ({col.type})")


def _shown(src: str) -> str:
    quote = lit("'")
    return f"{quote} || left({src}, {MAX_VALUE_CHARS}) || {quote}"


def error_exprs(col: Column, src: str, t: str, typed: str) -> list[str]:
    """SQL expressions each giving a reason (or NULL) for one rule of the column."""
    errors: list[str] = []
    if col.key:
        errors.append(f"case when {t} is null then {lit(f'missing key column {col.name}')} end")
    if col.type is ColType.ENUM:
        allowed = ", ".join(col.values)
        errors.append(
            f"case when {t} is not null and {typed} is null then "
            f"{lit(f'unknown enum value in column {col.name}: ')} || {_shown(src)} "
            f"|| {lit(f' (allowed: {allowed})')} end"
        )
    elif col.type is not ColType.STR:
        errors.append(
            f"case when {t} is not null and {typed} is null then "
            f"{lit(f'unparseable {col.type.value} in column {col.name}: ')} || {_shown(src)} end"
        )
    if col.min is not None or col.max is not None:
        lo = "" if col.min is None else f"{col.min:g}"
        hi = "" if col.max is None else f"{col.max:g}"
        checks = []
        if col.min is not None:
            checks.append(f"{typed} < {col.min!r}")
        if col.max is not None:
            checks.append(f"{typed} > {col.max!r}")
        errors.append(
            f"case when {' or '.join(checks)} then "
            f"{lit(f'value out of range in column {col.name}: ')} || {_shown(src)} "
            f"|| {lit(f' (allowed {lo}..{hi})')} end"
        )
    return errors


def _needs_trim(col: Column) -> bool:
    return col.key or col.type is not ColType.STR


def _typed_select(cols: tuple[Column, ...], carry: str, source: str) -> str:
    """The ``typed`` CTE: every parse is computed once (a materialized CTE, copied once).

    Column ``c`` of the source becomes ``"s:c"`` (as delivered), ``"t:c"`` (trimmed, when needed) and
    ``"v:c"`` (typed); the reasons are then built from these columns.
    """
    cells = [f"{q(c.name)} as {q('s:' + c.name)}" for c in cols]
    cells += [f"{trimmed(q(c.name))} as {q('t:' + c.name)}" for c in cols if _needs_trim(c)]
    cells += [f"{typed_expr(c, trimmed(q(c.name)), q(c.name))} as {q('v:' + c.name)}" for c in cols]
    return f"typed as materialized (select {carry}, {', '.join(cells)} from {source})"


def _errors(cols: tuple[Column, ...]) -> list[str]:
    return [e for c in cols for e in error_exprs(c, q("s:" + c.name), q("t:" + c.name), q("v:" + c.name))]


def _values(cols: tuple[Column, ...]) -> str:
    return ", ".join(f"{q('v:' + c.name)} as {q(c.name)}" for c in cols)


def valid_child(col: Column) -> str:
    return f"{VALID}_{col.name}"


def validation_sql(spec: ExtractSpec, stage: str) -> list[str]:
    """Statements that build ``VALID`` (and its child tables) from the stage ``stage`` (children first)."""
    statements = []
    child_joins = []
    child_reasons = []
    for jcol in json_columns(spec):
        errs = _errors(jcol.children)
        concat = f"concat_ws('; ', {', '.join(errs)})"
        reason = (
            f"case when {concat} <> '' then {lit(jcol.name + '[')} || _elem_no || ']: ' || {concat} end"
            if errs
            else "null::varchar"
        )
        statements.append(
            f"""create or replace temp table {valid_child(jcol)} as
            with {_typed_select(jcol.children, "_file, _row_no, _elem_no, _extra", child_stage(jcol, stage))}
            select _file, _row_no, _elem_no, _extra, {_values(jcol.children)}, {reason} as _reason
            from typed order by _file, _row_no, _elem_no"""
        )
        alias = f"r_{jcol.name}"
        child_joins.append(
            f"""left join (
                select _file, _row_no, string_agg(_reason, '; ' order by _elem_no) as reason
                from {valid_child(jcol)} where _reason is not null group by _file, _row_no
            ) {alias} using (_file, _row_no)"""
        )
        child_reasons.append(f"{alias}.reason")

    cols = scalar_columns(spec)
    errs = _errors(cols) + child_reasons
    statements.append(
        f"""create or replace temp table {VALID} as
        with {_typed_select(cols, "_file, _row_no, _line_no, _line_end, _pre, _extra", stage)}
        select _file, _row_no, _line_no, _line_end, _extra, {_values(cols)},
            coalesce(_pre, nullif(concat_ws('; ', {", ".join(errs)}), '')) as _reason
        from typed {" ".join(child_joins)}
        order by _file, _row_no"""
    )
    return statements
