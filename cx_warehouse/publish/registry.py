"""The one list of tables the warehouse publishes to BI: name, grain, required columns, where they come from.

Adding a published table is one entry here plus its dbt view `dbt_project/models/bi/bi_<name>.sql` (schema
``bi``, alias ``<name>``). The publish step copies every relation of schema ``bi`` into the published file and
refuses to publish while a ``contract`` table is missing or lacks a required column, so a mart that has not
landed yet fails the publish with a clear reason instead of publishing an incomplete file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BI_SCHEMA = "bi"


@dataclass(frozen=True)
class PublishedTable:
    """A BI-facing table: published as ``main.<name>`` from the view ``bi.<name>`` over ``mart``."""

    name: str
    grain: tuple[str, ...]
    required_columns: tuple[str, ...]
    mart: str  # the audited warehouse relation behind it (schema.table); quality suites read this one
    contract: bool = True  # required by the extract contract ("What the warehouse publishes")
    asset_key: tuple[str, ...] = field(
        default=()
    )  # Dagster asset that builds `mart`; default (schema, table)

    @property
    def bi_relation(self) -> str:
        return f"{BI_SCHEMA}.{self.name}"

    @property
    def mart_asset_key(self) -> tuple[str, ...]:
        return self.asset_key or tuple(self.mart.split("."))


PUBLISHED_TABLES: tuple[PublishedTable, ...] = (
    PublishedTable(
        name="dim_customer",
        grain=("customer_key",),
        required_columns=(
            "customer_key",
            "first_seen_at",
            "last_seen_at",
            "lifecycle_stage",
            "is_marketing_opted_in",
        ),
        mart="marts.dim_customer",
    ),
    PublishedTable(
        name="fct_touchpoints",
        grain=("touchpoint_id",),
        required_columns=(
            "touchpoint_id",
            "customer_key",
            "channel",
            "touchpoint_type",
            "occurred_at",
            "journey_stage",
        ),
        mart="marts.fct_touchpoints",
    ),
    PublishedTable(
        name="fct_contacts",
        grain=("contact_id",),
        required_columns=("contact_id", "customer_key", "channel", "reason", "is_first_contact_resolution"),
        mart="marts.fct_contacts",
    ),
    PublishedTable(
        name="mart_satisfaction",
        grain=("date", "channel", "survey_type"),
        required_columns=(
            "date",
            "channel",
            "survey_type",
            "responses",
            "nps_responses",
            "nps",
            "csat_avg",
            "ces_avg",
            "effectiveness_avg",
            "ease_avg",
            "emotion_avg",
        ),
        mart="marts.mart_satisfaction",
    ),
    PublishedTable(
        name="customer_propensity",
        grain=("customer_key",),
        required_columns=(
            "customer_key",
            "scored_at",
            "churn_propensity",
            "purchase_propensity_30d",
            "model_version",
        ),
        mart="marts.customer_propensity",
    ),
    # Not in the contract's list ("more are welcome"): published when it exists, not required.
    PublishedTable(
        name="mart_customer_satisfaction",
        grain=("customer_key",),
        required_columns=("customer_key",),
        mart="marts.mart_customer_satisfaction",
        contract=False,
    ),
)

TABLES_BY_NAME: dict[str, PublishedTable] = {t.name: t for t in PUBLISHED_TABLES}
CONTRACT_TABLES: tuple[str, ...] = tuple(t.name for t in PUBLISHED_TABLES if t.contract)
