"""Expectations judged on a whole relation in DuckDB SQL, for suites whose rows GX sees chunk by chunk.

GX validates a suite's frame in bounded chunks (:func:`cx_warehouse.quality.gx_runner.validate_chunks`), so an
expectation about the table as a whole cannot be judged by GX: a chunk's row count says nothing about the
table's, and a key whose two copies are in different chunks is unique in each. Those expectations are
evaluated here, on the whole relation, with the semantics of their GX namesakes:

=========================================  ================================================================
``expect_table_row_count_to_be_between``   ``count(*)`` within [min_value, max_value] (strict_min/max)
``expect_column_values_to_be_unique``      no non-null value occurs twice; unexpected = the rows holding a
                                           duplicated value (every copy), as GX counts them
``expect_compound_columns_to_be_unique``   the same for the combination (rows where all are null ignored)
``expect_column_values_to_not_be_null``    no null (only when a suite asks for it on the whole relation)
``expect_column_values_to_be_in_set``      every non-null value in value_set (idem)
=========================================  ================================================================

``mostly`` is honoured as GX does (the share of expected among the counted values must reach it); an
expectation with a ``row_condition`` or another type raises :class:`UnsupportedExpectation`, which fails the
suite - it is never skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from cx_warehouse.quality.results import ExpectationOutcome, jsonable, mostly_ok

SAMPLE_ROWS = 10
WHOLE_RELATION = "duckdb: whole relation"

ROW_COUNT = "expect_table_row_count_to_be_between"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"

# Expectations about the table as a whole: always evaluated here, never per chunk.
TABLE_LEVEL: frozenset[str] = frozenset({ROW_COUNT, UNIQUE, COMPOUND_UNIQUE})
# Row-by-row expectations this module can also evaluate (for a suite that needs them on the whole relation).
ROW_LEVEL: frozenset[str] = frozenset({NOT_NULL, IN_SET})
SUPPORTED: frozenset[str] = TABLE_LEVEL | ROW_LEVEL


class UnsupportedExpectation(ValueError):
    """An expectation that can be judged neither per chunk nor by this module: the suite fails."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _kwargs(expectation: Any) -> dict[str, Any]:
    return dict(expectation.configuration.kwargs)


def _settings(expectation: Any) -> dict[str, Any]:
    """Every parameter of the expectation, defaults included (``mostly``, ``strict_min``, ...)."""
    return dict(expectation.dict())


def _check_supported(expectation: Any) -> None:
    kind = str(expectation.expectation_type)
    if kind not in SUPPORTED:
        raise UnsupportedExpectation(f"{kind} cannot be evaluated on the whole relation in SQL")
    if _settings(expectation).get("row_condition"):
        raise UnsupportedExpectation(f"{kind} with a row_condition cannot be evaluated in SQL")


def _percent(unexpected: int, counted: int) -> float | None:
    return 100.0 * unexpected / counted if counted else None


def evaluate(
    con: duckdb.DuckDBPyConnection,
    relation_sql: str,
    expectations: Sequence[Any],
    index_columns: Sequence[str] = (),
    params: dict[str, Any] | None = None,
) -> tuple[int, list[ExpectationOutcome]]:
    """(rows of the relation, one outcome per expectation, in order) for ``relation_sql`` as a whole.

    One aggregate query counts the rows and every row-level violation; each uniqueness expectation runs one
    ``group by ... having count(*) > 1`` (DuckDB spills it to disk past its memory limit). Samples of bad rows
    are only read for failing expectations. An expectation that raises gives a failed outcome with the error.
    """
    for expectation in expectations:
        _check_supported(expectation)
    frame = f"({relation_sql}) as _frame"
    aggregates = ["count(*)"]
    named = dict(params or {})
    slots: dict[int, int] = {}
    for i, expectation in enumerate(expectations):
        kind = str(expectation.expectation_type)
        kwargs = _kwargs(expectation)
        if kind == NOT_NULL:
            slots[i] = len(aggregates)
            aggregates += [f"count(*) filter (where {_quote(kwargs['column'])} is null)", "count(*)"]
        elif kind == IN_SET:
            column = _quote(kwargs["column"])
            slots[i] = len(aggregates)
            allowed = f"list_contains($value_set_{i}, {column})"
            aggregates += [
                f"count(*) filter (where {column} is not null and not {allowed})",
                f"count({column})",
            ]
            named[f"value_set_{i}"] = list(kwargs["value_set"])
        elif kind == UNIQUE:
            slots[i] = len(aggregates)
            aggregates.append(f"count({_quote(kwargs['column'])})")
    row = con.sql(f"select {', '.join(aggregates)} from {frame}", params=named or None).fetchall()[0]
    rows = int(row[0])

    outcomes = []
    for i, expectation in enumerate(expectations):
        try:
            outcomes.append(_outcome(con, frame, expectation, rows, row, slots.get(i), index_columns, params))
        except duckdb.Error as exc:
            outcomes.append(
                ExpectationOutcome(
                    str(expectation.expectation_type),
                    False,
                    column=_kwargs(expectation).get("column"),
                    kwargs=jsonable(_kwargs(expectation)),
                    error=str(exc).splitlines()[0],
                    evaluated_on=WHOLE_RELATION,
                )
            )
    return rows, outcomes


