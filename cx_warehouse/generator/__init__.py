"""Seeded, deterministic sample-data generator for the 11 channel extracts (see the extract contract).

``generate(out, truth_dir, customers, days, start_date, seed)`` writes the landing files and the ground
truth; ``cx-generate`` (``cx_warehouse.generator.cli``) is its command line. Independent of Dagster.
"""

from cx_warehouse.generator.engine import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
