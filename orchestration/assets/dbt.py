"""The dbt project as Dagster assets: staging, intermediate and marts, downstream of the ingest assets."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

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


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator)
def cx_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Build and test the dbt models selected in this run (``dbt build``): tests surface as asset checks."""
    yield from dbt.cli(["build"], context=context).stream()
