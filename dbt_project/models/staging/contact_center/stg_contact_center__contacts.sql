-- One row per contact-center contact (phone call, e-mail or chat). A repeated contact_id keeps its
-- latest delivery. Start and end times are delivered in Amsterdam local time and converted to UTC.

with

source as (

    select * from {{ source('contact_center', 'contact_center') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.contact_id') }}
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source

),

renamed as (

    select

        ---------- ids
        {{ clean_string('contact_id') }} as contact_id,
        {{ clean_string('case_id') }} as case_id,
        {{ clean_string('crm_id') }} as crm_id,
        {{ clean_string('agent_id') }} as agent_id,

        ---------- strings
        {{ clean_string('channel') }} as channel,
        {{ normalise_phone('customer_phone') }} as customer_phone,
        {{ normalise_email('customer_email') }} as customer_email,
        {{ clean_string('reason') }} as reason,
        {{ clean_string('outcome') }} as outcome,

        ---------- numerics
        wait_seconds,
        handle_seconds,
        transfer_count,

        ---------- booleans
        {{ clean_string('outcome') }} = 'opgelost' as is_resolved,

        ---------- timestamps
        {{ amsterdam_local_to_utc('started_at') }} as started_at,
        {{ amsterdam_local_to_utc('ended_at') }} as ended_at,
        started_at as started_at_local,
        ended_at as ended_at_local,

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
