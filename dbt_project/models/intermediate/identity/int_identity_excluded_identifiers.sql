-- What identity resolution excluded and why: one row per placeholder or high-degree identifier (see
-- int_identity_identifiers for the rule). Excluded identifiers link nobody, attribute no record and never appear
-- in identity_map.

with

identifiers as (

    select * from {{ ref('int_identity_identifiers') }}

),

final as (

    select
        id_type,
        id_value,
        exclusion_reason,
        is_known_placeholder,
        crm_person_count,
        household_count,
        account_count,
        record_count,
        first_observed_at,
        last_observed_at
    from identifiers
    where is_excluded

)

select * from final
