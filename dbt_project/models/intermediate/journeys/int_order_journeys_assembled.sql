-- Order journeys: one row per journey from first browsing through order, delivery, return / contact and survey.
--
-- Cutting journeys: per subject (the customer; for an anonymous web session its browser, for an order without
-- customer the order itself) the web sessions and webshop orders are ordered by time (a session before an
-- order at the same instant). A journey starts at the subject's first session or order, and a new one starts
-- after every order (the order closes the journey) and after a gap of more than
-- var('journeys_browse_gap_days', 14) days between two sessions / a session and an order. So a journey holds
-- the browsing that led to at most one order (the last event), or browsing that led to no order.
-- After the order, the journey collects:
--   delivery          the order's delivery (int_orders_evaluated);
--   return_or_contact a return of the order, or a contact-center contact of the customer about the order:
--                     reason bezorging, retour, betaling, product or klacht, started after the order, before the
--                     customer's next order and within var('journeys_contact_window_days', 30) days after the
--                     delivery (after the order when not delivered);
--   survey            a post_delivery survey about the order, or a post_contact survey about such a contact.
-- Outcome: browsing (no order, last session within the gap of the data's last activity), abandoned (no order),
-- cancelled, awaiting_delivery, returned, delivered_with_issue (late delivery or a contact), delivered.

{%- set gap_days = var('journeys_browse_gap_days', 14) %}
{%- set contact_window_days = var('journeys_contact_window_days', 30) %}

with

web_sessions as (

    select * from {{ ref('int_web_sessions_stitched') }}

),

orders as (

    select * from {{ ref('int_orders_evaluated') }}

),

contacts as (

    select * from {{ ref('int_contacts_evaluated') }}

),

survey_responses as (

    select * from {{ ref('stg_survey__responses') }}

),

shopping_events as (

    select
        coalesce(
            {{ dbt.concat(["'customer:'", 'customer_key']) }},
            visitor_id
        ) as subject_id,
        customer_key,
        'session' as event_kind,
        1 as kind_order,
        session_id as event_key,
        started_at as event_at,
        ended_at as event_ended_at,
        session_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        landing_utm_source
    from web_sessions
    union all
    select
        coalesce(
            {{ dbt.concat(["'customer:'", 'customer_key']) }},
            {{ dbt.concat(["'order:'", 'order_id']) }}
        ) as subject_id,
        customer_key,
        'order' as event_kind,
        2 as kind_order,
        order_id as event_key,
        ordered_at as event_at,
        ordered_at as event_ended_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        order_id,
        cast(null as {{ dbt.type_string() }}) as landing_utm_source
    from orders

),

lagged as (

    select
        shopping_events.*,
        lag(shopping_events.event_kind) over (
            partition by shopping_events.subject_id
            order by shopping_events.event_at nulls last, shopping_events.kind_order, shopping_events.event_key
        ) as previous_event_kind,
        lag(shopping_events.event_at) over (
            partition by shopping_events.subject_id
            order by shopping_events.event_at nulls last, shopping_events.kind_order, shopping_events.event_key
        ) as previous_event_at
    from shopping_events

),

flagged as (

    select
        lagged.*,
        case
            when lagged.previous_event_kind is null then 1
            when lagged.previous_event_kind = 'order' then 1
            when lagged.event_at is null or lagged.previous_event_at is null then 1
            when lagged.event_at > {{ dbt.dateadd('day', gap_days, 'lagged.previous_event_at') }} then 1
            else 0
        end as is_journey_start
    from lagged

),

numbered as (

    select
        flagged.*,
        sum(flagged.is_journey_start) over (
            partition by flagged.subject_id
            order by flagged.event_at nulls last, flagged.kind_order, flagged.event_key
            rows between unbounded preceding and current row
        ) as subject_journey_no
    from flagged

),

journey_entries as (

    select
        subject_id,
        subject_journey_no,
        event_kind as entry_kind,
        event_key as entry_event_key,
        landing_utm_source as entry_utm_source
    from numbered
    where is_journey_start = 1

),

journey_events as (

    select
        subject_id,
        subject_journey_no,
        max(customer_key) as customer_key,
        min(event_at) as started_at,
        sum(case when event_kind = 'session' then 1 else 0 end) as session_count,
        max(case when event_kind = 'session' then event_at end) as last_session_started_at,
        max(case when event_kind = 'session' then event_ended_at end) as last_session_ended_at,
        max(order_id) as order_id
    from numbered
    group by
        subject_id,
        subject_journey_no

),

-- contacts about an order: the customer's latest order before the contact, within the window
customer_orders as (

    select
        orders.*,
        lead(orders.ordered_at) over (
            partition by orders.customer_key
            order by orders.ordered_at, orders.order_id
        ) as next_ordered_at
    from orders
    where orders.customer_key is not null
        and orders.ordered_at is not null

),

order_contacts as (

    select
        customer_orders.order_id,
        contacts.contact_id,
        contacts.started_at,
        coalesce(contacts.ended_at, contacts.started_at) as ended_at
    from customer_orders
    inner join contacts
        on customer_orders.customer_key = contacts.customer_key
        and contacts.started_at >= customer_orders.ordered_at
        and (customer_orders.next_ordered_at is null or contacts.started_at < customer_orders.next_ordered_at)
        and contacts.started_at <= {{ dbt.dateadd(
            'day', contact_window_days, 'coalesce(customer_orders.delivered_at, customer_orders.ordered_at)'
        ) }}
    where contacts.reason in ('bezorging', 'retour', 'betaling', 'product', 'klacht')

),

order_contact_totals as (

    select
        order_id,
        count(*) as contact_count,
        max(ended_at) as last_contact_ended_at
    from order_contacts
    group by order_id

),

order_surveys as (

    select
        survey_responses.touchpoint_ref as order_id,
        survey_responses.responded_at
    from survey_responses
    where survey_responses.survey_type = 'post_delivery'
        and survey_responses.touchpoint_ref is not null
    union all
    select
        order_contacts.order_id,
        survey_responses.responded_at
    from survey_responses
    inner join order_contacts
        on survey_responses.touchpoint_ref = order_contacts.contact_id
    where survey_responses.survey_type = 'post_contact'

),

order_survey_totals as (

    select
        order_id,
        count(*) as survey_count,
        max(responded_at) as last_responded_at
    from order_surveys
    group by order_id

),

reference_time as (

    select max(event_ended_at) as data_as_of
    from shopping_events

),

assembled as (

    select
        journey_events.*,
        journey_entries.entry_kind,
        journey_entries.entry_event_key,
        journey_entries.entry_utm_source,
        orders.ordered_at,
        orders.cancelled_at,
        orders.delivered_at,
        orders.last_returned_at,
        coalesce(orders.is_cancelled, false) as is_cancelled,
        coalesce(orders.is_delivered, false) as is_delivered,
        coalesce(orders.is_late_delivery, false) as is_late_delivery,
        coalesce(orders.is_early_delivery, false) as is_early_delivery,
        coalesce(orders.return_count, 0) as return_count,
        coalesce(order_contact_totals.contact_count, 0) as contact_count,
        order_contact_totals.last_contact_ended_at,
        coalesce(order_survey_totals.survey_count, 0) as survey_count,
        order_survey_totals.last_responded_at,
        reference_time.data_as_of
    from journey_events
    inner join journey_entries
        on journey_events.subject_id = journey_entries.subject_id
        and journey_events.subject_journey_no = journey_entries.subject_journey_no
    cross join reference_time
    left join orders
        on journey_events.order_id = orders.order_id
    left join order_contact_totals
        on journey_events.order_id = order_contact_totals.order_id
    left join order_survey_totals
        on journey_events.order_id = order_survey_totals.order_id

),

steps as (

    select
        assembled.*,
        assembled.session_count > 0 as reached_browse,
        assembled.order_id is not null as reached_order,
        assembled.is_delivered as reached_delivery,
        assembled.return_count > 0 or assembled.contact_count > 0 as reached_return_or_contact,
        assembled.survey_count > 0 as reached_survey,
        greatest(
            coalesce(assembled.last_session_ended_at, assembled.started_at),
            coalesce(assembled.ordered_at, assembled.started_at),
            coalesce(assembled.cancelled_at, assembled.started_at),
            coalesce(assembled.delivered_at, assembled.started_at),
            coalesce(assembled.last_returned_at, assembled.started_at),
            coalesce(assembled.last_contact_ended_at, assembled.started_at),
            coalesce(assembled.last_responded_at, assembled.started_at)
        ) as ended_at
    from assembled

),

final as (

    select

        ---------- ids
        {{ journeys_key(["'order_journey'", 'coalesce(order_id, entry_event_key)']) }} as journey_id,
        customer_key,
        order_id,

        ---------- strings
        'order' as journey_type,
        case
            when entry_kind = 'order' then 'webshop'
            when entry_utm_source = 'email' then 'email'
            else 'web'
        end as entry_channel,
        case
            when entry_kind = 'order' then 'order'
            else coalesce(entry_utm_source, 'direct')
        end as entry_source,
        {{ dbt.concat([
            "'|'",
            "case when reached_browse then 'browse|' else '' end",
            "case when reached_order then 'order|' else '' end",
            "case when reached_delivery then 'delivery|' else '' end",
            "case when reached_return_or_contact then 'return_or_contact|' else '' end",
            "case when reached_survey then 'survey|' else '' end",
        ]) }} as stages_reached,
        case
            when order_id is null
                and last_session_started_at > {{ dbt.dateadd('day', -gap_days, 'data_as_of') }}
                then 'browsing'
            when order_id is null then 'abandoned'
            when is_cancelled then 'cancelled'
            when not is_delivered then 'awaiting_delivery'
            when return_count > 0 then 'returned'
            when is_late_delivery or contact_count > 0 then 'delivered_with_issue'
            else 'delivered'
        end as outcome,

        ---------- numerics
        session_count,
        return_count,
        contact_count,
        survey_count,
        (case when reached_browse then 1 else 0 end)
        + (case when reached_order then 1 else 0 end)
        + (case when reached_delivery then 1 else 0 end)
        + (case when reached_return_or_contact then 1 else 0 end)
        + (case when reached_survey then 1 else 0 end) as steps_reached,
        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds,
        cast(null as {{ dbt.type_bigint() }}) as time_to_resolution_seconds,

        ---------- booleans
        is_late_delivery,
        is_early_delivery,

        ---------- timestamps
        started_at,
        ended_at

    from steps

)

select * from final
