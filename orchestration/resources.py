"""Resources: the DuckDB warehouse, the landing tree and the dbt CLI, configured from the environment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from orchestration import settings
from orchestration.project import dbt_project


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse DuckDB file (``CX_WAREHOUSE_PATH``). DuckDB allows one writer process at a time."""

    path: str
    memory_limit: str = "8GB"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, config={"memory_limit": self.memory_limit})
        # Not in the connect config: the ICU extension that owns this setting is only loaded after start-up.
        con.execute("set TimeZone = 'UTC'")
        try:
            yield con
        finally:
            con.close()


class LandingResource(dg.ConfigurableResource):
    """The landing tree where the source systems deliver their nightly extracts (``CX_LANDING_DIR``)."""

    root: str

    @property
    def path(self) -> Path:
        return Path(self.root)


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(
            path=dg.EnvVar("CX_WAREHOUSE_PATH"),
            memory_limit=dg.EnvVar("CX_DUCKDB_MEMORY_LIMIT"),
        ),
        "landing": LandingResource(root=dg.EnvVar("CX_LANDING_DIR")),
        # The dbt installed beside this interpreter, so it works without an activated virtualenv.
        "dbt": DbtCliResource(
            project_dir=dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")
        ),
    }


__all__ = ["LandingResource", "WarehouseResource", "build_resources", "settings"]
