"""Jobs: the nightly build (ingest + everything downstream) and ingest on its own."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.ingest import RAW_GROUP

# Ingest assets are partitioned by business date; everything downstream is unpartitioned and rebuilt from raw.
nightly_job = dg.define_asset_job(
    name="nightly_build",
    selection=dg.AssetSelection.all(),
    description="Load the selected business dates' extracts, then build, test and publish downstream.",
    tags={"dagster/max_retries": "1"},
)

ingest_job = dg.define_asset_job(
    name="ingest_only",
    selection=dg.AssetSelection.groups(RAW_GROUP),
    description="Load (or reload) landing files for the selected business dates into the raw schema only.",
)
