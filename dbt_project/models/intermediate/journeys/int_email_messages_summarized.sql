{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='message_key',
    )
}}

-- E-mail messages: one row per campaign and recipient (the e-mail address), summarising the ESP events of
-- that message (stg_esp__email_events). An event without campaign or recipient is a message of its own.
--
-- A message counts as sent when any event of it exists, as delivered when it has a `delivered` event or was
-- opened or clicked (tracking can miss the delivered event), opened when it has an `open` or `click` event
-- (a click implies an open). It is dated by its first `sent` event (else its first event), and falls in the
-- ISO week of that Europe/Amsterdam date. The customer is the one identity resolution attributed the events to.
--
-- Incremental (strategy recompute_keys, macros/utils/incremental.sql) by message_key: a night summarises again,
-- from all their events, the messages that have
--   * an event of a new load (the new day, late files, re-deliveries of any day: _loaded_at after the newest
--     load this model has seen),
--   * had an earlier copy of such an event (raw still holds it: a re-sent event with another campaign or
--     address moves to another message, and the old one loses it),
--   * an event identity resolution attributes differently now (int_records_resolved._changed_at after this
--     model's _batch_at), or
--   * an event on a business date whose file was re-delivered since (its events may be gone or changed;
--     _first/_last_business_date bound the dates of a message's events).
-- A message left without events leaves no row. The result equals a full rebuild
-- (tests/integration/test_incremental_nights.py).

{%- set since = {'loaded': none} -%}
{%- if execute and is_incremental() -%}
    {%- do since.update({'loaded': run_query("select max(_loaded_at) from " ~ this).columns[0].values()[0]}) -%}
{%- endif %}

with

-- email_events is read by every use of keyed_events (three on an incremental night): inlined, each use streams
-- (DuckDB would materialise every e-mail event once it is read twice; EXPLAIN of the incremental SQL showed it)
email_events as {{ not_materialized() }} (

    select * from {{ ref('stg_esp__email_events') }}

),

records_resolved as {{ not_materialized() }} (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_esp__email_events'

),

keyed_events as {{ not_materialized() }} (

    select
        email_events.*,
        {{ email_message_key('email_events.campaign_id', 'email_events.email', 'email_events.event_id') }}
            as message_key
    from email_events

),

{% if is_incremental() %}
new_events as (

    select
        event_id,
        message_key
    from keyed_events
    where _loaded_at > {{ incremental_timestamp(since['loaded']) }}

),

affected_keys as (

    -- events of new loads
    select message_key from new_events
    -- the messages earlier copies of those events belonged to
    union
    select {{ email_message_key(
        clean_string('raw_events.campaign_id'),
        normalise_email('raw_events.email'),
        clean_string('raw_events.event_id'),
    ) }}
    from {{ source('esp', 'email_events') }} as raw_events
    where {{ clean_string('raw_events.event_id') }} in (select event_id from new_events)
    -- events attributed again
    union
    select keyed_events.message_key
    from keyed_events
    inner join records_resolved
        on keyed_events.event_id = records_resolved.record_id
    where records_resolved._changed_at > {{ incremental_watermark('_batch_at') }}
    -- messages with an event of a re-delivered business date
    union
    select previous.message_key
    from {{ this }} as previous
    inner join ({{ redelivered_dates('email_events', since['loaded']) }}) as redelivered
        on redelivered.business_date >= previous._first_business_date
        and redelivered.business_date <= previous._last_business_date

),

affected_events as (

    select keyed_events.*
    from keyed_events
    inner join affected_keys
        on keyed_events.message_key = affected_keys.message_key

),
{% else %}
affected_events as (

    select * from keyed_events

),
{% endif %}

keyed as (

    select
        affected_events.*,
        records_resolved.customer_key
    from affected_events
    left join records_resolved
        on affected_events.event_id = records_resolved.record_id

),

messages as (

    select
        message_key,
        max(campaign_id) as campaign_id,
        max(campaign_type) as campaign_type,
        max(email) as email,
        max(customer_key) as customer_key,
        min(case when event_type = 'sent' then occurred_at end) as sent_at,
        min(occurred_at) as first_event_at,
        min(case when event_type in ('open', 'click') then occurred_at end) as first_opened_at,
        min(case when event_type = 'click' then occurred_at end) as first_clicked_at,
        max(case when event_type = 'sent' then 1 else 0 end) as has_sent_event,
        max(case when event_type = 'delivered' then 1 else 0 end) as has_delivered_event,
        max(case when event_type = 'bounce' then 1 else 0 end) as has_bounce_event,
        max(case when event_type = 'open' then 1 else 0 end) as has_open_event,
        max(case when event_type = 'click' then 1 else 0 end) as has_click_event,
        max(case when event_type = 'unsubscribe' then 1 else 0 end) as has_unsubscribe_event,
        max(case when event_type = 'complaint' then 1 else 0 end) as has_complaint_event,
        sum(case when event_type = 'open' then 1 else 0 end) as open_count,
        sum(case when event_type = 'click' then 1 else 0 end) as click_count,
        max(_loaded_at) as _loaded_at,
        min(_business_date) as _first_business_date,
        max(_business_date) as _last_business_date
    from keyed
    group by message_key

),

dated as (

    select
        messages.*,
        coalesce(messages.sent_at, messages.first_event_at) as message_at,
        case
            when coalesce(messages.sent_at, messages.first_event_at) is not null
                then {{ amsterdam_date('coalesce(messages.sent_at, messages.first_event_at)') }}
        end as message_on
    from messages

),

summarized as (

    select

        ---------- ids
        {{ journeys_key(["'email_message'", 'message_key']) }} as message_id,
        campaign_id,
        customer_key,
        email,

        ---------- strings
        campaign_type,

        ---------- numerics
        {{ iso_year('message_on') }} as iso_year,
        {{ iso_week_of_year('message_on') }} as iso_week,
        open_count,
        click_count,

        ---------- booleans
        true as is_sent,
        has_delivered_event = 1 or has_open_event = 1 or has_click_event = 1 as is_delivered,
        has_bounce_event = 1 as is_bounced,
        has_open_event = 1 or has_click_event = 1 as is_opened,
        has_click_event = 1 as is_clicked,
        has_unsubscribe_event = 1 as is_unsubscribed,
        has_complaint_event = 1 as is_complained,
        has_sent_event = 1 as has_sent_event,

        ---------- dates
        message_on,
        {{ week_start('message_on') }} as week_start,

        ---------- timestamps
        message_at,
        first_opened_at,
        first_clicked_at,

        ---------- incremental bookkeeping
        message_key,
        _loaded_at,
        _first_business_date,
        _last_business_date,
        {{ batch_stamp() }} as _batch_at

    from dated

),

final as (
    {{ recompute_batch('affected_keys', 'summarized', 'message_key') }}
)

select * from final
