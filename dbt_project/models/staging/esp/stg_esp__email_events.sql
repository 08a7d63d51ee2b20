{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='event_id',
    )
}}

-- One row per e-mail event from the e-mail service provider (sent, delivered, open, click, ...). A
-- repeated event_id keeps its latest delivery.
-- Incremental (macros/utils/incremental.sql): a night ranks only the rows of new loads (and of the lookback
-- days) against the copy already kept, so a late file or a re-delivery of any older day is picked up; a key
-- whose kept copy a re-delivery withdrew is re-ranked over everything raw still holds for it.

with

{% if is_incremental() %}
withdrawn_keys as (

    select event_id
    from {{ this }}
    where {{ is_withdrawn_load('email_events') }}

),
{% endif %}

source as (

    select * from {{ source('esp', 'email_events') }}
    {% if is_incremental() %}
    where {{ is_new_load() }}
        or {{ clean_string('event_id') }} in (select event_id from withdrawn_keys)
    {% endif %}

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

    from source

),

{% if is_incremental() %}
affected_keys as (

    select event_id from renamed
    union
    select event_id from withdrawn_keys

),

kept_rows as (

    select previous.*
    from {{ this }} as previous
    inner join affected_keys
        on previous.event_id = affected_keys.event_id
    where not {{ is_withdrawn_load('email_events', 'previous.') }}

),

candidates as (

    select * from renamed
    union all
    select * from kept_rows

),
{% else %}
candidates as (

    select * from renamed

),
{% endif %}

ranked as (

    select
        candidates.*,
        row_number() over (
            partition by candidates.event_id
            order by {{ latest_delivery_first('candidates.') }}
        ) as delivery_rank
    from candidates

),

deduplicated as (

    select
        event_id,
        campaign_id,
        campaign_name,
        campaign_type,
        email,
        event_type,
        link_url,
        occurred_at,
        _file_name,
        _business_date,
        _delivery_no,
        _row_no,
        _loaded_at
    from ranked
    where delivery_rank = 1

),

final as (
    {{ recompute_batch('affected_keys', 'deduplicated', 'event_id') }}
)

select * from final
