-- Touchpoints reconciled with staging: one row per channel and counting rule. staging_rows is computed from the
-- staging models alone, touchpoint_rows from fct_touchpoints; the data test requires them to be equal.
--   web (sessions)   every staging web event lies in exactly one session: the session touchpoints' event count
--                    (fct_web_sessions.event_count of the sessions behind them) = stg_web__events rows
--   web (key events) stg_web__events rows of type search, add_to_cart, login, checkout_start, order_complete,
--                    help_page_view = web touchpoints other than web_visit / web_campaign_visit
--   store            distinct transaction_id in stg_pos__transaction_lines
--   webshop          stg_webshop__orders rows + cancelled orders + delivered orders (delivered_at or
--                    first_delivered_at set) + stg_webshop__order_returns rows
--   contact_center   stg_contact_center__contacts rows
--   email            stg_esp__email_events rows of type open, click, unsubscribe, complaint
--   social           distinct conversations in stg_social__messages (a message without conversation_id is one)
--   survey           stg_survey__responses rows

with

touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

web_sessions as (

    select * from {{ ref('fct_web_sessions') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

pos_transaction_lines as (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

orders as (

    select * from {{ ref('stg_webshop__orders') }}

),

order_returns as (

    select * from {{ ref('stg_webshop__order_returns') }}

),

contacts as (

    select * from {{ ref('stg_contact_center__contacts') }}

),

email_events as (

    select * from {{ ref('stg_esp__email_events') }}

),

social_messages as (

    select * from {{ ref('stg_social__messages') }}

),

survey_responses as (

    select * from {{ ref('stg_survey__responses') }}

),

webshop_staging_rows as (

    select order_id from orders
    union all
    select order_id from orders
    where coalesce(is_cancelled, false)
    union all
    select order_id from orders
    where coalesce(delivered_at, first_delivered_at) is not null
    union all
    select order_id from order_returns

),

staging_counts as (

    select 'web' as channel, 'web events in sessions' as counting_rule, count(*) as staging_rows
    from web_events
    union all
    select 'web', 'key web events', count(*)
    from web_events
    where event_type in ('search', 'add_to_cart', 'login', 'checkout_start', 'order_complete', 'help_page_view')
    union all
    select 'store', 'receipts', count(distinct transaction_id)
    from pos_transaction_lines
    union all
    select 'webshop', 'orders placed, cancelled, delivered; return lines', count(*)
    from webshop_staging_rows
    union all
    select 'contact_center', 'contacts', count(*)
    from contacts
    union all
    select 'email', 'opens, clicks, unsubscribes, complaints', count(*)
    from email_events
    where event_type in ('open', 'click', 'unsubscribe', 'complaint')
    union all
    select
        'social',
        'conversations',
        count(distinct coalesce(conversation_id, {{ dbt.concat(["'message:'", 'message_id']) }}))
    from social_messages
    union all
    select 'survey', 'responses', count(*)
    from survey_responses

),

touchpoint_counts as (

    select
        'web' as channel,
        'web events in sessions' as counting_rule,
        coalesce(sum(web_sessions.event_count), 0) as touchpoint_rows
    from touchpoints
    inner join web_sessions
        on touchpoints.source_id = web_sessions.session_id
    where touchpoints.touchpoint_type in ('web_visit', 'web_campaign_visit')
    union all
    select 'web', 'key web events', count(*)
    from touchpoints
    where touchpoints.channel = 'web'
        and touchpoints.touchpoint_type not in ('web_visit', 'web_campaign_visit')
    union all
    select 'store', 'receipts', count(*)
    from touchpoints
    where touchpoints.channel = 'store'
    union all
    select 'webshop', 'orders placed, cancelled, delivered; return lines', count(*)
    from touchpoints
    where touchpoints.channel = 'webshop'
    union all
    select 'contact_center', 'contacts', count(*)
    from touchpoints
    where touchpoints.channel = 'contact_center'
    union all
    select 'email', 'opens, clicks, unsubscribes, complaints', count(*)
    from touchpoints
    where touchpoints.channel = 'email'
    union all
    select 'social', 'conversations', count(*)
    from touchpoints
    where touchpoints.channel = 'social'
    union all
    select 'survey', 'responses', count(*)
    from touchpoints
    where touchpoints.channel = 'survey'

),

final as (

    select
        staging_counts.channel,
        staging_counts.counting_rule,
        staging_counts.staging_rows,
        coalesce(touchpoint_counts.touchpoint_rows, 0) as touchpoint_rows,
        staging_counts.staging_rows = coalesce(touchpoint_counts.touchpoint_rows, 0) as is_reconciled
    from staging_counts
    left join touchpoint_counts
        on staging_counts.channel = touchpoint_counts.channel
        and staging_counts.counting_rule = touchpoint_counts.counting_rule

)

select * from final
