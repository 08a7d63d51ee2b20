"""Publishing the audited BI marts to the DuckDB file BI tools read (write-audit-publish)."""

from cx_warehouse.publish.publisher import (
    PublishBlocked,
    PublishResult,
    contract_problems,
    file_sha256,
    publish,
)
from cx_warehouse.publish.registry import (
    BI_SCHEMA,
    CONTRACT_TABLES,
    PUBLISHED_TABLES,
    TABLES_BY_NAME,
    PublishedTable,
)

__all__ = [
    "BI_SCHEMA",
    "CONTRACT_TABLES",
    "PUBLISHED_TABLES",
    "TABLES_BY_NAME",
    "PublishBlocked",
    "PublishResult",
    "PublishedTable",
    "contract_problems",
    "file_sha256",
    "publish",
]
