-- The edges of the identity graph: one row per pair of identifiers (node_a < node_b) that are linked, because
-- they were observed together on a record of a graph source, or because the two crm_ids are duplicate
-- registrations of one person (same name and birth date signature and the same address at some time, even when
-- they share no e-mail or phone). Excluded identifiers (placeholders) take part in no edge. Shared (household)
-- identifiers still have their edges here; the resolution does not let them link two CRM persons.

with

records_paired as (

    select * from {{ ref('int_identity_records_paired') }}

),

record_identifiers as {{ not_materialized() }} (

    select * from {{ ref('int_identity_record_identifiers') }}
    where is_graph_source

),

excluded_identifiers as (

    select node_id from {{ ref('int_identity_identifiers') }}
    where is_excluded

),

crm_persons as (

    select * from {{ ref('int_identity_crm_persons') }}

),

crm_customer_versions as (

    select * from {{ ref('stg_crm__customer_versions') }}

),

-- the linking identifiers of the records with three or more of them (few): each pair of them is an edge
wide_records as (

    select * from records_paired
    where node_count > 2

),

wide_record_nodes as {{ not_materialized() }} (

    select
        record_identifiers.source_model,
        record_identifiers.record_id,
        record_identifiers.node_id,
        wide_records.observed_at
    from record_identifiers
    inner join wide_records
        on record_identifiers.source_model = wide_records.source_model
        and record_identifiers.record_id = wide_records.record_id
    left join excluded_identifiers
        on record_identifiers.node_id = excluded_identifiers.node_id
    where excluded_identifiers.node_id is null

),

-- pairs of identifiers observed on one record: a record with two is one pair as it stands
co_observed_pairs as (

    select
        first_node_id as node_a,
        last_node_id as node_b,
        observed_at
    from records_paired
    where node_count = 2
    union all
    select
        node_a.node_id as node_a,
        node_b.node_id as node_b,
        node_a.observed_at
    from wide_record_nodes as node_a
    inner join wide_record_nodes as node_b
        on node_a.source_model = node_b.source_model
        and node_a.record_id = node_b.record_id
        and node_a.node_id < node_b.node_id

),

co_observed as (

    select
        node_a,
        node_b,
        count(*) as record_count,
        min(observed_at) as first_observed_at
    from co_observed_pairs
    group by
        node_a,
        node_b

),

-- every address a CRM record carried in any version: `<postcode>|<house number>`
crm_addresses as (

    select distinct
        crm_id,
        {{ dbt.concat([
            'postcode', "'|'", "lower(" ~ regexp_replace_all('trim(house_number)', '[- ]', '') ~ ")",
        ]) }} as address_key
    from crm_customer_versions
    where postcode is not null
        and nullif(trim(house_number), '') is not null

),

duplicate_registrations as (

    select distinct
        {{ identity_node_id("'crm_id'", 'person_a.crm_id') }} as node_a,
        {{ identity_node_id("'crm_id'", 'person_b.crm_id') }} as node_b
    from crm_persons as person_a
    inner join crm_persons as person_b
        on person_a.person_anchor = person_b.person_anchor
        and person_a.crm_id < person_b.crm_id
    inner join crm_addresses as address_a
        on person_a.crm_id = address_a.crm_id
    inner join crm_addresses as address_b
        on person_b.crm_id = address_b.crm_id
        and address_a.address_key = address_b.address_key
    where person_a.has_full_signature
        and person_b.has_full_signature

),

all_edges as (

    select
        node_a,
        node_b,
        true as is_co_observed,
        false as is_duplicate_registration,
        record_count,
        first_observed_at
    from co_observed
    union all
    select
        node_a,
        node_b,
        false as is_co_observed,
        true as is_duplicate_registration,
        0 as record_count,
        cast(null as {{ dbt.type_timestamp() }}) as first_observed_at
    from duplicate_registrations

),

final as (

    select
        node_a,
        node_b,
        max(case when is_co_observed then 1 else 0 end) = 1 as is_co_observed,
        max(case when is_duplicate_registration then 1 else 0 end) = 1 as is_duplicate_registration,
        sum(record_count) as record_count,
        min(first_observed_at) as first_observed_at
    from all_edges
    group by
        node_a,
        node_b

)

select * from final
