"""The dbt project as Dagster assets: staging, intermediate and marts, downstream of the ingest assets."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from pydantic import Field

from orchestration.assets.ingest import RAW_GROUP
from orchestration.project import dbt_project


class CxDbtTranslator(DagsterDbtTranslator):
    """Maps dbt sources onto the ingest assets that load them, and dbt folders onto asset groups."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # A source names its producing asset in meta.dagster.asset_key (e.g. a Python-built mart);
            # otherwise it is a raw table, loaded by the ingest asset of the same name (raw/<table>).
            declared = dbt_resource_props.get("meta", {}).get("dagster", {}).get("asset_key")
            return dg.AssetKey(declared) if declared else dg.AssetKey([RAW_GROUP, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        # fqn is [project, "staging" | "intermediate" | "marts", ...]: the layer is the group.
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


translator = CxDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class DbtBuildConfig(dg.Config):
    """Run config of the dbt step(s): ``cx-nightly --full-refresh`` sets it (see ``dbt_run_config``)."""

    full_refresh: bool = Field(
        default=False,
        description="Run `dbt build --full-refresh`: rebuild incremental models (identity) from scratch.",
    )


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator)
def cx_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """Build and test the dbt models selected in this run (``dbt build``): tests surface as asset checks."""
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    yield from dbt.cli(args, context=context).stream()


def dbt_run_config(job: dg.JobDefinition, *, full_refresh: bool) -> dict[str, Any]:
    """Run config that sets ``DbtBuildConfig`` on every dbt step of ``job``.

    A job may run the dbt assets as several steps (ops ``cx_dbt_models``, ``cx_dbt_models_2``, ...: Dagster
    splits them around the Python assets between dbt models), each with its own config.
    """
    if not full_refresh:
        return {}
    ops = {
        node.name: {"config": {"full_refresh": True}}
        for node in job.graph.nodes
        if node.definition.name == cx_dbt_models.op.name
    }
    return {"ops": ops} if ops else {}
