-- Every source identifier traced to its customer: one row per customer and normalised identifier (the contract's
-- identity_map). Warehouse-internal: it holds raw identifiers (personal data) and is not published to BI.
--
-- * the identifiers that resolved to the customer (its component in int_identity_components);
-- * shared household identifiers (a landline, a family e-mail address) under every customer whose attributed
--   records carry them, so one may appear under several customers;
-- * placeholders (int_identity_excluded_identifiers) under none, erased persons not at all.

with

components as (

    select * from {{ ref('int_identity_components') }}

),

node_keys as (

    select * from {{ ref('int_identity_node_keys') }}
    where node_status = 'active'

),

records_resolved as (

    select * from {{ ref('int_records_resolved') }}
    where customer_key is not null

),

record_identifiers as (

    select * from {{ ref('int_identity_record_identifiers') }}

),

resolved_identifiers as (

    select
        node_keys.customer_key,
        components.id_type,
        components.id_value,
        false as is_shared
    from components
    inner join node_keys
        on components.node_hash = node_keys.node_hash

),

shared_identifiers as (

    select distinct
        records_resolved.customer_key,
        record_identifiers.id_type,
        record_identifiers.id_value,
        true as is_shared
    from records_resolved
    inner join record_identifiers
        on records_resolved.source_model = record_identifiers.source_model
        and records_resolved.record_id = record_identifiers.record_id
    inner join components
        on record_identifiers.node_id = components.node_id
    where components.is_conflicted

),

final as (

    select * from resolved_identifiers
    union all
    select * from shared_identifiers

)

select * from final
