"""The gate validates in bounded chunks and still judges the whole table.

GX sees a suite's frame a chunk at a time (CX_QUALITY_CHUNK_ROWS, 1,000 rows here against 5,500), so these
tests plant each kind of violation where a per-chunk validation would miss or could miss it - the two copies
of a duplicated key in different chunks, a null in the last chunk, a bad value in a middle chunk, a row count
that no chunk exceeds - and check that the suite fails on each, with its counts and sample rows. They record
which chunk each planted row was validated in, so the premise (different chunks) is asserted, not assumed.

Then the increment: fct_touchpoints validates row by row only the batches recomputed since the published
run's gate, and still catches what the whole table must satisfy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from cx_warehouse.publish.testing import build_sample_warehouse
from cx_warehouse.quality import gate, gx_runner
from cx_warehouse.quality.results import SuiteOutcome
from cx_warehouse.quality.suites import SUITES, SuiteParams, SuiteSpec, fct_touchpoints_suite

ROWS = 5_500
CHUNK = 1_000
TOUCHPOINTS = next(s for s in SUITES if s.name == "fct_touchpoints")


def tp(i: int) -> str:
    return f"TP{i:09d}"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    build_sample_warehouse(path, touchpoints=ROWS)
    return path


@pytest.fixture
def chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The touchpoint_ids of every chunk GX validates, in order (and CX_QUALITY_CHUNK_ROWS=1000)."""
    monkeypatch.setenv(gx_runner.CHUNK_ROWS_ENV, str(CHUNK))
    seen: list[list[str]] = []
    original = gx_runner._validate

    def recording(frame: pd.DataFrame, *args: Any) -> Any:
        if "touchpoint_id" in frame.columns:
            seen.append([str(v) for v in frame["touchpoint_id"]])
        return original(frame, *args)

    monkeypatch.setattr(gx_runner, "_validate", recording)
    yield seen


def plant(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


def run(path: Path, spec: SuiteSpec, **kwargs: Any) -> SuiteOutcome:
    with gate.read_only(path) as con:
        con.execute("set threads = 1")  # rows stream in storage order: the planted rows' chunks are stable
        return gate.run_suite(con, spec, gate.suite_params(con), run_id="test", report_dir=None, **kwargs)


def failed(outcome: SuiteOutcome) -> dict[tuple[str, str | None], Any]:
    return {(e.expectation, e.column): e for e in outcome.failed}


def chunk_of(chunks: list[list[str]], key: str) -> list[int]:
    return [n for n, ids in enumerate(chunks) for value in ids if value == key]


def test_violations_in_different_chunks_all_fail_the_suite(warehouse: Path, chunks: list[list[str]]) -> None:
    plant(
        warehouse,
        # a duplicate key: row 5,400 gets the id of row 10
        f"update marts.fct_touchpoints set touchpoint_id = '{tp(10)}' where touchpoint_id = '{tp(5_400)}'",
        # a null in the last row
        f"update marts.fct_touchpoints set channel = null where touchpoint_id = '{tp(ROWS - 1)}'",
        # a bad value in the middle: an event a month in the future
        "update marts.fct_touchpoints set occurred_at = now() + interval 30 day "
        f"where touchpoint_id = '{tp(2_750)}'",
    )
    outcome = run(warehouse, TOUCHPOINTS)

    # the premise: more than one chunk, and the planted rows where this test says
    assert len(chunks) >= ROWS // CHUNK and all(len(c) <= CHUNK for c in chunks)
    assert sum(len(c) for c in chunks) == ROWS
    copies = chunk_of(chunks, tp(10))
    assert len(copies) == 2 and copies[0] != copies[1], "the duplicate's copies must be in different chunks"
    assert chunk_of(chunks, tp(ROWS - 1)) == [len(chunks) - 1]
    (middle,) = chunk_of(chunks, tp(2_750))
    assert 0 < middle < len(chunks) - 1

    assert not outcome.success
    assert outcome.rows == ROWS
    bad = failed(outcome)
    assert set(bad) == {
        ("expect_column_values_to_be_unique", "touchpoint_id"),
        ("expect_column_values_to_not_be_null", "channel"),
        ("expect_column_values_to_be_in_set", "_occurs_in_future"),
    }
    unique = bad[("expect_column_values_to_be_unique", "touchpoint_id")]
    assert unique.unexpected_count == 2 and unique.evaluated_on == "duckdb: whole relation"
    assert unique.sample == [{"touchpoint_id": tp(10), "copies": 2}]
    null = bad[("expect_column_values_to_not_be_null", "channel")]
    assert null.unexpected_count == 1 and null.sample[0]["touchpoint_id"] == tp(ROWS - 1)
    assert null.evaluated_on and null.evaluated_on.startswith(
        f"gx: {len(chunks)} chunk(s) of <= {CHUNK} rows"
    )
    future = bad[("expect_column_values_to_be_in_set", "_occurs_in_future")]
    assert future.unexpected_count == 1 and future.sample[0]["touchpoint_id"] == tp(2_750)
    # the passing row-by-row expectations add up over the chunks too
    known = next(e for e in outcome.expectations if e.column == "_customer_known")
    assert known.success and known.unexpected_count == 0


def test_a_row_count_no_chunk_exceeds_fails(warehouse: Path, chunks: list[list[str]]) -> None:
    import great_expectations.expectations as gxe

    def bounded(params: SuiteParams, columns: Any) -> Any:
        suite = fct_touchpoints_suite(params, columns)
        suite.expectations[0] = gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=5_000)
        return suite

    spec = SuiteSpec(
        "touchpoints_bounded", "fct_touchpoints", "", TOUCHPOINTS.frame_sql, bounded, ("touchpoint_id",), ()
    )
    outcome = run(warehouse, spec)
    assert chunks and max(len(c) for c in chunks) <= 5_000
    assert failed(outcome).keys() == {("expect_table_row_count_to_be_between", None)}
    assert outcome.failed[0].observed == ROWS

    # within bounds it passes (and the lower bound is judged on the whole table as well)
    spec_ok = SuiteSpec(
        "touchpoints",
        "fct_touchpoints",
        "",
        TOUCHPOINTS.frame_sql,
        fct_touchpoints_suite,
        ("touchpoint_id",),
        (),
    )
    assert run(warehouse, spec_ok).success


