"""``cx-bench``: a benchmark of the nightly build (``make bench``).

It generates a landing tree (or reuses one), holds back its last business date, measures the *floor* (the
time DuckDB needs to read every landing file once into a table), runs the real ``cx-nightly`` on the rest as
a full build from an empty warehouse, then puts the held-back day back and runs ``cx-nightly`` again as a
one-day incremental night. Per stage (generate, ingest, dbt build, models, checks, publish) and in total it
reports rows, wall time and peak memory, the ratios total/floor and incremental/full, and the targets.

Modules: :mod:`.procs` (subprocess with process-tree memory sampling), :mod:`.landing` (generation marker,
hold-back), :mod:`.floor`, :mod:`.stages` (step records to stages), :mod:`.night` (one measured
``cx-nightly``: Dagster event log and row counts), :mod:`.report` (targets, table, JSON), :mod:`.cli`.
Only :mod:`.night` imports Dagster (lazily), to read the event log of the runs it measured.
"""
