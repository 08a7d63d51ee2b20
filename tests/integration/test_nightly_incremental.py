"""``cx-nightly`` night after night: a night processes only the dates with new or changed files.

Runs the real entry point in a subprocess (as `make run` does) against one temporary landing tree, warehouse
and Dagster home, and reads the runs back from the Dagster instance:

1. first night, empty warehouse: every business date but the last, as one ``nightly_build`` run;
2. the last day's files arrive: one run over that single partition; the other files are not read;
3. nothing new: no run, exit 0;
4. an ``_r2`` re-delivery for an old day, with ``--full-refresh``: one run over that day, ``dbt build
   --full-refresh``;
5. nothing new, ``--rebuild``: downstream only (no ingest step).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cx_warehouse.generator.engine import generate
from cx_warehouse.ingest import discover

pytestmark = pytest.mark.integration

CX_NIGHTLY = Path(sys.executable).with_name("cx-nightly")
CUSTOMERS = 300
DAYS = 10
START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class Nights:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.landing = root / "landing"
        self.warehouse = root / "warehouse.duckdb"
        self.home = root / "dagster_home"
        self.env = os.environ | {
            "CX_LANDING_DIR": str(self.landing),
            "CX_WAREHOUSE_PATH": str(self.warehouse),
            "CX_PUBLISH_PATH": str(root / "marts.duckdb"),
            "CX_QUALITY_DIR": str(root / "quality"),
            "DAGSTER_HOME": str(self.home),
        }
        self.outputs: dict[str, subprocess.CompletedProcess[str]] = {}
        self.runs: dict[str, list[str]] = {}

    def run(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        before = set(self.run_ids())
        result = subprocess.run(
            [str(CX_NIGHTLY), *args], env=self.env, capture_output=True, text=True, timeout=1800
        )
        self.outputs[name] = result
        self.runs[name] = [r for r in self.run_ids() if r not in before]
        return result

    def run_ids(self) -> list[str]:
        if not self.home.exists():
            return []
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return [r.run_id for r in instance.get_runs()]


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Nights:
    n = Nights(tmp_path_factory.mktemp("nights"))
    generate(out=n.landing, truth_dir=n.root / "truth", customers=CUSTOMERS, days=DAYS)
    found = discover(n.landing)
    last = max(f.business_date for f in found)
    held = n.root / "held"
    for f in found:
        if f.business_date == last:
            (held / f.extract).mkdir(parents=True, exist_ok=True)
            f.path.rename(held / f.extract / f.name)

    n.run("first")
    for path in held.rglob("*.*"):
        path.rename(n.landing / path.parent.name / path.name)  # rename keeps the mtime: only the name is new
    # Prove the next night does not read the loaded files: new bytes, same size and mtime, in one of them.
    dates = sorted({f.business_date for f in found})
    n.first_day, n.first_end = dates[0], dates[-2]
    n.tampered = n.landing / "stores" / f"stores_{n.first_day:%Y%m%d}.csv"
    st = n.tampered.stat()
    data = n.tampered.read_bytes()
    at = data.rindex(b",") - 1  # a character of the last row's second-to-last value
    n.tampered.write_bytes(data[:at] + (b"x" if data[at : at + 1] != b"x" else b"y") + data[at + 1 :])
    os.utime(n.tampered, ns=(st.st_atime_ns, st.st_mtime_ns))
    n.run("second")
    n.run("third")
    old_day = dates[2]
    n.old_day = old_day
    source = n.landing / "stores" / f"stores_{old_day:%Y%m%d}.csv"
    shutil.copyfile(source, source.with_name(f"stores_{old_day:%Y%m%d}_r2.csv"))
    n.run("late_r2_full_refresh", "--full-refresh")
    n.run("rebuild", "--rebuild")
    n.last_day = last
    return n


def run_record(nights: Nights, run_id: str) -> dg.DagsterRun:
    with dg.DagsterInstance.from_config(str(nights.home)) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        return run


def steps(nights: Nights, run_id: str) -> set[str]:
    with dg.DagsterInstance.from_config(str(nights.home)) as instance:
        return {
            e.dagster_event.step_key
            for e in instance.all_logs(run_id)
            if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_SUCCESS"
        }


def logs(nights: Nights, run_id: str) -> str:
    with dg.DagsterInstance.from_config(str(nights.home)) as instance:
        return "\n".join(e.user_message for e in instance.all_logs(run_id))


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]


def test_first_night_loads_the_whole_history_in_one_run(nights: Nights) -> None:
    assert_ok(nights.outputs["first"])
    (run_id,) = nights.runs["first"]
    run = run_record(nights, run_id)
    assert run.job_name == "nightly_build"
    assert (run.tags[START], run.tags[END]) == (nights.first_day.isoformat(), nights.first_end.isoformat())


def test_second_night_runs_only_the_new_day_and_reads_no_loaded_file(nights: Nights) -> None:
    result = nights.outputs["second"]
    assert_ok(result)
    assert "for 1 business date(s)" in result.stdout
    (run_id,) = nights.runs["second"]
    run = run_record(nights, run_id)
    day = nights.last_day.isoformat()
    assert run.job_name == "nightly_build" and (run.tags[START], run.tags[END]) == (day, day)
    with duckdb.connect(str(nights.warehouse), read_only=True) as con:
        days = con.execute(
            "select distinct cast(business_date as varchar) from raw._load_manifest where run_id = ?",
            [run_id],
        ).fetchall()
        assert days == [(day,)]
        # The tampered file (new bytes, same size and mtime) was not opened: had it been, its checksum
        # would differ from the manifest's and it would have been loaded again.
        rows = con.execute(
            "select checksum, status from raw._load_manifest where file_name = ?", [nights.tampered.name]
        ).fetchall()
    assert rows == [(rows[0][0], "loaded")]
    assert rows[0][0] != hashlib.sha256(nights.tampered.read_bytes()).hexdigest()


def test_a_night_without_new_files_starts_no_run(nights: Nights) -> None:
    result = nights.outputs["third"]
    assert_ok(result)
    assert nights.runs["third"] == []
    assert "Nothing new to load" in result.stdout and "No run started" in result.stdout


def test_a_late_r2_runs_its_old_day_and_full_refresh_reaches_dbt(nights: Nights) -> None:
    result = nights.outputs["late_r2_full_refresh"]
    assert_ok(result)
    (run_id,) = nights.runs["late_r2_full_refresh"]
    run = run_record(nights, run_id)
    day = nights.old_day.isoformat()
    assert run.job_name == "nightly_build" and (run.tags[START], run.tags[END]) == (day, day)
    dbt_ops = run.run_config["ops"]
    assert dbt_ops and all(op.startswith("cx_dbt_models") for op in dbt_ops)
    assert all(cfg == {"config": {"full_refresh": True}} for cfg in dbt_ops.values())
    assert "dbt build --full-refresh" in logs(nights, run_id)
    with duckdb.connect(str(nights.warehouse), read_only=True) as con:
        statuses = dict(
            con.execute(
                "select file_name, status from raw._load_manifest where file_name like ?",
                [f"stores_{nights.old_day:%Y%m%d}%"],
            ).fetchall()
        )
    assert statuses == {
        f"stores_{nights.old_day:%Y%m%d}.csv": "replaced",
        f"stores_{nights.old_day:%Y%m%d}_r2.csv": "loaded",
    }


def test_rebuild_runs_downstream_only(nights: Nights) -> None:
    result = nights.outputs["rebuild"]
    assert_ok(result)
    assert "--rebuild: building" in result.stdout
    (run_id,) = nights.runs["rebuild"]
    run = run_record(nights, run_id)
    assert START not in run.tags
    done = steps(nights, run_id)
    assert "published_marts" in done and "ingest_extracts" not in done
    assert "dbt build --full-refresh" not in logs(nights, run_id)