def test_mostly_is_judged_on_the_whole_table(warehouse: Path, chunks: list[list[str]]) -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    def suite(mostly: float) -> Any:
        return lambda params, columns: gx.ExpectationSuite(
            name="t", expectations=[gxe.ExpectColumnValuesToNotBeNull(column="customer_key", mostly=mostly)]
        )

    anonymous = 1 / 7  # the sample's every 7th touchpoint is anonymous
    for mostly, passes in ((1 - anonymous - 0.02, True), (1 - anonymous + 0.02, False)):
        spec = SuiteSpec(
            "t", "fct_touchpoints", "", TOUCHPOINTS.frame_sql, suite(mostly), ("touchpoint_id",), ()
        )
        outcome = run(warehouse, spec)
        assert outcome.success is passes, (mostly, outcome.reason())
        (result,) = outcome.expectations
        assert result.unexpected_count == len(range(0, ROWS, 7))


def test_an_expectation_neither_chunks_nor_sql_can_judge_fails(warehouse: Path) -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    spec = SuiteSpec(
        "t",
        "fct_touchpoints",
        "",
        TOUCHPOINTS.frame_sql,
        lambda params, columns: gx.ExpectationSuite(
            name="t",
            expectations=[gxe.ExpectColumnUniqueValueCountToBeBetween(column="channel", min_value=1)],
        ),
        ("touchpoint_id",),
        (),
    )
    outcome = run(warehouse, spec)
    assert not outcome.success and "neither chunk by chunk" in (outcome.error or "")


def test_an_empty_frame_is_still_validated(warehouse: Path) -> None:
    plant(warehouse, "delete from marts.fct_touchpoints")
    outcome = run(warehouse, TOUCHPOINTS, chunk_rows=CHUNK)
    assert not outcome.success and outcome.rows == 0
    assert failed(outcome).keys() == {("expect_table_row_count_to_be_between", None)}


# ------------------------------------------------------------------------------------------------- increment

UPDATE = "update intermediate.int_touchpoints_unioned"
BATCH_1 = "2026-01-10 02:00:00"
BATCH_2 = "2026-01-11 02:00:00"


@pytest.fixture
def incremental(warehouse: Path) -> Path:
    """fct_touchpoints as a view over an incremental int_touchpoints_unioned, every row of batch 1."""
    plant(
        warehouse,
        "create schema intermediate",
        f"""create table intermediate.int_touchpoints_unioned as
            select *, timestamp '{BATCH_1}' as _batch_at from marts.fct_touchpoints""",
        "drop table marts.fct_touchpoints",
        """create view marts.fct_touchpoints as
           select touchpoint_id, customer_key, channel, touchpoint_type, occurred_at, journey_stage
           from intermediate.int_touchpoints_unioned""",
    )
    return warehouse


def add_batch(path: Path, first: int, rows: int, *, batch: str = BATCH_2, **values: str) -> None:
    """Insert ``rows`` new touchpoints (ids from ``first``) in ``batch``, with columns set as ``values``."""
    columns = {
        "touchpoint_id": f"'TP' || lpad((i + {first})::varchar, 9, '0')",
        "customer_key": "null",
        "channel": "'web'",
        "touchpoint_type": "'visit'",
        "occurred_at": "timestamptz '2026-01-11 01:00:00+00'",
        "journey_stage": "'awareness'",
        **values,
    }
    select = ", ".join(f"{sql} as {name}" for name, sql in columns.items())
    plant(
        path,
        f"""insert into intermediate.int_touchpoints_unioned
            select {select}, timestamp '{batch}' from range({rows}) as r(i)""",
    )


