{{
    config(
        materialized='incremental',
        incremental_strategy='replace_state',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

-- The suppression list: one row per identifier of a person who asked for erasure, stored only as a salted hash
-- (macro identity_hash; no raw identifier is kept). State: every run reads the previous list (`{{ this }}`) and
-- adds to it, and `dbt build --full-refresh` does not reset it (full_refresh: false).
--
-- A customer component is suppressed when it holds an identifier named in an erasure request (crm_id or e-mail)
-- or an identifier already on the list. All its identifiers (not the shared household ones, which belong to
-- others too) are added, so identifiers that join an erased person later (a new cookie logging into the erased
-- account) are suppressed as well. The request's own identifiers are added even when no customer holds them
-- yet, so a person who is erased before their records arrive stays out too. Suppressed components get no
-- customer key: the person disappears from dim_customer, identity_map and every record attribution.

{% do identity_assert_salt_unchanged(this) %}

with

components as (

    select * from {{ ref('int_identity_components') }}

),

privacy_requests as (

    select * from {{ ref('stg_privacy__requests') }}
    where request_type = 'erasure'

),

{% if is_incremental() %}
previous_list as (

    select
        id_hash,
        id_type,
        erasure_request_id,
        suppressed_at,
        suppressed_invocation_id
    from {{ this }}

),
{% else %}
previous_list as (

    select
        cast(null as {{ dbt.type_string() }}) as id_hash,
        cast(null as {{ dbt.type_string() }}) as id_type,
        cast(null as {{ dbt.type_string() }}) as erasure_request_id,
        cast(null as {{ dbt.type_timestamp() }}) as suppressed_at,
        cast(null as {{ dbt.type_string() }}) as suppressed_invocation_id
    from privacy_requests
    where 1 = 0

),
{% endif %}

request_identifiers as (

    select
        request_id,
        'crm_id' as id_type,
        crm_id as id_value
    from privacy_requests
    where crm_id is not null
    union all
    select
        request_id,
        'email' as id_type,
        email as id_value
    from privacy_requests
    where email is not null

),

request_hashes as (

    select
        {{ identity_hash(identity_node_id('id_type', 'id_value'), 'node') }} as id_hash,
        id_type,
        request_id as erasure_request_id
    from request_identifiers

),

-- everything that marks a component as erased: earlier entries and this run's requests
suppression_seeds as (

    select
        id_hash,
        erasure_request_id
    from previous_list
    union all
    select
        id_hash,
        erasure_request_id
    from request_hashes

),

suppressed_components as (

    select
        components.component_id,
        min(suppression_seeds.erasure_request_id) as erasure_request_id
    from components
    inner join suppression_seeds
        on components.node_hash = suppression_seeds.id_hash
    where components.is_customer_component
        and not components.is_conflicted
    group by components.component_id

),

component_hashes as (

    select
        components.node_hash as id_hash,
        components.id_type,
        suppressed_components.erasure_request_id
    from components
    inner join suppressed_components
        on components.component_id = suppressed_components.component_id
    where not components.is_conflicted

),

new_entries as (

    select
        id_hash,
        id_type,
        min(erasure_request_id) as erasure_request_id
    from (
        select * from request_hashes
        union all
        select * from component_hashes
    ) as candidates
    group by
        id_hash,
        id_type

),

final as (

    select
        id_hash,
        id_type,
        erasure_request_id,
        suppressed_at,
        suppressed_invocation_id,
        {{ identity_salt_fingerprint() }} as salt_fingerprint
    from previous_list
    union all
    select
        new_entries.id_hash,
        new_entries.id_type,
        new_entries.erasure_request_id,
        {{ identity_run_started_at() }} as suppressed_at,
        {{ identity_invocation_id() }} as suppressed_invocation_id,
        {{ identity_salt_fingerprint() }} as salt_fingerprint
    from new_entries
    left join previous_list
        on new_entries.id_hash = previous_list.id_hash
    where previous_list.id_hash is null

)

select * from final
