"""`python -m cx_warehouse.ingest LANDING WAREHOUSE`: load a landing tree into a warehouse, with timing.

Meant for trying the loader on its own (the nightly run goes through Dagster): prints one line per extract
and the wall-clock and CPU time of the load.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb

from cx_warehouse.ingest import load_all, scan_landing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cx_warehouse.ingest", description=__doc__.splitlines()[0]
    )
    parser.add_argument("landing", type=Path, help="landing root")
    parser.add_argument("warehouse", type=Path, help="DuckDB warehouse file (created if missing)")
    parser.add_argument("--run-id", default="cli")
    parser.add_argument("--exact", action="store_true", help="never use the DuckDB fast path")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")

    for path, why in scan_landing(args.landing).unrecognised:
        print(f"warning: not loaded: {path} ({why})")
    started, cpu = time.perf_counter(), _cpu()
    with duckdb.connect(str(args.warehouse)) as con:
        results = load_all(con, args.landing, args.run_id, fast_path=not args.exact)
    wall, cpu = time.perf_counter() - started, _cpu() - cpu

    print(
        f"{'extract':<18} {'files':>5} {'fast':>5} {'rows in':>10} {'loaded':>10} {'rejected':>9}  statuses"
    )
    for extract in sorted({r.extract for r in results}):
        rs = [r for r in results if r.extract == extract]
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(Counter(r.status for r in rs).items()))
        print(
            f"{extract:<18} {len(rs):>5} {sum(r.fast_path for r in rs):>5} {sum(r.rows_in for r in rs):>10} "
            f"{sum(r.rows_loaded for r in rs):>10} {sum(r.rows_rejected for r in rs):>9}  {statuses}"
        )
    rows = sum(r.rows_in for r in results)
    print(f"{len(results)} files, {rows} rows in {wall:.1f} s wall, {cpu:.1f} s CPU")
    return 0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
