"""BI readers during a publish, in other processes: never blocked, never a half-published file.

One reader holds the published file open read-only for the whole test and keeps querying it (a BI tool with an
open connection); another reconnects in a tight loop and checks every file it opens is complete and consistent
with itself (all contract tables, row counts equal to the counts recorded in the same file). Meanwhile the
test publishes twice more. Both publishes must finish while the first reader holds the file open.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.publish import CONTRACT_TABLES, publish
from cx_warehouse.publish.testing import build_sample_warehouse

pytestmark = pytest.mark.integration

READER = r"""
import json, sys, time
from pathlib import Path
import duckdb

mode, path, stop, tables = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4].split(",")

def snapshot(con):
    run_id = con.execute("select run_id from meta.publish_info").fetchall()[0][0]
    recorded = dict(con.execute(
        "select table_name, value from meta.table_stats where metric = 'rows'").fetchall())
    counts = {}
    for t in tables:
        counts[t] = con.execute(f"select count(*) from main.{t}").fetchall()[0][0]
        if counts[t] != recorded.get(t):
            raise AssertionError(f"{run_id}: {t} has {counts[t]} rows, the file records {recorded.get(t)}")
    return run_id, counts

errors, seen, iterations = [], [], 0
held = duckdb.connect(path, read_only=True) if mode == "hold" else None
first = snapshot(held) if held else None
print("ready", flush=True)
while not stop.exists():
    try:
        if held is not None:
            if snapshot(held) != first:
                errors.append("the held connection saw the file change under it")
            run_id = first[0]
        else:
            with duckdb.connect(path, read_only=True) as con:
                run_id, _ = snapshot(con)
        if not seen or seen[-1] != run_id:
            seen.append(run_id)
        iterations += 1
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    time.sleep(0.002)
print(json.dumps({"errors": errors[:20], "seen": seen, "iterations": iterations}), flush=True)
"""


def _start(mode: str, target: Path, stop: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", READER, mode, str(target), str(stop), ",".join(CONTRACT_TABLES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", (
        f"{mode} reader failed to start: {line} {proc.stderr.read() if proc.stderr else ''}"
    )
    return proc


def _finish(proc: subprocess.Popen[str]) -> dict:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_readers_are_never_blocked_and_never_see_a_partial_publish(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    target = tmp_path / "published" / "marts.duckdb"
    stop = tmp_path / "stop"
    build_sample_warehouse(warehouse, touchpoints=20_000)
    publish(warehouse, target, run_id="v1")

    holder = _start("hold", target, stop)
    poller = _start("poll", target, stop)
    try:
        durations = []
        for version, extra in (("v2", 500), ("v3", 900)):
            with duckdb.connect(str(warehouse)) as con:  # tonight's new touchpoints
                con.execute(
                    f"""insert into marts.fct_touchpoints
                        select 'TP{version}' || i, null, 'web', 'visit', now() - interval 1 hour, 'awareness'
                        from range({extra}) r(i)"""
                )
            started = time.perf_counter()
            result = publish(warehouse, target, run_id=version)
            durations.append(time.perf_counter() - started)
            assert result.tables["fct_touchpoints"] == 20_000 + (500 if version == "v2" else 1_400)
            time.sleep(2.0)  # let the polling reader open the new file a few times
    finally:
        stop.touch()
        held, polled = _finish(holder), _finish(poller)

    assert held["errors"] == [] and held["seen"] == ["v1"] and held["iterations"] > 10
    assert polled["errors"] == [], polled["errors"]
    assert polled["seen"][-1] == "v3" and set(polled["seen"]) <= {"v1", "v2", "v3"}
    assert polled["iterations"] > 10
    assert max(durations) < 60  # the publishes were not blocked by the open readers
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select run_id from meta.publish_info").fetchall() == [("v3",)]
    assert not list(target.parent.glob(".*.tmp*"))
