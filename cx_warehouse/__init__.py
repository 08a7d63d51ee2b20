"""CX Warehouse: the Dagster-independent core (sample generator, ingest, publishing, models).

Nothing in this package imports Dagster, so it can be used from plain scripts and unit tests; the exception
is ``bench/`` (``cx-bench``), which reads the Dagster event log of the runs it measures (imported lazily).
"""
