"""Pure parts of the ingest: byte sources, line splitting, decoding, CSV records, SQL value rules."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.ingest.reader import (
    ByteSource,
    DecodeState,
    TextLines,
    iter_lines,
    iter_text_lines,
    record_texts,
    scan_bytes,
)
from cx_warehouse.ingest.spec import ColType, Column
from cx_warehouse.ingest.tokenize import _records
from cx_warehouse.ingest.validate import error_exprs, trimmed, typed_expr


def test_iter_lines_keeps_newlines_across_chunks() -> None:
    chunks = [b"ab\ncd", b"e\n\nf", b"g"]
    assert list(iter_lines(iter(chunks))) == [b"ab\n", b"cde\n", b"\n", b"fg"]


def test_truncated_gzip_yields_the_readable_bytes_and_an_error(tmp_path: Path) -> None:
    payload = b"".join(b"line %d with some text to compress\n" % i for i in range(20000))
    data = gzip.compress(payload)
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(data[: len(data) // 3])
    source = ByteSource(path, gz=True)
    out = b"".join(source)
    assert 0 < len(out) < len(payload) and payload.startswith(out)
    assert source.error is not None and source.error.startswith("truncated gzip file")


def test_multi_member_gzip_reads_every_member(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(b"a\n") + gzip.compress(b"b\n"))
    source = ByteSource(path, gz=True)
    assert b"".join(source) == b"a\nb\n" and source.error is None


def test_scan_counts_lines_and_checks_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("h\nä\nlast".encode())
    s = scan_bytes(ByteSource(path, gz=False))
    assert (s.n_lines, s.valid_utf8, s.error) == (3, True, None)
    path.write_bytes(b"h\n\xe4\n")
    s = scan_bytes(ByteSource(path, gz=False))
    assert (s.n_lines, s.valid_utf8) == (2, False)


def test_decoding_drops_the_bom_and_escapes_bad_bytes() -> None:
    state = DecodeState()
    lines = list(iter_text_lines(iter([b"\xef\xbb\xbfa;b\n", b"caf\xe9\n"]), "utf-8", state))
    assert lines == ["a;b\n", "caf\\xe9\n"]
    assert state.error == "wrong encoding: not valid UTF-8: byte 0xe9 on line 2 (column 4)"


def test_cp1252_decoding_and_utf8_detection() -> None:
    state = DecodeState()
    assert list(iter_text_lines(iter(["Renée\n".encode("cp1252")]), "cp1252", state)) == ["Renée\n"]
    assert state.error is None
    assert list(iter_text_lines(iter(["Renée\n".encode()]), "cp1252", state)) == ["Renée\n"]
    assert state.error is not None and "is UTF-8" in state.error


def test_csv_records_know_their_physical_lines() -> None:
    lines = ["h1,h2\n", 'a,"x\n', 'y"\n', "\n", "b,c\r\n", 'd,"open\n', "e,f\n"]
    assert list(_records(iter(lines), ",")) == [
        (1, 1, ["h1", "h2"], None),
        (2, 3, ["a", "x\ny"], None),
        (5, 5, ["b", "c"], None),  # line 4 is blank: not a record
        (6, 7, ["d", "open\ne,f\n"], None),  # unterminated: runs to the end (the loader flags it)
    ]


def test_text_lines_split_on_newline_only_and_read_records_back(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b'\xef\xbb\xbfh\n"a\rb\nc",d\r\nx\xe9y\nlast')
    lines = TextLines(path, gz=False, encoding="utf-8")
    assert list(lines) == ["h\n", '"a\rb\n', 'c",d\r\n', "x\\xe9y\n", "last"]
    assert lines.error == "wrong encoding: not valid UTF-8: byte 0xe9 on line 4 (column 2)"
    assert record_texts(path, False, "utf-8", [(2, 3), (5, 5), (4, 4)]) == ['"a\rb\nc",d', "last", "x\\xe9y"]


def _eval(col: Column, value: str | None) -> tuple[object, str | None]:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    t = trimmed("v")
    typed = typed_expr(col, t, "v")
    errors = error_exprs(col, "v", t, f"({typed})")
    reason = f"nullif(concat_ws('; ', {', '.join(errors)}), '')" if errors else "null"
    row = con.execute(f"select {typed}, {reason} from (select ?::varchar as v)", [value]).fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.mark.parametrize(
    ("col", "value", "typed", "reason"),
    [
        (Column("n", ColType.INT), " 42 ", 42, None),
        (Column("n", ColType.INT), "+3", 3, None),
        (Column("n", ColType.INT), "3.5", None, "unparseable int in column n: '3.5'"),
        (Column("n", ColType.INT), "1e3", None, "unparseable int in column n: '1e3'"),
        (Column("n", ColType.INT), "", None, None),
        (
            Column("n", ColType.INT, min=1, max=5),
            "6",
            6,
            "value out of range in column n: '6' (allowed 1..5)",
        ),
        (Column("p", ColType.DECIMAL), "12.50", Decimal("12.5"), None),
        (Column("p", ColType.DECIMAL), "-.5", Decimal("-0.5"), None),
        (Column("p", ColType.DECIMAL), "12,50", None, "unparseable decimal in column p: '12,50'"),
        (
            Column("s", ColType.DECIMAL, min=-1, max=1),
            "-1.5",
            Decimal("-1.5"),
            "value out of range in column s: '-1.5' (allowed -1..1)",
        ),
        (Column("t", ColType.LOCAL_TS), "2026-10-25 02:30:00", datetime(2026, 10, 25, 2, 30), None),
        (
            Column("t", ColType.LOCAL_TS),
            "2026-10-25T02:30:00",
            None,
            "unparseable local_ts in column t: '2026-10-25T02:30:00'",
        ),
        (Column("t", ColType.UTC_TS), "2026-01-05T10:00:00Z", datetime(2026, 1, 5, 10), None),
        (Column("t", ColType.UTC_TS), "2026-07-05T10:00:00+02:00", datetime(2026, 7, 5, 8), None),
        (
            Column("t", ColType.UTC_TS),
            "2026-07-05 10:00:00.5-0130",
            datetime(2026, 7, 5, 11, 30, 0, 500000),
            None,
        ),
        (Column("t", ColType.UTC_TS), "2026-07-05", None, "unparseable utc_ts in column t: '2026-07-05'"),
        (Column("d", ColType.DATE_ISO), "2026-02-28", date(2026, 2, 28), None),
        (Column("d", ColType.DATE_ISO), "28-02-2026", None, "unparseable date_iso in column d: '28-02-2026'"),
        (Column("d", ColType.DATE_DMY), "28-02-1990", date(1990, 2, 28), None),
        (Column("e", ColType.ENUM, values=("M", "V")), " v ", "V", None),
        (
            Column("e", ColType.ENUM, values=("M", "V")),
            "x",
            None,
            "unknown enum value in column e: 'x' (allowed: M, V)",
        ),
        (Column("k", key=True), " ", " ", "missing key column k"),
        (Column("k", key=True), None, None, "missing key column k"),
        (Column("s"), "  as delivered ", "  as delivered ", None),
        (Column("s"), "", None, None),
    ],
)
def test_value_rules(col: Column, value: str | None, typed: object, reason: str | None) -> None:
    assert _eval(col, value) == (typed, reason)
