{{
    config(
        materialized='incremental',
        incremental_strategy='replace_state',
        on_schema_change='append_new_columns',
        full_refresh=false,
    )
}}

-- The customer key registry: one row per identifier (stored as its salted hash, never the raw value) with the
-- customer_key it belongs to. State: each run reads the previous assignment (`{{ this }}`) and this run's
-- components, and writes the complete new assignment, so keys are stable:
--
-- * a component whose identifiers had one key keeps it, also when new identifiers join it;
-- * a component holding identifiers of several previous keys (a merge) keeps the OLDEST of them: earliest
--   key_created_at, then earliest key_first_seen_at (the customer's first activity when the key was minted), then
--   the smallest key; the other keys are retired (identity_history records the merge);
-- * a previous key whose identifiers are now spread over several components (a split) stays with the component
--   that holds most of them (ties: the smallest component id); the others get new keys;
-- * a component with no previous key gets a new key, minted from the smallest node hash of the component
--   (salted; macro identity_customer_key), so it is reproducible;
--   a key minted for a split also takes the invocation id, so it never repeats an earlier key;
-- * a component holding a suppressed identifier (see int_identity_suppression_list) gets no key.
--
-- Rows of identifiers that left this run (erased, or no longer part of a customer: now excluded, shared or only
-- cookies) stay for this run only, as `erased` / `detached` tombstones without a customer key, so that
-- identity_history can record what happened; the next run drops them.
-- `dbt build --full-refresh` (e.g. `cx-nightly --full-refresh`, to rebuild the incremental event models) does NOT
-- reset the registry (full_refresh: false): customer keys are what BI tools join on and must survive a rebuild.
-- To start the registry afresh on purpose, drop this table; keys are then minted again from their seeds (a
-- customer whose identifiers have not changed since its key was minted gets it back; merged, split or grown ones
-- may not), and identity_history records them as created. A run with another salt fails
-- (identity_assert_salt_unchanged).

{% do identity_assert_salt_unchanged(this) %}

with

components as (

    select * from {{ ref('int_identity_components') }}
    where is_customer_component
        and not is_conflicted

),

suppression_list as (

    select * from {{ ref('int_identity_suppression_list') }}

),

{% if is_incremental() %}
previous as (

    select
        node_hash,
        id_type,
        customer_key,
        key_created_at,
        key_created_invocation_id,
        key_first_seen_at,
        assigned_at,
        assigned_invocation_id
    from {{ this }}
    where node_status = 'active'

),
{% else %}
previous as (

    select
        cast(null as {{ dbt.type_string() }}) as node_hash,
        cast(null as {{ dbt.type_string() }}) as id_type,
        cast(null as {{ dbt.type_string() }}) as customer_key,
        cast(null as {{ dbt.type_timestamp() }}) as key_created_at,
        cast(null as {{ dbt.type_string() }}) as key_created_invocation_id,
        cast(null as {{ dbt.type_timestamp() }}) as key_first_seen_at,
        cast(null as {{ dbt.type_timestamp() }}) as assigned_at,
        cast(null as {{ dbt.type_string() }}) as assigned_invocation_id
    from components
    where 1 = 0

),
{% endif %}

suppressed_components as (

    select distinct components.component_id
    from components
    inner join suppression_list
        on components.node_hash = suppression_list.id_hash

),

current_nodes as (

    select
        components.node_hash,
        components.id_type,
        components.component_id,
        components.component_first_observed_at
    from components
    left join suppressed_components
        on components.component_id = suppressed_components.component_id
    where suppressed_components.component_id is null

),

-- how many identifiers of each previous key each component holds
overlap as (

    select
        current_nodes.component_id,
        previous.customer_key,
        previous.key_created_at,
        previous.key_created_invocation_id,
        previous.key_first_seen_at,
        count(*) as shared_nodes
    from current_nodes
    inner join previous
        on current_nodes.node_hash = previous.node_hash
    group by
        current_nodes.component_id,
        previous.customer_key,
        previous.key_created_at,
        previous.key_created_invocation_id,
        previous.key_first_seen_at

),

-- a previous key goes (at most) to one component: the one holding most of its identifiers
key_homes as (

    select
        overlap.*,
        row_number() over (
            partition by overlap.customer_key
            order by overlap.shared_nodes desc, overlap.component_id
        ) as home_rank
    from overlap

),

-- a component keeps the oldest of the keys that come home to it
key_candidates as (

    select
        key_homes.*,
        row_number() over (
            partition by key_homes.component_id
            order by key_homes.key_created_at, key_homes.key_first_seen_at, key_homes.customer_key
        ) as survivor_rank,
        count(*) over (partition by key_homes.component_id) as candidate_keys
    from key_homes
    where key_homes.home_rank = 1

),

component_summary as (

    select
        current_nodes.component_id,
        min(current_nodes.node_hash) as seed_hash,
        min(current_nodes.component_first_observed_at) as first_seen_at,
        count(previous.node_hash) as previous_nodes
    from current_nodes
    left join previous
        on current_nodes.node_hash = previous.node_hash
    group by current_nodes.component_id

),

component_keys as (

    select
        component_summary.component_id,
        case
            when key_candidates.customer_key is not null then key_candidates.customer_key
            when component_summary.previous_nodes = 0
                then {{ identity_customer_key('component_summary.seed_hash') }}
            else {{ identity_customer_key(dbt.concat([
                'component_summary.seed_hash', "'|'", identity_invocation_id(),
            ])) }}
        end as customer_key,
        case
            when key_candidates.customer_key is null and component_summary.previous_nodes = 0 then 'created'
            when key_candidates.customer_key is null then 'split'
            when key_candidates.candidate_keys > 1 then 'merged'
            else 'kept'
        end as key_event,
        coalesce(key_candidates.key_created_at, {{ identity_run_started_at() }}) as key_created_at,
        coalesce(
            key_candidates.key_created_invocation_id, {{ identity_invocation_id() }}
        ) as key_created_invocation_id,
        coalesce(key_candidates.key_first_seen_at, component_summary.first_seen_at) as key_first_seen_at
    from component_summary
    left join key_candidates
        on component_summary.component_id = key_candidates.component_id
        and key_candidates.survivor_rank = 1

),

active_nodes as (

    select
        current_nodes.node_hash,
        current_nodes.id_type,
        component_keys.customer_key,
        previous.customer_key as previous_customer_key,
        'active' as node_status,
        component_keys.key_event,
        component_keys.key_created_at,
        component_keys.key_created_invocation_id,
        component_keys.key_first_seen_at,
        case
            when previous.customer_key = component_keys.customer_key then previous.assigned_at
            else {{ identity_run_started_at() }}
        end as assigned_at,
        case
            when previous.customer_key = component_keys.customer_key then previous.assigned_invocation_id
            else {{ identity_invocation_id() }}
        end as assigned_invocation_id
    from current_nodes
    inner join component_keys
        on current_nodes.component_id = component_keys.component_id
    left join previous
        on current_nodes.node_hash = previous.node_hash

),

-- identifiers that had a key in the previous run and have none now: erased, or detached from every customer
departed_nodes as (

    select
        previous.node_hash,
        previous.id_type,
        cast(null as {{ dbt.type_string() }}) as customer_key,
        previous.customer_key as previous_customer_key,
        case when suppression_list.id_hash is not null then 'erased' else 'detached' end as node_status,
        case when suppression_list.id_hash is not null then 'erased' else 'detached' end as key_event,
        cast(null as {{ dbt.type_timestamp() }}) as key_created_at,
        cast(null as {{ dbt.type_string() }}) as key_created_invocation_id,
        cast(null as {{ dbt.type_timestamp() }}) as key_first_seen_at,
        {{ identity_run_started_at() }} as assigned_at,
        {{ identity_invocation_id() }} as assigned_invocation_id
    from previous
    left join active_nodes
        on previous.node_hash = active_nodes.node_hash
    left join suppression_list
        on previous.node_hash = suppression_list.id_hash
    where active_nodes.node_hash is null

),

final as (

    select
        *,
        {{ identity_salt_fingerprint() }} as salt_fingerprint
    from active_nodes
    union all
    select
        *,
        {{ identity_salt_fingerprint() }} as salt_fingerprint
    from departed_nodes

)

select * from final
