-- One row per web analytics event. Events are delivered at least once (re-sent the next day): a
-- repeated event_id is one row, from its latest delivery.

with

source as (

    select * from {{ source('web', 'web_events') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.event_id') }}
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source

),

renamed as (

    select

        ---------- ids
        {{ clean_string('event_id') }} as event_id,
        {{ clean_string('anonymous_id') }} as anonymous_id,
        {{ clean_string('account_id') }} as account_id,
        {{ clean_string('sku') }} as sku,

        ---------- strings
        {{ clean_string('event_type') }} as event_type,
        {{ clean_string('url') }} as url,
        {{ clean_string('user_agent') }} as user_agent,
        {{ clean_string('utm_source') }} as utm_source,
        {{ clean_string('utm_campaign') }} as utm_campaign,

        ---------- timestamps
        ts as occurred_at,

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
