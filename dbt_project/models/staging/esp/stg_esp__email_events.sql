-- One row per e-mail event from the e-mail service provider (sent, delivered, open, click, ...). A
-- repeated event_id keeps its latest delivery.

with

source as (

    select * from {{ source('esp', 'email_events') }}

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
        {{ clean_string('campaign_id') }} as campaign_id,

        ---------- strings
        {{ clean_string('campaign_name') }} as campaign_name,
        {{ clean_string('campaign_type') }} as campaign_type,
        {{ normalise_email('email') }} as email,
        {{ clean_string('event_type') }} as event_type,
        {{ clean_string('link_url') }} as link_url,

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
