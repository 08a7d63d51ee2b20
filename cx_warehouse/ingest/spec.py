"""The channel extract contract as data: one ``ExtractSpec`` per extract.

This module is the single source of truth shared by the sample generator, the loader (which validates
delivered rows against it) and the raw-layer DDL that dbt's sources read. It follows
``shared/extract-contract.md``; when the contract changes, change it here.

Raw tables (schema ``raw`` in the warehouse) hold one row per delivered, valid row with typed columns named
exactly as in the contract, plus lineage columns (see ``LINEAGE_COLUMNS``). Deduplication by key
("latest ``updated_at`` wins", "a repeated key is one row") is *not* done here but in dbt staging, so that
raw keeps everything that was delivered and loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColType(StrEnum):
    """How a delivered text value is parsed, and the DuckDB type it is stored as in ``raw``."""

    STR = "str"  # free text or identifier, stored as delivered (staging normalises)
    INT = "int"  # whole number, e.g. "3", "-1"
    DECIMAL = "decimal"  # decimal point, e.g. "12.50"
    LOCAL_TS = "local_ts"  # "YYYY-MM-DD HH:MM:SS", Europe/Amsterdam wall clock, stored naive (local)
    UTC_TS = "utc_ts"  # ISO 8601 with "Z" or an offset, stored as naive UTC timestamp
    DATE_ISO = "date_iso"  # "YYYY-MM-DD"
    DATE_DMY = "date_dmy"  # "DD-MM-YYYY"
    ENUM = "enum"  # one of ``Column.values`` (matched case-insensitively after trimming, stored canonical)
    JSON = "json"  # a nested JSON array (webshop items / returns), flattened into child tables


DUCKDB_TYPES: dict[ColType, str] = {
    ColType.STR: "varchar",
    ColType.INT: "bigint",
    ColType.DECIMAL: "decimal(18, 4)",
    ColType.LOCAL_TS: "timestamp",
    ColType.UTC_TS: "timestamp",
    ColType.DATE_ISO: "date",
    ColType.DATE_DMY: "date",
    ColType.ENUM: "varchar",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColType = ColType.STR
    key: bool = False  # part of the extract's key: a missing value rejects the row
    values: tuple[str, ...] = ()  # allowed values for ENUM (empty string is always allowed = unknown)
    min: float | None = None  # inclusive range for INT / DECIMAL; outside it the row is rejected
    max: float | None = None
    children: tuple[Column, ...] = ()  # fields of each element of a JSON array column


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True)
class ExtractSpec:
    name: str  # folder and file prefix in the landing tree, and the raw table name
    format: FileFormat
    columns: tuple[Column, ...]
    delimiter: str = ","  # CSV only
    encoding: str = "utf-8"  # CSV only; JSON Lines are always UTF-8
    gzip: bool = False  # the extract is normally delivered gzip-compressed (".gz" is accepted for any)
    snapshot: bool = False  # full snapshot (reference data) rather than a daily delta
    dbt_source: str = ""  # dbt source name that exposes the raw table(s)
    child_tables: dict[str, str] = field(default_factory=dict)  # JSON column -> raw child table name

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.key)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def file_suffix(self) -> str:
        """The usual file ending, e.g. ``.csv`` or ``.jsonl.gz``."""
        return "." + self.format.value + (".gz" if self.gzip else "")


def _cols(*columns: Column) -> tuple[Column, ...]:
    return columns


C = Column
T = ColType

EXTRACTS: dict[str, ExtractSpec] = {
    spec.name: spec
    for spec in (
        ExtractSpec(
            name="crm_customers",
            format=FileFormat.CSV,
            delimiter=";",
            dbt_source="crm",
            columns=_cols(
                C("crm_id", key=True),
                C("first_name"),
                C("last_name"),
                C("email"),
                C("phone"),
                C("birth_date", T.DATE_DMY),
                C("postcode"),
                C("house_number"),
                C("city"),
                C("gender", T.ENUM, values=("M", "V", "X")),
                C("loyalty_card_no"),
                C("marketing_opt_in", T.ENUM, values=("J", "N")),
                C("created_at", T.LOCAL_TS),
                C("updated_at", T.LOCAL_TS),
            ),
        ),
        ExtractSpec(
            name="pos_transactions",
            format=FileFormat.CSV,
            dbt_source="pos",
            columns=_cols(
                C("transaction_id", key=True),
                C("line_no", T.INT, key=True),
                C("store_id"),
                C("register_ts", T.LOCAL_TS),
                C("loyalty_card_no"),
                C("sku"),
                C("quantity", T.INT),
                C("unit_price_eur", T.DECIMAL),
                C("discount_eur", T.DECIMAL),
                C("payment_method"),
            ),
        ),
        ExtractSpec(
            name="webshop_orders",
            format=FileFormat.JSONL,
            dbt_source="webshop",
            child_tables={"items": "webshop_order_items", "returns": "webshop_order_returns"},
            columns=_cols(
                C("order_id", key=True),
                C("account_id"),
                C("email"),
                C("ordered_at", T.UTC_TS),
                C("updated_at", T.UTC_TS),
                C("status", T.ENUM, values=("placed", "shipped", "delivered", "cancelled")),
                C("promised_delivery_date", T.DATE_ISO),
                C("delivered_at", T.UTC_TS),
                C("shipping_postcode"),
                C(
                    "items",
                    T.JSON,
                    children=(C("sku"), C("qty", T.INT), C("unit_price_eur", T.DECIMAL)),
                ),
                C(
                    "returns",
                    T.JSON,
                    children=(
                        C("sku"),
                        C("qty", T.INT),
                        C("reason"),
                        C("returned_at", T.UTC_TS),
                    ),
                ),
            ),
        ),
        ExtractSpec(
            name="web_events",
            format=FileFormat.JSONL,
            gzip=True,
            dbt_source="web",
            columns=_cols(
                C("event_id", key=True),
                C("anonymous_id"),
                C("account_id"),
                C(
                    "event_type",
                    T.ENUM,
                    values=(
                        "page_view",
                        "product_view",
                        "search",
                        "add_to_cart",
                        "checkout_start",
                        "order_complete",
                        "login",
                        "help_page_view",
                    ),
                ),
                C("url"),
                C("sku"),
                C("ts", T.UTC_TS),
                C("user_agent"),
                C("utm_source"),
                C("utm_campaign"),
            ),
        ),
        ExtractSpec(
            name="contact_center",
            format=FileFormat.CSV,
            delimiter=";",
            encoding="cp1252",
            dbt_source="contact_center",
            columns=_cols(
                C("contact_id", key=True),
                C("case_id"),
                C("channel", T.ENUM, values=("telefoon", "email", "chat")),
                C("customer_phone"),
                C("customer_email"),
                C("crm_id"),
                C("started_at", T.LOCAL_TS),
                C("ended_at", T.LOCAL_TS),
                C("wait_seconds", T.INT, min=0),
                C("handle_seconds", T.INT, min=0),
                C(
                    "reason",
                    T.ENUM,
                    values=("bezorging", "retour", "betaling", "product", "klacht", "account", "overig"),
                ),
                C("outcome", T.ENUM, values=("opgelost", "doorverwezen", "terugbellen", "onopgelost")),
                C("agent_id"),
                C("transfer_count", T.INT, min=0),
            ),
        ),
        ExtractSpec(
            name="email_events",
            format=FileFormat.CSV,
            dbt_source="esp",
            columns=_cols(
                C("event_id", key=True),
                C("campaign_id"),
                C("campaign_name"),
                C("campaign_type", T.ENUM, values=("promo", "newsletter", "service", "winback")),
                C("email"),
                C(
                    "event_type",
                    T.ENUM,
                    values=("sent", "delivered", "open", "click", "bounce", "unsubscribe", "complaint"),
                ),
                C("ts", T.UTC_TS),
                C("link_url"),
            ),
        ),
        ExtractSpec(
            name="social_messages",
            format=FileFormat.JSONL,
            dbt_source="social",
            columns=_cols(
                C("message_id", key=True),
                C("conversation_id"),
                C("platform", T.ENUM, values=("x", "facebook", "instagram", "whatsapp")),
                C("author_handle"),
                C("direction", T.ENUM, values=("inbound", "outbound")),
                C("sent_at", T.UTC_TS),
                C("text"),
                C("sentiment", T.DECIMAL, min=-1, max=1),
                C("linked_email"),
            ),
        ),
        ExtractSpec(
            name="survey_responses",
            format=FileFormat.CSV,
            dbt_source="survey",
            columns=_cols(
                C("response_id", key=True),
                C(
                    "survey_type",
                    T.ENUM,
                    values=("relationship_nps", "post_contact", "post_delivery", "post_store_visit"),
                ),
                C("touchpoint_ref"),
                C("respondent_email"),
                C("crm_id"),
                C("responded_at", T.UTC_TS),
                C("nps", T.INT, min=0, max=10),
                C("csat", T.INT, min=1, max=5),
                C("ces", T.INT, min=1, max=7),
                C("effectiveness", T.INT, min=1, max=5),
                C("ease", T.INT, min=1, max=5),
                C("emotion", T.INT, min=1, max=5),
                C("comment"),
            ),
        ),
        ExtractSpec(
            name="privacy_requests",
            format=FileFormat.CSV,
            dbt_source="privacy",
            columns=_cols(
                C("request_id", key=True),
                C("crm_id"),
                C("email"),
                C("request_type", T.ENUM, values=("erasure", "marketing_opt_out", "profiling_opt_out")),
                C("received_at", T.UTC_TS),
            ),
        ),
        ExtractSpec(
            name="products",
            format=FileFormat.CSV,
            snapshot=True,
            dbt_source="reference",
            columns=_cols(
                C("sku", key=True),
                C("product_name"),
                C("category"),
                C("subcategory"),
                C("brand"),
                C("list_price_eur", T.DECIMAL, min=0),
                C("active", T.ENUM, values=("true", "false")),
            ),
        ),
        ExtractSpec(
            name="stores",
            format=FileFormat.CSV,
            snapshot=True,
            dbt_source="reference",
            columns=_cols(
                C("store_id", key=True),
                C("store_name"),
                C("city"),
                C("province"),
                C("opened_on", T.DATE_ISO),
            ),
        ),
    )
}

# Lineage columns appended to every raw table (and child table).
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_file_name", "varchar"),  # landing file name, e.g. crm_customers_20260105_r2.csv
    ("_business_date", "date"),  # the business date the file covers (from its name)
    ("_delivery_no", "integer"),  # 1 for the first delivery, N for an _rN re-delivery
    ("_row_no", "bigint"),  # 1-based ordinal of the row among the file's data rows (tie-breaker)
    ("_line_no", "bigint"),  # physical line where the row starts (header = line 1 for CSV)
    ("_extra", "varchar"),  # JSON object of unknown extra columns delivered with the row, else null
    ("_loaded_at", "timestamp"),  # UTC wall clock of the load
)

RAW_SCHEMA = "raw"
MANIFEST_TABLE = "raw._load_manifest"
REJECTS_TABLE = "raw._rejects"


def raw_table_ddl(spec: ExtractSpec) -> list[str]:
    """``create table if not exists`` statements for an extract's raw table and its child tables."""
    cols = [f"{c.name} {DUCKDB_TYPES[c.type]}" for c in spec.columns if c.type is not ColType.JSON]
    lineage = [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS]
    ddl = [f"create table if not exists {RAW_SCHEMA}.{spec.name} ({', '.join(cols + lineage)})"]
    parent_key = [c for c in spec.columns if c.key] + [c for c in spec.columns if c.name == "updated_at"]
    for col in spec.columns:
        if col.type is not ColType.JSON:
            continue
        child = spec.child_tables[col.name]
        child_cols = (
            [f"{c.name} {DUCKDB_TYPES[c.type]}" for c in parent_key]
            + [f"{col.name.rstrip('s')}_no integer"]
            + [f"{c.name} {DUCKDB_TYPES[c.type]}" for c in col.children]
        )
        ddl.append(f"create table if not exists {RAW_SCHEMA}.{child} ({', '.join(child_cols + lineage)})")
    return ddl


