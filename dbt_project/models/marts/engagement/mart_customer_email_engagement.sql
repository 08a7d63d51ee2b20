-- Each customer's e-mail engagement against their own seasonal baseline: one row per customer and ISO week
-- in which the customer was delivered at least one e-mail (messages attributed to no customer are left out).
--
-- Baseline (indirect standardisation, so that both the campaign mix and the season are accounted for):
--   1. population rate per campaign type and ISO week of year (all years, all recipients): what a typical
--      recipient does with that kind of e-mail in that week of the year;
--   2. seasonal_expected_opens = the sum of those rates over the customer's delivered messages of the week;
--   3. the customer's own level, baseline_open_lift = the customer's opens in all OTHER weeks / their
--      seasonal_expected_opens in those weeks (leave-one-out: the week is not compared with itself);
--   4. expected_opens = baseline_open_lift x seasonal_expected_opens; open_index = opened / expected_opens
--      (1 = as engaged as usual for this customer at this time of year).
-- Clicks likewise. engagement_vs_baseline: `above` / `below` when the opens differ from expected_opens by at
-- least half a message, else `in_line`; `no_baseline` when the customer has no other week with e-mail.

with

messages as (

    select * from {{ ref('int_email_messages_summarized') }}
    where is_delivered
        and message_on is not null

),

seasonal_rates as (

    select
        coalesce(campaign_type, 'unknown') as campaign_type,
        iso_week,
        -- exact decimals: the sums below do not depend on the order of the rows
        cast({{ safe_ratio('sum(case when is_opened then 1 else 0 end)', 'count(*)') }}
            as {{ type_exact_fraction() }}) as population_open_rate,
        cast({{ safe_ratio('sum(case when is_clicked then 1 else 0 end)', 'count(*)') }}
            as {{ type_exact_fraction() }}) as population_click_rate
    from messages
    group by
        coalesce(campaign_type, 'unknown'),
        iso_week

),

customer_messages as (

    select
        messages.customer_key,
        messages.iso_year,
        messages.iso_week,
        messages.week_start,
        messages.is_opened,
        messages.is_clicked,
        seasonal_rates.population_open_rate,
        seasonal_rates.population_click_rate
    from messages
    inner join seasonal_rates
        on coalesce(messages.campaign_type, 'unknown') = seasonal_rates.campaign_type
        and messages.iso_week = seasonal_rates.iso_week
    where messages.customer_key is not null

),

customer_weeks as (

    select
        customer_key,
        iso_year,
        iso_week,
        min(week_start) as week_start,
        count(*) as messages_delivered,
        sum(case when is_opened then 1 else 0 end) as messages_opened,
        sum(case when is_clicked then 1 else 0 end) as messages_clicked,
        sum(population_open_rate) as seasonal_expected_opens,
        sum(population_click_rate) as seasonal_expected_clicks
    from customer_messages
    group by
        customer_key,
        iso_year,
        iso_week

),

customer_totals as (

    select
        customer_key,
        count(*) as weeks_with_email,
        sum(messages_opened) as total_opened,
        sum(messages_clicked) as total_clicked,
        sum(seasonal_expected_opens) as total_seasonal_expected_opens,
        sum(seasonal_expected_clicks) as total_seasonal_expected_clicks
    from customer_weeks
    group by customer_key

),

baselines as (

    select
        customer_weeks.*,
        customer_totals.weeks_with_email - 1 as baseline_weeks,
        case
            when customer_totals.weeks_with_email > 1
                then {{ safe_ratio(
                    'customer_totals.total_opened - customer_weeks.messages_opened',
                    'customer_totals.total_seasonal_expected_opens - customer_weeks.seasonal_expected_opens',
                ) }}
        end as baseline_open_lift,
        case
            when customer_totals.weeks_with_email > 1
                then {{ safe_ratio(
                    'customer_totals.total_clicked - customer_weeks.messages_clicked',
                    'customer_totals.total_seasonal_expected_clicks - customer_weeks.seasonal_expected_clicks',
                ) }}
        end as baseline_click_lift
    from customer_weeks
    inner join customer_totals
        on customer_weeks.customer_key = customer_totals.customer_key

),

expected as (

    select
        baselines.*,
        baselines.baseline_open_lift * baselines.seasonal_expected_opens as expected_opens,
        baselines.baseline_click_lift * baselines.seasonal_expected_clicks as expected_clicks
    from baselines

),

final as (

    select
        customer_key,
        iso_year,
        iso_week,
        week_start,
        messages_delivered,
        messages_opened,
        messages_clicked,
        {{ safe_ratio('messages_opened', 'messages_delivered') }} as open_rate,
        {{ safe_ratio('messages_clicked', 'messages_delivered') }} as click_rate,
        cast(seasonal_expected_opens as {{ type_double() }}) as seasonal_expected_opens,
        cast(seasonal_expected_clicks as {{ type_double() }}) as seasonal_expected_clicks,
        baseline_weeks,
        baseline_open_lift,
        baseline_click_lift,
        expected_opens,
        expected_clicks,
        messages_opened / nullif(expected_opens, 0) as open_index,
        messages_clicked / nullif(expected_clicks, 0) as click_index,
        messages_opened - expected_opens as opens_vs_baseline,
        messages_clicked - expected_clicks as clicks_vs_baseline,
        case
            when expected_opens is null then 'no_baseline'
            when messages_opened - expected_opens >= 0.5 then 'above'
            when messages_opened - expected_opens <= -0.5 then 'below'
            else 'in_line'
        end as engagement_vs_baseline
    from expected

)

select * from final
