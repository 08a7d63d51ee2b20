-- Every distinct version of a CRM customer record: one row per crm_id + updated_at (local). The
-- same version delivered more than once (re-sent rows, _rN re-deliveries) is one row, from its
-- latest delivery.

with

source as (

    select * from {{ source('crm', 'crm_customers') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.crm_id') }}, source.updated_at
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source

),

renamed as (

    select

        ---------- ids
        {{ clean_string('crm_id') }} as crm_id,
        {{ clean_string('loyalty_card_no') }} as loyalty_card_no,

        ---------- strings
        {{ clean_string('first_name') }} as first_name,
        {{ clean_string('last_name') }} as last_name,
        {{ normalise_email('email') }} as email,
        {{ normalise_phone('phone') }} as phone,
        {{ normalise_postcode('postcode') }} as postcode,
        {{ postcode_area(normalise_postcode('postcode')) }} as postcode_area,
        {{ clean_string('house_number') }} as house_number,
        {{ clean_string('city') }} as city,
        {{ clean_string('gender') }} as gender,

        ---------- booleans
        case {{ clean_string('marketing_opt_in') }}
            when 'J' then true
            when 'N' then false
        end as is_marketing_opted_in,

        ---------- dates
        birth_date,

        ---------- timestamps
        {{ amsterdam_local_to_utc('created_at') }} as created_at,
        {{ amsterdam_local_to_utc('updated_at') }} as updated_at,
        created_at as created_at_local,
        updated_at as updated_at_local,

        ---------- lineage
        _file_name,
        _business_date,
        _delivery_no,
        _row_no,
        _loaded_at

    from ranked
    where delivery_rank = 1

)

select * from renamed
