-- E-mail messages: one row per campaign and recipient (the e-mail address), summarising the ESP events of
-- that message (stg_esp__email_events). An event without campaign or recipient is a message of its own.
--
-- A message counts as sent when any event of it exists, as delivered when it has a `delivered` event or was
-- opened or clicked (tracking can miss the delivered event), opened when it has an `open` or `click` event
-- (a click implies an open). It is dated by its first `sent` event (else its first event), and falls in the
-- ISO week of that Europe/Amsterdam date. The customer is the one identity resolution attributed the events to.

with

email_events as (

    select * from {{ ref('stg_esp__email_events') }}

),

records_resolved as (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_esp__email_events'

),

keyed as (

    select
        email_events.*,
        case
            when email_events.campaign_id is null or email_events.email is null
                then {{ dbt.concat(["'event:'", 'email_events.event_id']) }}
            else {{ dbt.concat(['email_events.campaign_id', "'|'", 'email_events.email']) }}
        end as message_key,
        records_resolved.customer_key
    from email_events
    left join records_resolved
        on email_events.event_id = records_resolved.record_id

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
        sum(case when event_type = 'click' then 1 else 0 end) as click_count
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

final as (

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
        first_clicked_at

    from dated

)

select * from final
