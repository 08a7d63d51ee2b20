"""Ingest assets: one per channel extract, partitioned by business date, loading landing files into raw."""

from collections.abc import Iterator
from datetime import date

import dagster as dg

from cx_warehouse.ingest import FileResult, ensure_raw_schema, load_files, pending_files
from cx_warehouse.ingest.spec import EXTRACTS
from orchestration.partitions import BUSINESS_DATE
from orchestration.resources import LandingResource, WarehouseResource

RAW_GROUP = "raw"

# What each extract means to the business (shown in the Dagster UI).
EXTRACT_DESCRIPTIONS: dict[str, str] = {
    "crm_customers": "Customer records created or changed in the CRM that day: who our registered "
    "customers are, how to reach them and whether they want marketing. The first day holds them all.",
    "pos_transactions": "Receipt lines from the shops' tills: what was bought or returned in store, where "
    "and when; a loyalty card ties a receipt to a customer, otherwise the visit is anonymous.",
    "webshop_orders": "Webshop order versions (placed, shipped, delivered, cancelled) with their items and "
    "returns: the online purchase and delivery experience, including promised vs actual delivery.",
    "web_events": "Clickstream of the website (page and product views, searches, carts, checkouts, logins, "
    "help pages) per browser cookie; a login ties a cookie to a webshop account.",
    "contact_center": "Contacts with customer service by phone, e-mail and chat: why customers reached out, "
    "how long they waited and whether their issue was resolved.",
    "email_events": "The e-mail service provider's events per campaign (sent, delivered, opened, clicked, "
    "bounced, unsubscribed, complained): how customers engage with our e-mail.",
    "social_messages": "Customer-care conversations on social media (X, Facebook, Instagram, WhatsApp) with "
    "the listening tool's sentiment: what customers say publicly and how fast we answer.",
    "survey_responses": "Survey answers (relationship NPS, after a contact, a delivery or a store visit): "
    "NPS, CSAT, CES and the three E's - how customers rate their experience.",
    "privacy_requests": "GDPR (AVG) requests: erasure, marketing opt-out and profiling opt-out, which the "
    "warehouse must honour in its next run.",
    "products": "Daily full snapshot of the product catalogue: names, categories, brands and list prices.",
    "stores": "Daily full snapshot of the shops: name, city, province and opening date.",
}

# Raw tables written by an extract besides its own (the webshop order's nested arrays).
CHILD_TABLES: dict[str, str] = {
    child: name for name, spec in EXTRACTS.items() for child in spec.child_tables.values()
}

INGEST_SPECS = [
    dg.AssetSpec(
        key=dg.AssetKey([RAW_GROUP, name]),
        group_name=RAW_GROUP,
        description=EXTRACT_DESCRIPTIONS[name],
        kinds={"duckdb", "python"},
        metadata={"landing_folder": name, "format": spec.format.value, "key": ", ".join(spec.key)},
    )
    for name, spec in EXTRACTS.items()
] + [
    dg.AssetSpec(
        key=dg.AssetKey([RAW_GROUP, child]),
        group_name=RAW_GROUP,
        description=f"The {child.removeprefix(parent.removesuffix('s') + '_')} nested in each {parent} "
        f"version, one row per element; written by the same load as raw/{parent}.",
        kinds={"duckdb", "python"},
        deps=[dg.AssetKey([RAW_GROUP, parent])],
        metadata={"landing_folder": parent},
    )
    for child, parent in CHILD_TABLES.items()
]


def _summary_metadata(results: list[FileResult], unchanged: int) -> dict[str, dg.MetadataValue]:
    rows_in = sum(r.rows_in for r in results)
    loaded = sum(r.rows_loaded for r in results)
    rejected = sum(r.rows_rejected for r in results)
    lines = ["| file | status | rows in | loaded | rejected | reason |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {r.file_name} | {r.status} | {r.rows_in} | {r.rows_loaded} | {r.rows_rejected} "
        f"| {r.reason or ''} |"
        for r in results
        if r.status != "skipped"
    ]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return {
        "files": dg.MetadataValue.int(len(results)),
        "files_unchanged": dg.MetadataValue.int(unchanged),
        "files_by_status": dg.MetadataValue.json(statuses),
        "rows_in": dg.MetadataValue.int(rows_in),
        "rows_loaded": dg.MetadataValue.int(loaded),
        "rows_rejected": dg.MetadataValue.int(rejected),
        "file_results": dg.MetadataValue.md("\n".join(lines[:202])),
    }


@dg.multi_asset(
    name="ingest_extracts",
    specs=INGEST_SPECS,
    partitions_def=BUSINESS_DATE,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
)
def ingest_extracts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
) -> Iterator[dg.MaterializeResult]:
    """Load the new and changed landing files of the selected extracts and business dates into ``raw``.

    Files whose name, size and mtime match their manifest row are not read at all (``pending_files``); the
    others go through the loader, which still skips a file whose checksum is unchanged. Each row is loaded or
    rejected (with file, line, raw text and reason) and ``_rN`` re-deliveries replace the day's earlier file,
    so re-running any range is safe and cheap.
    """
    days = [date.fromisoformat(key) for key in context.partition_keys]
    selected = {key.path[-1] for key in context.selected_asset_keys}
    extracts = sorted({CHILD_TABLES.get(name, name) for name in selected})
    with warehouse.connect() as con:
        ensure_raw_schema(con)
        pending = pending_files(con, landing.path, extracts=extracts, dates=days)
        for extract in extracts:
            files = [f for f in pending if f.extract == extract]
            unchanged = sum(f.extract == extract for f in pending.known)
            results = load_files(con, landing.path, files, context.run.run_id)
            context.log.info(
                f"{extract}: {len(results)} new or changed file(s) ({unchanged} unchanged, not read), "
                f"{sum(r.rows_loaded for r in results)} rows loaded, "
                f"{sum(r.rows_rejected for r in results)} rejected"
            )
            metadata = _summary_metadata(results, unchanged)
            # The extract's own table first: its nested tables are downstream of it.
            tables = sorted(t for t in selected if CHILD_TABLES.get(t, t) == extract)
            for table in sorted(tables, key=lambda t: t != extract):
                yield dg.MaterializeResult(asset_key=dg.AssetKey([RAW_GROUP, table]), metadata=metadata)
