{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

-- One row per dbt run that resolved identities: how big the graph was, how many iterations the resolution took
-- (also in the dbt log), what it excluded and what came out. Appended every run, kept across --full-refresh.

with

identifiers as (

    select * from {{ ref('int_identity_identifiers') }}

),

edges as (

    select * from {{ ref('int_identity_edges') }}

),

components as (

    select * from {{ ref('int_identity_components') }}

),

node_keys as (

    select * from {{ ref('int_identity_node_keys') }}

),

graph as (

    select
        max(anchor_iterations) as anchor_iterations,
        max(label_iterations) as label_iterations,
        count(*) as nodes,
        sum(case when is_conflicted then 1 else 0 end) as conflicted_identifiers,
        count(distinct component_id) as components,
        count(distinct case when is_customer_component then component_id end) as customer_components,
        max(case when is_customer_component then component_size end) as largest_component_size,
        max(case when is_customer_component then component_crm_person_count end) as max_crm_persons_per_component
    from components

),

identifier_counts as (

    select
        sum(case when is_excluded then 1 else 0 end) as excluded_identifiers,
        sum(case when is_shared then 1 else 0 end) as shared_identifiers
    from identifiers

),

edge_counts as (

    select
        count(*) as edges,
        sum(case when is_duplicate_registration then 1 else 0 end) as duplicate_registration_edges
    from edges

),

key_counts as (

    select
        count(distinct case when node_status = 'active' then customer_key end) as customers,
        count(distinct case when key_event = 'created' then customer_key end) as keys_created,
        count(distinct case when key_event = 'merged' then customer_key end) as customers_merged,
        count(distinct case when key_event = 'split' then customer_key end) as keys_split_off,
        count(distinct case when node_status = 'erased' then previous_customer_key end) as customers_erased
    from node_keys

),

final as (

    select
        {{ identity_invocation_id() }} as invocation_id,
        {{ identity_run_started_at() }} as run_started_at,
        graph.anchor_iterations + graph.label_iterations as iterations,
        graph.anchor_iterations,
        graph.label_iterations,
        graph.nodes,
        edge_counts.edges,
        edge_counts.duplicate_registration_edges,
        identifier_counts.excluded_identifiers,
        identifier_counts.shared_identifiers,
        graph.conflicted_identifiers,
        graph.components,
        graph.customer_components,
        graph.largest_component_size,
        graph.max_crm_persons_per_component,
        key_counts.customers,
        key_counts.keys_created,
        key_counts.customers_merged,
        key_counts.keys_split_off,
        key_counts.customers_erased
    from graph
    cross join identifier_counts
    cross join edge_counts
    cross join key_counts

)

select * from final
