{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='recompute_key',
    )
}}

-- Every customer interaction of every channel, before its journey stage is looked up: one row per touchpoint.
-- What one touchpoint is, per channel (the reconciliation with staging in mart_touchpoint_reconciliation
-- follows these rules):
--   web             one per web session (int_web_sessions_stitched: web_campaign_visit when it landed from a
--                   campaign, else web_visit) + one per KEY web event (search, add_to_cart, login,
--                   checkout_start, order_complete, help_page_view); page and product views count only
--                   through their session. All carry the session's stitched customer.
--   store           one per POS receipt (transaction_id): store_purchase when it has a sale line, else
--                   store_return.
--   webshop         one order_placed per order, one order_cancelled per cancelled order, one order_delivered
--                   per delivered order (int_orders_evaluated), one order_returned per return line.
--   contact_center  one per contact (contact_phone / contact_chat / contact_email).
--   email           one per open, click, unsubscribe and complaint event (sent, delivered and bounce events
--                   are the sender's doing, not interactions).
--   social          one per conversation, at its first message.
--   survey          one per survey response.
-- customer_key comes from int_records_resolved (web: the stitched session; webshop returns: their order;
-- social: the conversation); null when anonymous.
--
-- Incremental (strategy recompute_keys, macros/utils/incremental.sql). recompute_key is the unit a night
-- recomputes, per channel:
--   web       `web|<visitor>`: the visitors int_web_sessions_stitched re-stitched since this model last ran
--             (and, after a re-delivery of web events, visitors left without sessions);
--   store     `store|<transaction_id>`: receipts with a new or changed line, receipts identity resolution now
--             attributes differently, and receipts of a business date whose POS file was re-delivered;
--   email     `email|<event_id>`: new or changed e-mail events, events identity resolution attributed again, events of a
--             re-delivered business date;
--   others    `source|<source_model>`: webshop orders and returns, contacts, social conversations and surveys
--             are small (thousands a day) and recomputed whole every night.

{%- set since = {} -%}
{%- if execute and is_incremental() -%}
    {%- set marks = run_query(
        "select max(case when channel = 'web' then _source_batch_at end),"
        ~ " max(case when channel = 'store' then _loaded_at end),"
        ~ " max(case when channel = 'email' then _loaded_at end) from " ~ this
    ) -%}
    {%- do since.update({'web': marks.columns[0].values()[0], 'store': marks.columns[1].values()[0],
                         'email': marks.columns[2].values()[0]}) -%}
{%- endif %}

with

-- the large inputs are read several times on an incremental night: inlined (not_materialized), each use
-- streams instead of DuckDB materialising the whole table
web_sessions as {{ not_materialized() }} (

    select * from {{ ref('int_web_sessions_stitched') }}

),

web_events as {{ not_materialized() }} (

    select * from {{ ref('int_web_events_sessionized') }}

),

pos_transaction_lines as {{ not_materialized() }} (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

orders as (

    select * from {{ ref('int_orders_evaluated') }}

),

order_returns as (

    select * from {{ ref('stg_webshop__order_returns') }}

),

contacts as (

    select * from {{ ref('int_contacts_evaluated') }}

),

email_events as {{ not_materialized() }} (

    select * from {{ ref('stg_esp__email_events') }}

),

social_conversations as (

    select * from {{ ref('int_social_conversations_summarized') }}

),

survey_responses as (

    select * from {{ ref('stg_survey__responses') }}

),

records_resolved as {{ not_materialized() }} (

    select * from {{ ref('int_records_resolved') }}

),

{% if is_incremental() %}
affected_keys as (

    -- web: visitors re-stitched since
    select distinct {{ dbt.concat(["'web|'", 'visitor_id']) }} as recompute_key
    from web_sessions
    where _batch_at > {{ incremental_timestamp(since['web']) }}
    union
    select recompute_key
    from {{ this }}
    where channel = 'web'
        and {{ withdrawn_since('web_events', since['web']) }}
        and {{ dbt.split_part('recompute_key', "'|'", 2) }} not in (select visitor_id from web_sessions)
    -- store: new or changed lines, changed attribution, re-delivered dates
    union
    select distinct {{ dbt.concat(["'store|'", 'transaction_id']) }}
    from pos_transaction_lines
    where _loaded_at > {{ incremental_timestamp(since['store']) }}
    union
    select previous.recompute_key
    from {{ this }} as previous
    inner join records_resolved
        on previous.source_id = records_resolved.record_id
        and records_resolved.source_model = 'stg_pos__transaction_lines'
    where previous.channel = 'store'
        and records_resolved._changed_at > {{ incremental_watermark('_batch_at') }}
    union
    select recompute_key
    from {{ this }}
    where channel = 'store'
        and _business_date in ({{ redelivered_dates('pos_transactions', since['store']) }})
    -- email: new or changed events, changed attribution, re-delivered dates
    union
    select {{ dbt.concat(["'email|'", 'event_id']) }}
    from email_events
    where _loaded_at > {{ incremental_timestamp(since['email']) }}
    union
    select previous.recompute_key
    from {{ this }} as previous
    inner join records_resolved
        on previous.source_id = records_resolved.record_id
        and records_resolved.source_model = 'stg_esp__email_events'
    where previous.channel = 'email'
        and records_resolved._changed_at > {{ incremental_watermark('_batch_at') }}
    union
    select recompute_key
    from {{ this }}
    where channel = 'email'
        and _business_date in ({{ redelivered_dates('email_events', since['email']) }})
    -- the small sources, whole
    union
    select recompute_key
    from {{ this }}
    where recompute_key like 'source|%'
    union
    select {{ dbt.concat(["'source|'", 'source_model']) }}
    from (
        select 'stg_webshop__orders' as source_model
        union all select 'stg_webshop__order_returns'
        union all select 'stg_contact_center__contacts'
        union all select 'stg_social__messages'
        union all select 'stg_survey__responses'
    ) as small_sources

),

affected_web_sessions as (

    select web_sessions.*
    from web_sessions
    inner join affected_keys
        on {{ dbt.concat(["'web|'", 'web_sessions.visitor_id']) }} = affected_keys.recompute_key

),

affected_web_events as (

    select web_events.*
    from web_events
    inner join affected_keys
        on {{ dbt.concat(["'web|'", 'web_events.visitor_id']) }} = affected_keys.recompute_key

),

affected_pos_lines as (

    select pos_transaction_lines.*
    from pos_transaction_lines
    inner join affected_keys
        on {{ dbt.concat(["'store|'", 'pos_transaction_lines.transaction_id']) }} = affected_keys.recompute_key

),

affected_email_events as (

    select email_events.*
    from email_events
    inner join affected_keys
        on {{ dbt.concat(["'email|'", 'email_events.event_id']) }} = affected_keys.recompute_key

),
{% else %}
affected_web_sessions as (select * from web_sessions),

affected_web_events as (select * from web_events),

affected_pos_lines as (select * from pos_transaction_lines),

affected_email_events as (select * from email_events),
{% endif %}

web_session_touchpoints as (

    select
        'web' as channel,
        case when is_campaign_landing then 'web_campaign_visit' else 'web_visit' end as touchpoint_type,
        'stg_web__events' as source_model,
        session_id as source_id,
        customer_key,
        started_at as occurred_at,
        session_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ dbt.concat(["'web|'", 'visitor_id']) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        _batch_at as _source_batch_at
    from affected_web_sessions

),

web_event_touchpoints as (

    select
        'web' as channel,
        {{ web_event_touchpoint_type('web_events.event_type') }} as touchpoint_type,
        'stg_web__events' as source_model,
        web_events.event_id as source_id,
        web_sessions.customer_key,
        web_events.occurred_at,
        web_events.session_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ dbt.concat(["'web|'", 'web_events.visitor_id']) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        web_sessions._batch_at as _source_batch_at
    from affected_web_events as web_events
    inner join affected_web_sessions as web_sessions
        on web_events.session_id = web_sessions.session_id
    where {{ web_event_touchpoint_type('web_events.event_type') }} is not null

),

pos_receipts as (

    select
        transaction_id,
        min(registered_at) as registered_at,
        max(case when not is_return then 1 else 0 end) as has_sale_line,
        max(_loaded_at) as _loaded_at,
        max(_business_date) as _business_date
    from affected_pos_lines
    group by transaction_id

),

store_touchpoints as (

    select
        'store' as channel,
        case when pos_receipts.has_sale_line = 1 then 'store_purchase' else 'store_return' end
            as touchpoint_type,
        'stg_pos__transaction_lines' as source_model,
        pos_receipts.transaction_id as source_id,
        records_resolved.customer_key,
        pos_receipts.registered_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ dbt.concat(["'store|'", 'pos_receipts.transaction_id']) }} as recompute_key,
        pos_receipts._loaded_at,
        pos_receipts._business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from pos_receipts
    left join records_resolved
        on pos_receipts.transaction_id = records_resolved.record_id
        and records_resolved.source_model = 'stg_pos__transaction_lines'

),

