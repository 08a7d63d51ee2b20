"""Shared test set-up: the dbt manifest that the Dagster definitions load must exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """``dbt parse`` once per session if `make` did not already produce the manifest."""
    manifest = DBT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        subprocess.run(
            [str(DBT), "parse", "--profiles-dir", ".", "--quiet"],
            cwd=DBT_DIR,
            check=True,
            capture_output=True,
        )
    return manifest
