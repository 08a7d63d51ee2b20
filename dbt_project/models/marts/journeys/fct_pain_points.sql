-- Pain points and wow moments: one row per moment (moment_type, touchpoint), polarity `pain` or `wow`; the rules
-- are listed in the seed journey_moment_types. Every moment points at its touchpoint in fct_touchpoints and takes
-- the touchpoint's customer, channel and time.
--   pain  late_delivery (delivered on a later Amsterdam date than promised), return (a webshop return line, a
--         store receipt with a return line), repeat_contact, unresolved_contact (outcome not opgelost),
--         slow_social_reply (first reply after 30:00, or none), negative_sentiment (an inbound message scored
--         <= var('journeys_negative_sentiment_max', -0.5)), low_ces (CES <= var('journeys_low_ces_max', 3))
--   wow   early_delivery, first_contact_resolution, fast_social_reply (first reply within 30:00 inclusive),
--         promoter_score (NPS >= 9)

{%- set negative_sentiment_max = var('journeys_negative_sentiment_max', -0.5) %}
{%- set low_ces_max = var('journeys_low_ces_max', 3) %}

with

touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

moment_types as (

    select * from {{ ref('journey_moment_types') }}

),

orders as (

    select * from {{ ref('int_orders_evaluated') }}

),

order_returns as (

    select * from {{ ref('stg_webshop__order_returns') }}

),

pos_transaction_lines as (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

contacts as (

    select * from {{ ref('int_contacts_evaluated') }}

),

social_conversations as (

    select * from {{ ref('int_social_conversations_summarized') }}
    where is_inbound_conversation

),

survey_responses as (

    select * from {{ ref('stg_survey__responses') }}

),

-- one row per moment: its type, the touchpoint it happened at (type + source id) and a measure

delivery_moments as (

    select
        case when is_late_delivery then 'late_delivery' else 'early_delivery' end as moment_type,
        'order_delivered' as touchpoint_type,
        order_id as source_id,
        'delivery_delay_days' as measure_name,
        cast(delivery_delay_days as {{ type_double() }}) as measure_value
    from orders
    where is_late_delivery or is_early_delivery

),

webshop_return_moments as (

    select
        'return' as moment_type,
        'order_returned' as touchpoint_type,
        order_return_id as source_id,
        'returned_quantity' as measure_name,
        cast(quantity as {{ type_double() }}) as measure_value
    from order_returns

),

store_receipts as (

    select
        transaction_id,
        max(case when not is_return then 1 else 0 end) as has_sale_line,
        sum(case when is_return then -quantity else 0 end) as returned_quantity,
        max(case when is_return then 1 else 0 end) as has_return_line
    from pos_transaction_lines
    group by transaction_id

),

store_return_moments as (

    select
        'return' as moment_type,
        case when has_sale_line = 1 then 'store_purchase' else 'store_return' end as touchpoint_type,
        transaction_id as source_id,
        'returned_quantity' as measure_name,
        cast(returned_quantity as {{ type_double() }}) as measure_value
    from store_receipts
    where has_return_line = 1

),

contact_moments as (

    select
        'repeat_contact' as moment_type,
        {{ contact_touchpoint_type('channel') }} as touchpoint_type,
        contact_id as source_id,
        cast(null as {{ dbt.type_string() }}) as measure_name,
        cast(null as {{ type_double() }}) as measure_value
    from contacts
    where is_repeat_contact
    union all
    select
        'unresolved_contact' as moment_type,
        {{ contact_touchpoint_type('channel') }} as touchpoint_type,
        contact_id as source_id,
        'transfer_count' as measure_name,
        cast(transfer_count as {{ type_double() }}) as measure_value
    from contacts
    where outcome is not null
        and outcome <> 'opgelost'
    union all
    select
        'first_contact_resolution' as moment_type,
        {{ contact_touchpoint_type('channel') }} as touchpoint_type,
        contact_id as source_id,
        cast(null as {{ dbt.type_string() }}) as measure_name,
        cast(null as {{ type_double() }}) as measure_value
    from contacts
    where is_first_contact_resolution

),

social_moments as (

    select
        case when is_replied_within_30m then 'fast_social_reply' else 'slow_social_reply' end as moment_type,
        'social_conversation' as touchpoint_type,
        conversation_id as source_id,
        'first_reply_minutes' as measure_name,
        cast(first_reply_seconds as {{ type_double() }}) / 60 as measure_value
    from social_conversations
    union all
    select
        'negative_sentiment' as moment_type,
        'social_conversation' as touchpoint_type,
        conversation_id as source_id,
        'min_inbound_sentiment' as measure_name,
        cast(min_inbound_sentiment as {{ type_double() }}) as measure_value
    from social_conversations
    where min_inbound_sentiment <= {{ negative_sentiment_max }}

),

survey_moments as (

    select
        'low_ces' as moment_type,
        {{ survey_touchpoint_type('survey_type') }} as touchpoint_type,
        response_id as source_id,
        'ces' as measure_name,
        cast(ces as {{ type_double() }}) as measure_value
    from survey_responses
    where ces <= {{ low_ces_max }}
    union all
    select
        'promoter_score' as moment_type,
        {{ survey_touchpoint_type('survey_type') }} as touchpoint_type,
        response_id as source_id,
        'nps' as measure_name,
        cast(nps as {{ type_double() }}) as measure_value
    from survey_responses
    where {{ nps_category('nps') }} = 'promoter'

),

moments as (

    select * from delivery_moments
    union all
    select * from webshop_return_moments
    union all
    select * from store_return_moments
    union all
    select * from contact_moments
    union all
    select * from social_moments
    union all
    select * from survey_moments

),

keyed as (

    select
        moments.*,
        {{ touchpoint_id('moments.touchpoint_type', 'moments.source_id') }} as touchpoint_id
    from moments

),

final as (

    select

        ---------- ids
        {{ journeys_key(['keyed.moment_type', 'keyed.touchpoint_id']) }} as moment_id,
        keyed.touchpoint_id,
        touchpoints.customer_key,

        ---------- strings
        keyed.moment_type,
        moment_types.polarity,
        touchpoints.channel,
        keyed.touchpoint_type,
        touchpoints.journey_stage,
        keyed.measure_name,

        ---------- numerics
        keyed.measure_value,

        ---------- dates
        touchpoints.occurred_on,

        ---------- timestamps
        touchpoints.occurred_at

    from keyed
    left join touchpoints
        on keyed.touchpoint_id = touchpoints.touchpoint_id
    left join moment_types
        on keyed.moment_type = moment_types.moment_type

)

select * from final
