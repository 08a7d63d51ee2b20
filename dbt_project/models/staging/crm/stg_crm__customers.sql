-- The current state of each CRM customer: the version with the latest updated_at per crm_id; ties
-- (and versions without updated_at, which lose to dated ones) are broken by the latest delivery.

with

customer_versions as (

    select * from {{ ref('stg_crm__customer_versions') }}

),

ranked as (

    select
        customer_versions.*,
        count(*) over (partition by customer_versions.crm_id) as version_count,
        row_number() over (
            partition by customer_versions.crm_id
            order by
                customer_versions.updated_at desc nulls last,
                {{ latest_delivery_first('customer_versions.') }}
        ) as version_rank
    from customer_versions

),

final as (

    select

        ---------- ids
        crm_id,
        loyalty_card_no,

        ---------- strings
        first_name,
        last_name,
        email,
        phone,
        postcode,
        postcode_area,
        house_number,
        city,
        gender,

        ---------- numerics
        version_count,

        ---------- booleans
        is_marketing_opted_in,

        ---------- dates
        birth_date,

        ---------- timestamps
        created_at,
        updated_at,
        created_at_local,
        updated_at_local,

        ---------- lineage
        _file_name,
        _business_date,
        _delivery_no,
        _row_no,
        _loaded_at

    from ranked
    where version_rank = 1

)

select * from final
