{{
    config(
        materialized='incremental',
        incremental_strategy='replace_state',
    )
}}

-- What each identifier resolves to, and since when: one row per identifier (node) that attributes records to a
-- customer (part of a customer component and not conflicted), with that customer's key (null when the customer
-- was erased). `_changed_at` is the start of the run in which the node's resolution last changed (it joined a
-- customer, moved to another key by a merge or split, or lost its key); a node that stops resolving stays one
-- run as a tombstone (`resolves` false) so that its records are attributed again. int_records_resolved
-- re-attributes exactly the records with an identifier changed since its own last run.

with

components as (

    select * from {{ ref('int_identity_components') }}
    where is_customer_component
        and not is_conflicted

),

node_keys as (

    select * from {{ ref('int_identity_node_keys') }}
    where node_status = 'active'

),

current_resolutions as (

    select
        components.node_id,
        node_keys.customer_key
    from components
    left join node_keys
        on components.node_hash = node_keys.node_hash

),

{% if is_incremental() %}
previous as (

    select * from {{ this }}
    where resolves

),
{% else %}
previous as (

    select
        cast(null as {{ dbt.type_string() }}) as node_id,
        cast(null as {{ dbt.type_string() }}) as customer_key,
        cast(null as {{ dbt.type_boolean() }}) as resolves,
        cast(null as {{ dbt.type_timestamp() }}) as _changed_at
    from current_resolutions
    where 1 = 0

),
{% endif %}

final as (

    select
        current_resolutions.node_id,
        current_resolutions.customer_key,
        true as resolves,
        case
            when previous.node_id is not null
                and coalesce(previous.customer_key, '') = coalesce(current_resolutions.customer_key, '')
                then previous._changed_at
            else {{ batch_stamp() }}
        end as _changed_at
    from current_resolutions
    left join previous
        on current_resolutions.node_id = previous.node_id
    union all
    select
        previous.node_id,
        cast(null as {{ dbt.type_string() }}) as customer_key,
        false as resolves,
        {{ batch_stamp() }} as _changed_at
    from previous
    left join current_resolutions
        on previous.node_id = current_resolutions.node_id
    where current_resolutions.node_id is null

)

select * from final
