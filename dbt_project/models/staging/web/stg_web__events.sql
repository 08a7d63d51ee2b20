{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='event_id',
    )
}}

-- One row per web analytics event. Events are delivered at least once (re-sent the next day): a
-- repeated event_id is one row, from its latest delivery.
-- Incremental (macros/utils/incremental.sql): a night ranks only the events of new loads (and of the lookback
-- days) against the copy already kept, so a late file or a re-delivery of any older day is picked up; an event
-- whose kept copy a re-delivery withdrew is re-ranked over everything raw still holds for it.

with

{% if is_incremental() %}
withdrawn_keys as (

    select event_id
    from {{ this }}
    where {{ is_withdrawn_load('web_events') }}

),
{% endif %}

source as (

    select * from {{ source('web', 'web_events') }}
    {% if is_incremental() %}
    where {{ is_new_load() }}
        or {{ clean_string('event_id') }} in (select event_id from withdrawn_keys)
    {% endif %}

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
    where not {{ is_withdrawn_load('web_events', 'previous.') }}

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
        anonymous_id,
        account_id,
        sku,
        event_type,
        url,
        user_agent,
        utm_source,
        utm_campaign,
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