def warehouse_ddl() -> list[str]:
    """Every statement that creates the raw layer: schema, raw tables, manifest and rejects."""
    ddl = [f"create schema if not exists {RAW_SCHEMA}"]
    for spec in EXTRACTS.values():
        ddl.extend(raw_table_ddl(spec))
    ddl.append(
        f"""create table if not exists {MANIFEST_TABLE} (
            file_name varchar,          -- landing file name
            file_path varchar,          -- path relative to the landing root
            extract varchar,
            business_date date,
            delivery_no integer,
            checksum varchar,           -- sha256 of the file's bytes
            file_bytes bigint,
            status varchar,             -- loaded | rejected | malformed | superseded | replaced
            reason varchar,             -- why a file was rejected, superseded or replaced
            rows_in bigint,
            rows_loaded bigint,
            rows_rejected bigint,
            extra_columns varchar,      -- comma-separated unknown columns that were loaded as _extra
            loaded_at timestamp,        -- UTC
            run_id varchar,             -- Dagster run id (or 'cli')
            file_mtime_ns bigint        -- the file's mtime (ns) when read; with file_bytes: "unchanged since"
        )"""
    )
    # Warehouses from before file_mtime_ns: their rows get null (unknown: checked by checksum once).
    ddl.append(f"alter table {MANIFEST_TABLE} add column if not exists file_mtime_ns bigint")
    ddl.append(
        f"""create table if not exists {REJECTS_TABLE} (
            file_name varchar,
            extract varchar,
            business_date date,
            line_no bigint,             -- physical line in the file (1-based; CSV header is line 1)
            raw_line varchar,           -- the delivered text of the row (decoded; undecodable bytes escaped)
            reason varchar,
            rejected_at timestamp       -- UTC
        )"""
    )
    return ddl
