{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

-- The identity history: one row per change of a customer key, with the run that caused it (invocation_id and
-- run_started_at). Appended every run and kept across `dbt build --full-refresh` (full_refresh: false). Holds
-- only pseudonymous customer keys, no identifiers.
--
-- event_type
--   created            a new customer got a key (related_customer_key null)
--   merged             related_customer_key was merged into customer_key (the older key survives)
--   split              customer_key was split off related_customer_key (which keeps its key)
--   identifiers_moved  identifiers moved from related_customer_key (which lives on) to existing customer_key
--   identifiers_added  identifiers joined customer_key (identifier_count of them)
--   erased             customer_key was erased after an erasure request (its identifiers are suppressed)
--   retired            customer_key lost all its identifiers without a merge or an erasure
-- identifier_count: how many identifiers the change concerned.

with

node_keys as (

    select * from {{ ref('int_identity_node_keys') }}

),

active_keys as (

    select distinct customer_key
    from node_keys
    where node_status = 'active'

),

changed_nodes as (

    select
        node_keys.*,
        active_keys.customer_key is not null as previous_key_lives_on
    from node_keys
    left join active_keys
        on node_keys.previous_customer_key = active_keys.customer_key
    where node_keys.assigned_invocation_id = {{ identity_invocation_id() }}

),

events as (

    select
        case
            when node_status = 'erased' then 'erased'
            when node_status = 'detached' and not previous_key_lives_on then 'retired'
            when node_status = 'detached' then 'identifiers_detached'
            when previous_customer_key is null and key_event = 'created' then 'created'
            when previous_customer_key is null then 'identifiers_added'
            when key_event = 'split' then 'split'
            when not previous_key_lives_on then 'merged'
            else 'identifiers_moved'
        end as event_type,
        case
            when node_status in ('erased', 'detached') then previous_customer_key
            else customer_key
        end as customer_key,
        case
            when node_status in ('erased', 'detached') then null
            else previous_customer_key
        end as related_customer_key
    from changed_nodes

),

final as (

    select
        {{ dbt.concat([
            identity_invocation_id(), "'|'", 'event_type', "'|'", 'customer_key', "'|'",
            "coalesce(related_customer_key, '')",
        ]) }} as event_id,
        event_type,
        customer_key,
        related_customer_key,
        count(*) as identifier_count,
        {{ identity_invocation_id() }} as invocation_id,
        {{ identity_run_started_at() }} as run_started_at
    from events
    group by
        event_type,
        customer_key,
        related_customer_key

)

select * from final
