-- Customer behaviour per day: one row per customer and Europe/Amsterdam date with something to count. Each
-- metric is dated by the day it became KNOWN (so a feature snapshot may use every day before its as_of):
--   touchpoints that count as activity: fct_touchpoints except order_delivered (the carrier's event, not the
--     customer's) and except web touchpoints attributed only in hindsight (stitch_method backward / identity:
--     the cookie's login that attributes them may come later). label_touchpoints keeps those web touchpoints:
--     labels may use everything known today.
--   purchases: webshop orders placed and store receipts with a sale line, on the order / receipt date, with
--     their amounts (an order's current amount; cancellations are not subtracted, they are counted on their own
--     date as order_cancellations).
--   contacts on their start date; resolved_contacts (outcome opgelost), unresolved_contacts (any other known
--     outcome) and repeat_contacts on the date the contact ended (when its outcome is known).
--   late_deliveries (delivery date), returns (return / receipt date), low_ces_responses (response date): the
--     fct_pain_points moments that are known at their touchpoint's time.
--   pain_points = unresolved_contacts + repeat_contacts + late_deliveries + returns + low_ces_responses +
--     social_pain_points.
--   social_pain_points: a conversation not answered within 30 minutes (dated 30 minutes after its first
--     inbound message) and every inbound message with sentiment <= journeys_negative_sentiment_max (-0.5).
--   web sessions, help-page views, add-to-carts and campaign landings of sessions stitched by a login in the
--     session or before it (stitch_method login / forward).
--   e-mails delivered per campaign type (send date) and first opens per campaign type (date of the first open);
--     marketing clicks (first click of a promo / newsletter / winback e-mail).
-- Erased or unattributed records (customer_key null) are left out.

{%- set negative_sentiment_max = var('journeys_negative_sentiment_max', -0.5) %}
{%- set campaign_types = ['promo', 'newsletter', 'service', 'winback'] %}
{%- set metrics = [
    'touchpoints', 'label_touchpoints', 'store_visits', 'orders_placed', 'order_cancellations',
    'purchases', 'webshop_spend_eur', 'store_spend_eur',
    'contacts', 'resolved_contacts', 'unresolved_contacts', 'repeat_contacts',
    'late_deliveries', 'returns', 'low_ces_responses', 'social_pain_points',
    'web_sessions', 'help_page_views', 'add_to_carts', 'campaign_landings',
    'marketing_email_clicks',
] %}
{%- for campaign_type in campaign_types %}
    {%- do metrics.append('emails_delivered_' ~ campaign_type) %}
    {%- do metrics.append('emails_opened_' ~ campaign_type) %}
{%- endfor %}

with

touchpoints as {{ not_materialized() }} (

    select * from {{ ref('fct_touchpoints') }}
    where customer_key is not null
        and occurred_on is not null

),

web_sessions as {{ not_materialized() }} (

    select * from {{ ref('fct_web_sessions') }}
    where customer_key is not null

),

orders as {{ not_materialized() }} (

    select * from {{ ref('int_orders_evaluated') }}
    where customer_key is not null

),

pos_transaction_lines as {{ not_materialized() }} (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

records_resolved as {{ not_materialized() }} (

    select * from {{ ref('int_records_resolved') }}
    where customer_key is not null

),

contacts as {{ not_materialized() }} (

    select * from {{ ref('fct_contacts') }}
    where customer_key is not null

),

pain_points as (

    select * from {{ ref('fct_pain_points') }}
    where customer_key is not null
        and moment_type in ('late_delivery', 'return', 'low_ces')

),

social_conversations as {{ not_materialized() }} (

    select * from {{ ref('int_social_conversations_summarized') }}
    where customer_key is not null

),

social_messages as (

    select * from {{ ref('stg_social__messages') }}

),

email_messages as {{ not_materialized() }} (

    select * from {{ ref('int_email_messages_summarized') }}
    where customer_key is not null

),

-- (the inputs are inlined where they are used: `not_materialized`, so that DuckDB does not hold whole tables in
-- memory at 1M customers)

-- metric rows: (customer_key, activity_on, metric, value); values are exact numerics (amounts are decimals), so
-- the daily sums do not depend on the order of the rows

touchpoint_metrics as (

    select
        touchpoints.customer_key,
        touchpoints.occurred_on as activity_on,
        'label_touchpoints' as metric,
        1 as value
    from touchpoints
    where touchpoints.touchpoint_type <> 'order_delivered'
    union all
    select
        touchpoints.customer_key,
        touchpoints.occurred_on as activity_on,
        'touchpoints' as metric,
        1 as value
    from touchpoints
    left join web_sessions
        on touchpoints.session_id = web_sessions.session_id
    where touchpoints.touchpoint_type <> 'order_delivered'
        and (touchpoints.session_id is null or web_sessions.stitch_method in ('login', 'forward'))
    union all
    select
        customer_key,
        occurred_on as activity_on,
        case
            when touchpoint_type in ('store_purchase', 'store_return') then 'store_visits'
            when touchpoint_type = 'order_placed' then 'orders_placed'
            else 'order_cancellations'
        end as metric,
        1 as value
    from touchpoints
    where touchpoint_type in ('store_purchase', 'store_return', 'order_placed', 'order_cancelled')

),

store_receipts as (

    select
        records_resolved.customer_key,
        pos_transaction_lines.transaction_id,
        min(cast(pos_transaction_lines.registered_at_local as date)) as activity_on,
        sum(case when pos_transaction_lines.is_return then 0 else 1 end) as sale_lines,
        sum(
            case when pos_transaction_lines.is_return then 0 else pos_transaction_lines.line_amount_eur end
        ) as sale_amount_eur
    from pos_transaction_lines
    inner join records_resolved
        on pos_transaction_lines.transaction_id = records_resolved.record_id
        and records_resolved.source_model = 'stg_pos__transaction_lines'
    group by
        records_resolved.customer_key,
        pos_transaction_lines.transaction_id

),

purchase_metrics as (

    select
        customer_key,
        {{ amsterdam_date('ordered_at') }} as activity_on,
        'purchases' as metric,
        1 as value
    from orders
    where ordered_at is not null
    union all
    select
        customer_key,
        {{ amsterdam_date('ordered_at') }} as activity_on,
        'webshop_spend_eur' as metric,
        cast(coalesce(order_amount_eur, 0) as {{ dbt.type_numeric() }}) as value
    from orders
    where ordered_at is not null
    union all
    select
        customer_key,
        activity_on,
        'purchases' as metric,
        1 as value
    from store_receipts
    where sale_lines > 0
    union all
    select
        customer_key,
        activity_on,
        'store_spend_eur' as metric,
        cast(coalesce(sale_amount_eur, 0) as {{ dbt.type_numeric() }}) as value
    from store_receipts
    where sale_lines > 0

),

contact_metrics as (

    select
        customer_key,
        started_on as activity_on,
        'contacts' as metric,
        1 as value
    from contacts
    where started_on is not null
    union all
    select
        customer_key,
        {{ amsterdam_date('coalesce(ended_at, started_at)') }} as activity_on,
        case when is_resolved then 'resolved_contacts' else 'unresolved_contacts' end as metric,
        1 as value
    from contacts
    where outcome is not null
        and started_at is not null
    union all
    select
        customer_key,
        {{ amsterdam_date('coalesce(ended_at, started_at)') }} as activity_on,
        'repeat_contacts' as metric,
        1 as value
    from contacts
    where is_repeat_contact
        and started_at is not null

),

pain_point_metrics as (

    select
        customer_key,
        occurred_on as activity_on,
        case moment_type
            when 'late_delivery' then 'late_deliveries'
            when 'return' then 'returns'
            else 'low_ces_responses'
        end as metric,
        1 as value
    from pain_points
    where occurred_on is not null

),

social_metrics as (

    select
        customer_key,
        {{ amsterdam_date(dbt.dateadd('minute', 30, 'first_inbound_at')) }} as activity_on,
        'social_pain_points' as metric,
        1 as value
    from social_conversations
    where is_inbound_conversation
        and not is_replied_within_30m
        and first_inbound_at is not null
    union all
    select
        social_conversations.customer_key,
        {{ amsterdam_date('social_messages.sent_at') }} as activity_on,
        'social_pain_points' as metric,
        1 as value
    from social_messages
    inner join social_conversations
        on social_messages.conversation_id = social_conversations.conversation_id
    where social_messages.is_inbound
        and social_messages.sentiment <= {{ negative_sentiment_max }}
        and social_messages.sent_at is not null

),

web_metrics as (

    {% for metric, value in [
        ('web_sessions', '1'),
        ('help_page_views', 'help_page_view_count'),
        ('add_to_carts', 'add_to_cart_count'),
        ('campaign_landings', 'case when is_campaign_landing then 1 else 0 end'),
    ] %}
    select
        customer_key,
        started_on as activity_on,
        '{{ metric }}' as metric,
        {{ value }} as value
    from web_sessions
    where stitch_method in ('login', 'forward')
        and started_on is not null
    {{ 'union all' if not loop.last }}
    {% endfor %}

),

email_metrics as (

    select
        customer_key,
        message_on as activity_on,
        {{ dbt.concat(["'emails_delivered_'", 'campaign_type']) }} as metric,
        1 as value
    from email_messages
    where is_delivered
        and message_on is not null
    union all
    select
        customer_key,
        {{ amsterdam_date('first_opened_at') }} as activity_on,
        {{ dbt.concat(["'emails_opened_'", 'campaign_type']) }} as metric,
        1 as value
    from email_messages
    where first_opened_at is not null
    union all
    select
        customer_key,
        {{ amsterdam_date('first_clicked_at') }} as activity_on,
        'marketing_email_clicks' as metric,
        1 as value
    from email_messages
    where first_clicked_at is not null
        and campaign_type in ('promo', 'newsletter', 'winback')

),

metric_rows as (

    select * from touchpoint_metrics
    union all
    select * from purchase_metrics
    union all
    select * from contact_metrics
    union all
    select * from pain_point_metrics
    union all
    select * from social_metrics
    union all
    select * from web_metrics
    union all
    select * from email_metrics

),

daily as (

    select
        customer_key,
        activity_on,
        {%- for metric in metrics %}
        {%- set metric_type = type_double() if metric.endswith('_eur') else dbt.type_int() %}
        cast(sum(case when metric = '{{ metric }}' then value else 0 end) as {{ metric_type }}) as {{ metric }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from metric_rows
    where activity_on is not null
    group by
        customer_key,
        activity_on

),

final as (

    select
        daily.*,
        unresolved_contacts + repeat_contacts + late_deliveries + returns + low_ces_responses + social_pain_points
            as pain_points
    from daily

)

select * from final
