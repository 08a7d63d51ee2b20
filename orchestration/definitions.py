"""The Dagster code location of CX Warehouse: ingest, dbt models and their checks, jobs and schedules."""

from __future__ import annotations

import dagster as dg

from orchestration import settings  # noqa: F401  (fills in and absolutises the path environment variables)
from orchestration.assets.dbt import cx_dbt_models
from orchestration.assets.ingest import ingest_extracts
from orchestration.assets.propensity import propensity_models
from orchestration.assets.publish import build_publish_asset
from orchestration.checks import build_quality_checks
from orchestration.jobs import ingest_job, nightly_job
from orchestration.resources import build_resources
from orchestration.schedules import nightly_schedule

# Assets the quality gate may check: a mart gets its checks (and gates the publish) once its asset is here.
_GATED_ASSETS = [ingest_extracts, cx_dbt_models, propensity_models]
_GATED_KEYS = [key for assets_def in _GATED_ASSETS for key in assets_def.keys]

defs = dg.Definitions(
    assets=[*_GATED_ASSETS, build_publish_asset(_GATED_KEYS)],
    asset_checks=build_quality_checks(_GATED_KEYS),
    jobs=[nightly_job, ingest_job],
    schedules=[nightly_schedule],
    resources=build_resources(),
    # DuckDB allows a single writer process: steps run one after another in the run's process.
    executor=dg.in_process_executor,
)
