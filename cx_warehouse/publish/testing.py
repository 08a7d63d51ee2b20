"""A small, consistent warehouse with every published mart, for tests and for timing the gate.

The marts are shaped as the contract describes them (``dim_customer`` with its personal data, as the identity
mart holds it; ``fct_touchpoints``; ``fct_contacts``; ``mart_satisfaction`` computed from
``staging.stg_survey__responses``; a customer-level satisfaction table; ``customer_propensity``) and schema
``bi`` holds one BI-safe view per published table, as ``dbt_project/models/bi`` does. Everything is derived
from ``range()`` and hashes, so it is deterministic. Tests then plant one fault at a time.
"""

from __future__ import annotations

import os

import duckdb

BI_VIEWS: dict[str, str] = {
    "dim_customer": """
        select customer_key, first_seen_at, last_seen_at, lifecycle_stage, is_marketing_opted_in,
               is_profiling_opted_out, age_band, postcode_area
        from marts.dim_customer""",
    "fct_touchpoints": """
        select touchpoint_id, customer_key, channel, touchpoint_type, occurred_at, journey_stage
        from marts.fct_touchpoints""",
    "fct_contacts": """
        select contact_id, customer_key, channel, reason, is_first_contact_resolution
        from marts.fct_contacts""",
    "mart_satisfaction": """
        select "date", channel, survey_type, responses, nps_responses, nps, csat_avg, ces_avg,
               effectiveness_avg, ease_avg, emotion_avg
        from marts.mart_satisfaction""",
    "mart_customer_satisfaction": """
        select customer_key, responses, csat_avg, last_nps_score from marts.mart_customer_satisfaction""",
    "customer_propensity": """
        select customer_key, scored_at, churn_propensity, purchase_propensity_30d, model_version
        from marts.customer_propensity""",
}


def build_sample_warehouse(
    path: str | os.PathLike[str],
    *,
    customers: int = 300,
    touchpoints: int = 3_000,
    contacts: int = 400,
    responses: int = 1_500,
    days: int = 14,
    with_bi_views: bool = True,
) -> None:
    """Create (or replace) a warehouse at ``path``: consistent marts, staging surveys and bi views."""
    with duckdb.connect(str(path)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema if not exists marts; create schema if not exists staging")
        con.execute("create schema if not exists bi")
        con.execute(
            f"""
            create or replace table marts.dim_customer as
            select
                sha256('customer|' || i) as customer_key,
                'Jan' as first_name,
                'Klant ' || i as last_name,
                'klant' || i || '@example.nl' as email,
                '+3161' || lpad(i::varchar, 7, '0') as phone,
                date '1980-01-01' + (i % 15000)::integer as birth_date,
                ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'][1 + i % 6] as age_band,
                (1000 + i % 8999)::varchar as postcode_area,
                timestamptz '2025-06-01 00:00:00+00' + to_minutes(i) as first_seen_at,
                timestamptz '2026-01-01 00:00:00+00' + to_minutes(i) as last_seen_at,
                ['new', 'active', 'at_risk', 'lapsed', 'churned'][1 + i % 5] as lifecycle_stage,
                i % 3 = 0 as is_marketing_opted_in,
                i % 10 = 0 as is_profiling_opted_out
            from range({customers}) as r(i)
            """
        )
        con.execute(
            f"""
            create or replace table marts.fct_touchpoints as
            select
                'TP' || lpad(i::varchar, 9, '0') as touchpoint_id,
                case when i % 7 = 0 then null
                     else sha256('customer|' || (i % {customers})) end as customer_key,
                ['store', 'webshop', 'web', 'contact_center', 'email', 'social'][1 + i % 6] as channel,
                ['purchase', 'visit', 'contact', 'open'][1 + i % 4] as touchpoint_type,
                timestamptz '2026-01-01 00:00:00+00' + to_minutes(i * 7) as occurred_at,
                ['awareness', 'consideration', 'purchase', 'service', 'loyalty'][1 + i % 5] as journey_stage
            from range({touchpoints}) as r(i)
            """
        )
        con.execute(
            f"""
            create or replace table marts.fct_contacts as
            select
                'CC' || lpad(i::varchar, 9, '0') as contact_id,
                sha256('customer|' || (i % {customers})) as customer_key,
                ['telefoon', 'email', 'chat'][1 + i % 3] as channel,
                ['bezorging', 'retour', 'betaling', 'product', 'klacht', 'account', 'overig'][1 + i % 7]
                    as reason,
                i % 4 = 0 as is_first_contact_resolution
            from range({contacts}) as r(i)
            """
        )
        con.execute(
            f"""
            create or replace table staging.stg_survey__responses as
            select
                'R' || lpad(i::varchar, 9, '0') as response_id,
                ['relationship_nps', 'post_contact', 'post_delivery', 'post_store_visit'][1 + i % 4]
                    as survey_type,
                'klant' || (i % {customers}) || '@example.nl' as respondent_email,
                sha256('customer|' || (i % {customers})) as _customer_key,
                timestamptz '2026-01-01 00:00:00+00' + to_minutes((i * 37) % ({days} * 1440)) as responded_at,
                timestamp '2026-01-01 01:00:00' + to_minutes((i * 37) % ({days} * 1440))
                    as responded_at_local,
                case when i % 5 = 4 then null else (i * 7) % 11 end as nps,
                1 + (i * 3) % 5 as csat,
                1 + (i * 5) % 7 as ces,
                1 + i % 5 as effectiveness,
                1 + (i + 1) % 5 as ease,
                1 + (i + 2) % 5 as emotion,
                'Prima service' as comment
            from range({responses}) as r(i)
            """
        )
        con.execute(
            """
            create or replace table marts.mart_satisfaction as
            select
                cast(responded_at_local as date) as "date",
                case survey_type
                    when 'post_store_visit' then 'store'
                    when 'post_delivery' then 'webshop'
                    when 'relationship_nps' then 'relationship'
                    else ['telefoon', 'email', 'chat'][1 + (hash(response_id) % 3)::bigint]
                end as channel,
                survey_type,
                count(*) as responses,
                count(nps) as nps_responses,
                100.0 * (count(*) filter (where nps >= 9) - count(*) filter (where nps <= 6))
                    / nullif(count(nps), 0) as nps,
                avg(csat) as csat_avg,
                avg(ces) as ces_avg,
                avg(effectiveness) as effectiveness_avg,
                avg(ease) as ease_avg,
                avg(emotion) as emotion_avg
            from staging.stg_survey__responses
            group by all
            """
        )
        con.execute(
            """
            create or replace table marts.mart_customer_satisfaction as
            select
                _customer_key as customer_key,
                count(*) as responses,
                avg(csat) as csat_avg,
                arg_max(nps, responded_at) as last_nps_score
            from staging.stg_survey__responses
            group by 1
            """
        )
        con.execute(
            """
            create or replace table marts.customer_propensity as
            select
                customer_key,
                timestamptz '2026-01-15 02:00:00+00' as scored_at,
                (hash(customer_key) % 1000)::bigint / 1000.0 as churn_propensity,
                (hash(customer_key || 'p') % 1000)::bigint / 1000.0 as purchase_propensity_30d,
                'sample-1' as model_version
            from marts.dim_customer
            where not is_profiling_opted_out
            """
        )
        if with_bi_views:
            for name, sql in BI_VIEWS.items():
                con.execute(f"create or replace view bi.{name} as {sql}")
        con.execute("checkpoint")
