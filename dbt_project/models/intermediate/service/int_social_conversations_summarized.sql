-- Social customer-care conversations: one row per conversation (stg_social__messages; a message without
-- conversation_id is a conversation of its own).
--
-- First-reply time (inbound conversations only, i.e. with at least one inbound message): from the first
-- inbound message to the first outbound message sent at or after it, in elapsed seconds between the UTC
-- timestamps (a reply across the autumn DST change at night is its real duration, not the wall-clock one).
-- Within 30 minutes means first_reply_seconds <= 1800 (a reply at exactly 30:00 is within), within 4 hours
-- <= 14400. A conversation without a reply is not within either. The SLA day is the Europe/Amsterdam date of
-- the first inbound message.
-- The customer is the one identity resolution attributed the conversation's messages to (the earliest
-- message that resolves).

with

messages as (

    select * from {{ ref('stg_social__messages') }}

),

records_resolved as (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_social__messages'

),

keyed as (

    select
        messages.*,
        coalesce(
            messages.conversation_id,
            {{ dbt.concat(["'message:'", 'messages.message_id']) }}
        ) as conversation_key,
        records_resolved.customer_key
    from messages
    left join records_resolved
        on messages.message_id = records_resolved.record_id

),

inbound_starts as (

    select
        conversation_key,
        min(sent_at) as first_inbound_at
    from keyed
    where is_inbound
    group by conversation_key

),

conversations as (

    select
        keyed.conversation_key,
        max(keyed.platform) as platform,
        min(keyed.sent_at) as first_message_at,
        max(keyed.sent_at) as last_message_at,
        count(*) as message_count,
        sum(case when keyed.is_inbound then 1 else 0 end) as inbound_message_count,
        sum(case when keyed.direction = 'outbound' then 1 else 0 end) as outbound_message_count,
        min(
            case
                when keyed.direction = 'outbound' and keyed.sent_at >= inbound_starts.first_inbound_at
                    then keyed.sent_at
            end
        ) as first_reply_at,
        min(case when keyed.is_inbound then keyed.sentiment end) as min_inbound_sentiment,
        avg(case when keyed.is_inbound then keyed.sentiment end) as avg_inbound_sentiment,
        max(case when keyed.linked_email is not null then 1 else 0 end) = 1 as is_linked_to_email
    from keyed
    left join inbound_starts
        on keyed.conversation_key = inbound_starts.conversation_key
    group by keyed.conversation_key

),

first_inbound_sentiment as (

    select
        keyed.conversation_key,
        keyed.sentiment as first_inbound_sentiment,
        row_number() over (
            partition by keyed.conversation_key
            order by keyed.sent_at, keyed.message_id
        ) as inbound_rank
    from keyed
    where keyed.is_inbound

),

ranked_customers as (

    select
        conversation_key,
        customer_key,
        row_number() over (
            partition by conversation_key
            order by sent_at nulls last, message_id
        ) as customer_rank
    from keyed
    where customer_key is not null

),

final as (

    select

        ---------- ids
        conversations.conversation_key as conversation_id,
        ranked_customers.customer_key,

        ---------- strings
        conversations.platform,

        ---------- numerics
        conversations.message_count,
        conversations.inbound_message_count,
        conversations.outbound_message_count,
        {{ dbt.datediff('inbound_starts.first_inbound_at', 'conversations.first_reply_at', 'second') }}
            as first_reply_seconds,
        first_inbound_sentiment.first_inbound_sentiment,
        conversations.min_inbound_sentiment,
        conversations.avg_inbound_sentiment,

        ---------- booleans
        inbound_starts.first_inbound_at is not null as is_inbound_conversation,
        conversations.first_reply_at is not null as is_replied,
        coalesce(
            conversations.first_reply_at <= {{ dbt.dateadd('minute', 30, 'inbound_starts.first_inbound_at') }},
            false
        ) as is_replied_within_30m,
        coalesce(
            conversations.first_reply_at <= {{ dbt.dateadd('hour', 4, 'inbound_starts.first_inbound_at') }},
            false
        ) as is_replied_within_4h,
        conversations.is_linked_to_email,

        ---------- dates
        case
            when inbound_starts.first_inbound_at is not null
                then {{ amsterdam_date('inbound_starts.first_inbound_at') }}
        end as first_inbound_on,

        ---------- timestamps
        conversations.first_message_at,
        inbound_starts.first_inbound_at,
        conversations.first_reply_at,
        conversations.last_message_at

    from conversations
    left join inbound_starts
        on conversations.conversation_key = inbound_starts.conversation_key
    left join first_inbound_sentiment
        on conversations.conversation_key = first_inbound_sentiment.conversation_key
        and first_inbound_sentiment.inbound_rank = 1
    left join ranked_customers
        on conversations.conversation_key = ranked_customers.conversation_key
        and ranked_customers.customer_rank = 1

)

select * from final