order_touchpoints as (

    select
        'webshop' as channel,
        'order_placed' as touchpoint_type,
        'stg_webshop__orders' as source_model,
        order_id as source_id,
        customer_key,
        ordered_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        order_id,
        {{ dbt.concat(["'source|'", "'stg_webshop__orders'"]) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from orders
    union all
    select
        'webshop' as channel,
        'order_cancelled' as touchpoint_type,
        'stg_webshop__orders' as source_model,
        order_id as source_id,
        customer_key,
        cancelled_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        order_id,
        {{ dbt.concat(["'source|'", "'stg_webshop__orders'"]) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from orders
    where is_cancelled
    union all
    select
        'webshop' as channel,
        'order_delivered' as touchpoint_type,
        'stg_webshop__orders' as source_model,
        order_id as source_id,
        customer_key,
        delivered_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        order_id,
        {{ dbt.concat(["'source|'", "'stg_webshop__orders'"]) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from orders
    where is_delivered

),

return_touchpoints as (

    select
        'webshop' as channel,
        'order_returned' as touchpoint_type,
        'stg_webshop__order_returns' as source_model,
        order_returns.order_return_id as source_id,
        orders.customer_key,
        order_returns.returned_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        order_returns.order_id,
        {{ dbt.concat(["'source|'", "'stg_webshop__order_returns'"]) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from order_returns
    left join orders
        on order_returns.order_id = orders.order_id

),

contact_touchpoints as (

    select
        'contact_center' as channel,
        {{ contact_touchpoint_type('channel') }} as touchpoint_type,
        'stg_contact_center__contacts' as source_model,
        contact_id as source_id,
        customer_key,
        started_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ dbt.concat(["'source|'", "'stg_contact_center__contacts'"]) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from contacts

),

email_touchpoints as (

    select
        'email' as channel,
        {{ email_touchpoint_type('email_events.event_type', 'email_events.campaign_type') }}
            as touchpoint_type,
        'stg_esp__email_events' as source_model,
        email_events.event_id as source_id,
        records_resolved.customer_key,
        email_events.occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ dbt.concat(["'email|'", 'email_events.event_id']) }} as recompute_key,
        email_events._loaded_at,
        email_events._business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from affected_email_events as email_events
    left join records_resolved
        on email_events.event_id = records_resolved.record_id
        and records_resolved.source_model = 'stg_esp__email_events'
    where email_events.event_type in ('open', 'click', 'unsubscribe', 'complaint')

),

social_touchpoints as (

    select
        'social' as channel,
        'social_conversation' as touchpoint_type,
        'stg_social__messages' as source_model,
        conversation_id as source_id,
        customer_key,
        first_message_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ dbt.concat(["'source|'", "'stg_social__messages'"]) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from social_conversations

),

survey_touchpoints as (

    select
        'survey' as channel,
        {{ survey_touchpoint_type('survey_responses.survey_type') }} as touchpoint_type,
        'stg_survey__responses' as source_model,
        survey_responses.response_id as source_id,
        records_resolved.customer_key,
        survey_responses.responded_at as occurred_at,
        cast(null as {{ dbt.type_string() }}) as session_id,
        case
            when survey_responses.survey_type = 'post_delivery' then survey_responses.touchpoint_ref
        end as order_id,
        {{ dbt.concat(["'source|'", "'stg_survey__responses'"]) }} as recompute_key,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date,
        cast(null as {{ dbt.type_timestamp() }}) as _source_batch_at
    from survey_responses
    left join records_resolved
        on survey_responses.response_id = records_resolved.record_id
        and records_resolved.source_model = 'stg_survey__responses'

),

unioned as (

    select * from web_session_touchpoints
    union all
    select * from web_event_touchpoints
    union all
    select * from store_touchpoints
    union all
    select * from order_touchpoints
    union all
    select * from return_touchpoints
    union all
    select * from contact_touchpoints
    union all
    select * from email_touchpoints
    union all
    select * from social_touchpoints
    union all
    select * from survey_touchpoints

),

touchpoints as (

    select
        {{ touchpoint_id('touchpoint_type', 'source_id') }} as touchpoint_id,
        customer_key,
        channel,
        touchpoint_type,
        occurred_at,
        source_model,
        source_id,
        session_id,
        order_id,
        recompute_key,
        _loaded_at,
        _business_date,
        _source_batch_at,
        {{ batch_stamp() }} as _batch_at
    from unioned

),

final as (
    {{ recompute_batch('affected_keys', 'touchpoints', 'recompute_key') }}
)

select * from final