def _outcome(
    con: duckdb.DuckDBPyConnection,
    frame: str,
    expectation: Any,
    rows: int,
    row: tuple[Any, ...],
    slot: int | None,
    index_columns: Sequence[str],
    params: dict[str, Any] | None,
) -> ExpectationOutcome:
    kind = str(expectation.expectation_type)
    kwargs = _kwargs(expectation)
    settings = _settings(expectation)
    mostly = settings.get("mostly")
    base = {"kwargs": jsonable(kwargs), "evaluated_on": WHOLE_RELATION}

    if kind == ROW_COUNT:
        low, high = settings.get("min_value"), settings.get("max_value")
        ok = (low is None or (rows > low if settings.get("strict_min") else rows >= low)) and (
            high is None or (rows < high if settings.get("strict_max") else rows <= high)
        )
        return ExpectationOutcome(kind, ok, observed=rows, **base)

    if kind in (NOT_NULL, IN_SET):
        assert slot is not None
        column = kwargs["column"]
        unexpected, counted = int(row[slot]), int(row[slot + 1])
        ok = mostly_ok(unexpected, counted, mostly)
        sample: list[dict[str, Any]] = []
        if unexpected:
            quoted = _quote(column)
            keep = [c for c in index_columns if c != column]
            predicate = (
                f"{quoted} is null"
                if kind == NOT_NULL
                else f"{quoted} is not null and not list_contains($value_set, {quoted})"
            )
            sample_params = dict(params or {})
            if kind == IN_SET:
                sample_params["value_set"] = list(kwargs["value_set"])
            select = ", ".join(_quote(c) for c in [*keep, column])
            cursor = con.sql(
                f"select {select} from {frame} where {predicate} limit {SAMPLE_ROWS}",
                params=sample_params or None,
            )
            names = cursor.columns
            sample = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        return ExpectationOutcome(
            kind,
            ok,
            column=column,
            unexpected_count=unexpected,
            unexpected_percent=_percent(unexpected, counted),
            sample=jsonable(sample) if not ok else [],
            **base,
        )

    # uniqueness of one column or of a combination
    columns = [kwargs["column"]] if kind == UNIQUE else list(kwargs["column_list"])
    quoted = [_quote(c) for c in columns]
    if kind == UNIQUE:
        considered = f"{quoted[0]} is not null"
    else:  # GX's default ignore_row_if for compound uniqueness: all_values_are_missing
        ignore = settings.get("ignore_row_if") or "all_values_are_missing"
        if ignore == "all_values_are_missing":
            considered = "not (" + " and ".join(f"{c} is null" for c in quoted) + ")"
        elif ignore == "any_value_is_missing":
            considered = " and ".join(f"{c} is not null" for c in quoted)
        else:
            considered = "true"
    keys = ", ".join(quoted)
    duplicated = (
        f"select {keys}, count(*) as _copies from {frame} where {considered} group by all having count(*) > 1"
    )
    values, copies = con.sql(
        f"select count(*), coalesce(sum(_copies), 0) from ({duplicated})", params=params
    ).fetchall()[0]
    values, copies = int(values), int(copies)
    if kind == UNIQUE:
        assert slot is not None
        counted = int(row[slot])
    else:
        counted_row = con.sql(f"select count(*) from {frame} where {considered}", params=params).fetchall()
        counted = int(counted_row[0][0])
    ok = mostly_ok(copies, counted, mostly)
    sample = []
    if values:
        cursor = con.sql(
            f"select * from ({duplicated}) order by _copies desc, {keys} limit {SAMPLE_ROWS}", params=params
        )
        names = [*columns, "copies"]
        sample = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return ExpectationOutcome(
        kind,
        ok,
        column=columns[0] if kind == UNIQUE else ",".join(columns),
        observed=f"{values} duplicated value(s) in {copies} row(s)" if values else "no duplicates",
        unexpected_count=copies,
        unexpected_percent=_percent(copies, counted),
        sample=jsonable(sample) if not ok else [],
        **base,
    )
