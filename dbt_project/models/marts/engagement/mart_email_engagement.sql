-- E-mail engagement with seasonality: one row per campaign type and ISO week (year + week of year, of the
-- Europe/Amsterdam send date). Rates (message-level, unique per recipient and campaign; rules in
-- int_email_messages_summarized):
--   delivery_rate = delivered / sent            bounce_rate = bounced / sent
--   open_rate = opened / delivered              click_rate = clicked / delivered
--   click_to_open_rate = clicked / opened       unsubscribe_rate = unsubscribed / delivered
--   complaint_rate = complaints / delivered
-- Seasonality: open_rate_index / click_rate_index = the week's rate divided by the campaign type's rate over
-- all weeks (1 = a typical week; 1.3 = 30 % more engaged than usual for that type).

with

messages as (

    select * from {{ ref('int_email_messages_summarized') }}
    where message_on is not null

),

weekly as (

    select
        coalesce(campaign_type, 'unknown') as campaign_type,
        iso_year,
        iso_week,
        min(week_start) as week_start,
        count(distinct campaign_id) as campaigns,
        count(*) as messages_sent,
        sum(case when is_delivered then 1 else 0 end) as messages_delivered,
        sum(case when is_bounced then 1 else 0 end) as messages_bounced,
        sum(case when is_opened then 1 else 0 end) as messages_opened,
        sum(case when is_clicked then 1 else 0 end) as messages_clicked,
        sum(case when is_unsubscribed then 1 else 0 end) as messages_unsubscribed,
        sum(case when is_complained then 1 else 0 end) as messages_complained,
        count(distinct customer_key) as customers_reached
    from messages
    group by
        coalesce(campaign_type, 'unknown'),
        iso_year,
        iso_week

),

type_overall as (

    select
        coalesce(campaign_type, 'unknown') as campaign_type,
        {{ safe_ratio('sum(case when is_opened then 1 else 0 end)', 'sum(case when is_delivered then 1 else 0 end)') }}
            as overall_open_rate,
        {{ safe_ratio('sum(case when is_clicked then 1 else 0 end)', 'sum(case when is_delivered then 1 else 0 end)') }}
            as overall_click_rate
    from messages
    group by coalesce(campaign_type, 'unknown')

),

rated as (

    select
        weekly.*,
        {{ safe_ratio('weekly.messages_delivered', 'weekly.messages_sent') }} as delivery_rate,
        {{ safe_ratio('weekly.messages_bounced', 'weekly.messages_sent') }} as bounce_rate,
        {{ safe_ratio('weekly.messages_opened', 'weekly.messages_delivered') }} as open_rate,
        {{ safe_ratio('weekly.messages_clicked', 'weekly.messages_delivered') }} as click_rate,
        {{ safe_ratio('weekly.messages_clicked', 'weekly.messages_opened') }} as click_to_open_rate,
        {{ safe_ratio('weekly.messages_unsubscribed', 'weekly.messages_delivered') }} as unsubscribe_rate,
        {{ safe_ratio('weekly.messages_complained', 'weekly.messages_delivered') }} as complaint_rate,
        type_overall.overall_open_rate,
        type_overall.overall_click_rate
    from weekly
    inner join type_overall
        on weekly.campaign_type = type_overall.campaign_type

),

final as (

    select
        campaign_type,
        iso_year,
        iso_week,
        week_start,
        campaigns,
        messages_sent,
        messages_delivered,
        messages_bounced,
        messages_opened,
        messages_clicked,
        messages_unsubscribed,
        messages_complained,
        customers_reached,
        delivery_rate,
        bounce_rate,
        open_rate,
        click_rate,
        click_to_open_rate,
        unsubscribe_rate,
        complaint_rate,
        overall_open_rate,
        overall_click_rate,
        open_rate / nullif(overall_open_rate, 0) as open_rate_index,
        click_rate / nullif(overall_click_rate, 0) as click_rate_index
    from rated

)

select * from final
