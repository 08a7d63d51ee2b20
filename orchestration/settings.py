"""Where the warehouse's files live: one set of environment variables for Dagster, dbt and the CLI.

Importing this module fills in the defaults (relative to the repository root) and makes every path
absolute in ``os.environ``, so that ``dg.EnvVar`` in the resources and ``env_var()`` in dbt's
``profiles.yml`` (read by the dbt subprocess) always see the same files, whatever the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

PATH_DEFAULTS: dict[str, str] = {
    "CX_LANDING_DIR": "data/landing",
    "CX_WAREHOUSE_PATH": "data/warehouse.duckdb",
    "CX_PUBLISH_PATH": "data/marts.duckdb",
}


def _absolute(value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (REPO_ROOT / path).resolve())


for _name, _default in PATH_DEFAULTS.items():
    os.environ[_name] = _absolute(os.environ.get(_name) or _default)


os.environ.setdefault("CX_DUCKDB_MEMORY_LIMIT", "8GB")


def landing_dir() -> Path:
    return Path(os.environ["CX_LANDING_DIR"])


def warehouse_path() -> Path:
    return Path(os.environ["CX_WAREHOUSE_PATH"])
