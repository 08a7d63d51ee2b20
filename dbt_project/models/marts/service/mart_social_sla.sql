-- Social care SLA: one row per platform and day (Europe/Amsterdam date of the conversation's first inbound
-- message). Every inbound conversation counts in the denominator, also those never answered; the shares are
-- first replies within 30 minutes (<= 30:00) and within 4 hours (<= 4:00:00). Rules: int_social_conversations_summarized.

with

conversations as (

    select * from {{ ref('int_social_conversations_summarized') }}
    where is_inbound_conversation

),

daily as (

    select
        first_inbound_on as sla_date,
        platform,
        count(*) as inbound_conversations,
        sum(case when is_replied then 1 else 0 end) as replied_conversations,
        sum(case when is_replied_within_30m then 1 else 0 end) as replied_within_30m,
        sum(case when is_replied_within_4h then 1 else 0 end) as replied_within_4h,
        avg(first_reply_seconds) as avg_first_reply_seconds,
        {{ median_of('first_reply_seconds') }} as median_first_reply_seconds,
        max(first_reply_seconds) as max_first_reply_seconds
    from conversations
    group by
        first_inbound_on,
        platform

),

final as (

    select
        sla_date,
        platform,
        inbound_conversations,
        replied_conversations,
        inbound_conversations - replied_conversations as unreplied_conversations,
        replied_within_30m,
        replied_within_4h,
        {{ safe_ratio('replied_within_30m', 'inbound_conversations') }} as share_replied_within_30m,
        {{ safe_ratio('replied_within_4h', 'inbound_conversations') }} as share_replied_within_4h,
        cast(avg_first_reply_seconds as {{ type_double() }}) / 60 as avg_first_reply_minutes,
        cast(median_first_reply_seconds as {{ type_double() }}) / 60 as median_first_reply_minutes,
        cast(max_first_reply_seconds as {{ type_double() }}) / 60 as max_first_reply_minutes
    from daily

)

select * from final
