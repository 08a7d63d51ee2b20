-- One row per privacy request (erasure, marketing or profiling opt-out). A repeated request_id
-- keeps its latest delivery.

with

source as (

    select * from {{ source('privacy', 'privacy_requests') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.request_id') }}
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source

),

renamed as (

    select

        ---------- ids
        {{ clean_string('request_id') }} as request_id,
        {{ clean_string('crm_id') }} as crm_id,

        ---------- strings
        {{ normalise_email('email') }} as email,
        {{ clean_string('request_type') }} as request_type,

        ---------- timestamps
        received_at,

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