def test_the_increment_validates_new_batches_and_the_whole_tables_rules(incremental: Path) -> None:
    first = run(incremental, TOUCHPOINTS, chunk_rows=CHUNK)
    assert first.success, first.reason()
    assert first.batch_watermark == BATCH_1 and first.suite_fingerprint
    assert any("no gated publish to start from" in n for n in first.notes)

    # tonight: 300 new rows, one with a null channel (row-by-row, in the increment)
    add_batch(incremental, 100_000, 300)
    plant(incremental, f"{UPDATE} set channel = null where touchpoint_id = '{tp(100_299)}'")
    tonight = run(incremental, TOUCHPOINTS, chunk_rows=CHUNK, previous=first)
    assert tonight.batch_watermark == BATCH_2
    assert any(f"after {BATCH_1}" in n for n in tonight.notes), tonight.notes
    assert any("300 recomputed row(s) validated row by row of 5800" in n for n in tonight.notes), (
        tonight.notes
    )
    assert tonight.rows == ROWS + 300
    assert failed(tonight).keys() == {("expect_column_values_to_not_be_null", "channel")}
    (null,) = tonight.failed
    assert (
        null.sample[0]["touchpoint_id"] == tp(100_299)
        and null.evaluated_on == f"gx: 1 chunk(s) of <= {CHUNK} rows"
    )


def test_the_increment_still_catches_what_the_whole_table_must_satisfy(incremental: Path) -> None:
    first = run(incremental, TOUCHPOINTS, chunk_rows=CHUNK)
    assert first.success
    add_batch(incremental, 100_000, 50)
    plant(
        incremental,
        # a new row reuses an old id (duplicate across batches), an old row loses its journey stage (a seed
        # change) and its customer (dim_customer rebuilt without them), an old row without an id
        f"{UPDATE} set touchpoint_id = '{tp(3)}' where touchpoint_id = '{tp(100_001)}'",
        f"{UPDATE} set journey_stage = null where touchpoint_id = '{tp(20)}'",
        "delete from marts.dim_customer where customer_key = (select customer_key from "
        f"intermediate.int_touchpoints_unioned where touchpoint_id = '{tp(22)}')",
        f"{UPDATE} set touchpoint_id = null where touchpoint_id = '{tp(40)}'",
    )
    tonight = run(incremental, TOUCHPOINTS, chunk_rows=CHUNK, previous=first)
    assert any(f"after {BATCH_1}" in n for n in tonight.notes)
    bad = failed(tonight)
    assert set(bad) == {
        ("expect_column_values_to_be_unique", "touchpoint_id"),
        ("expect_column_values_to_not_be_null", "journey_stage"),
        ("expect_column_values_to_be_in_set", "_customer_known"),
        ("expect_column_values_to_not_be_null", "touchpoint_id"),
    }
    assert all(e.evaluated_on == "duckdb: whole relation" for e in bad.values())
    assert bad[("expect_column_values_to_not_be_null", "journey_stage")].sample[0]["touchpoint_id"] == tp(20)
    assert bad[("expect_column_values_to_be_in_set", "_customer_known")].unexpected_count


def test_old_rows_are_validated_again_unless_the_published_run_passed_the_same_rules(
    incremental: Path,
) -> None:
    first = run(incremental, TOUCHPOINTS, chunk_rows=CHUNK)
    # a bad old row that the increment would not look at
    plant(incremental, f"{UPDATE} set channel = null where touchpoint_id = '{tp(5)}'")
    add_batch(incremental, 100_000, 10)
    channel_null = {("expect_column_values_to_not_be_null", "channel")}

    assert run(
        incremental, TOUCHPOINTS, chunk_rows=CHUNK, previous=first
    ).success  # by design: validated before
    for previous, why in (
        (None, "no gated publish"),
        (SuiteOutcome(**{**first.__dict__, "success": False}), "did not pass this suite"),
        (SuiteOutcome(**{**first.__dict__, "suite_fingerprint": "other-rules"}), "rules changed"),
        (SuiteOutcome(**{**first.__dict__, "batch_watermark": "2026-02-01 00:00:00"}), "is older than"),
    ):
        outcome = run(incremental, TOUCHPOINTS, chunk_rows=CHUNK, previous=previous)
        assert failed(outcome).keys() == channel_null, why
        assert any(why in n for n in outcome.notes), (why, outcome.notes)


def test_the_audit_starts_from_the_published_runs_outcome(incremental: Path, tmp_path: Path) -> None:
    from cx_warehouse.publish import publish

    target, reports = tmp_path / "published" / "marts.duckdb", tmp_path / "quality"
    first = publish(incremental, target, run_id="night-1", report_root=reports)
    (touchpoints,) = [o for o in first.gate.outcomes if o.suite == "fct_touchpoints"]
    assert touchpoints.success and touchpoints.batch_watermark == BATCH_1
    assert gate.published_run_id(target) == "night-1"

    add_batch(incremental, 100_000, 25)
    second = gate.audit(incremental, target, run_id="night-2", report_root=reports)
    (touchpoints,) = [o for o in second.outcomes if o.suite == "fct_touchpoints"]
    assert touchpoints.success, touchpoints.reason()
    notes = " ".join(touchpoints.notes)
    assert "published run night-1" in notes and "25 recomputed row(s)" in notes, notes
