-- Point-in-time customer features and labels: one row per snapshot (int_feature_snapshot_dates) and customer
-- known before it. Features only use days before as_of, and behavioural ones only the feature window
-- [as_of - window, as_of) (macro in_feature_window); labels only days in [as_of, as_of + horizon) (macro
-- in_label_window), and only when that horizon is fully loaded (else null). Tenure comes from the CRM
-- registration. Customers who opted out of profiling are not in any snapshot (neither trained on nor scored).
-- Feature definitions: _features__models.yml.

{%- set window_days = propensity_var('propensity_feature_window_days') %}
{%- set churn_days = propensity_var('propensity_churn_horizon_days') %}
{%- set purchase_days = propensity_var('propensity_purchase_horizon_days') %}
{%- set label_days = [churn_days, purchase_days] | max %}
{%- set campaign_types = ['promo', 'newsletter', 'service', 'winback'] %}
{%- set window_sums = [
    'touchpoints', 'store_visits', 'orders_placed', 'order_cancellations', 'purchases',
    'webshop_spend_eur', 'store_spend_eur', 'contacts', 'unresolved_contacts', 'repeat_contacts',
    'late_deliveries', 'returns', 'low_ces_responses', 'social_pain_points', 'pain_points',
    'web_sessions', 'help_page_views', 'add_to_carts', 'campaign_landings', 'marketing_email_clicks',
] %}
{%- set email_sums = [] %}
{%- for campaign_type in campaign_types %}
    {%- do email_sums.append('emails_delivered_' ~ campaign_type) %}
    {%- do email_sums.append('emails_opened_' ~ campaign_type) %}
{%- endfor %}

with

snapshot_dates as (

    select * from {{ ref('int_feature_snapshot_dates') }}

),

activity_daily as (

    select * from {{ ref('int_customer_activity_daily') }}

),

customers as (

    select * from {{ ref('dim_customer') }}
    where not is_profiling_opted_out

),

survey_responses as (

    select * from {{ ref('int_survey_responses_enriched') }}
    where customer_key is not null
        and responded_on is not null

),

-- every customer-day up to the end of the longest label horizon, summed per snapshot
windowed as (

    select
        snapshot_dates.as_of,
        activity_daily.customer_key,

        {%- for metric in window_sums + email_sums %}
        sum(case when {{ in_feature_window('activity_daily.activity_on', 'snapshot_dates.as_of', window_days) }}
            then activity_daily.{{ metric }} else 0 end) as {{ metric }},
        {%- endfor %}
        sum(case
            when {{ in_feature_window('activity_daily.activity_on', 'snapshot_dates.as_of', window_days) }}
                and activity_daily.touchpoints > 0
                then 1
            else 0
        end) as active_days,
        max(case
            when {{ in_feature_window('activity_daily.activity_on', 'snapshot_dates.as_of', window_days) }}
                and activity_daily.touchpoints > 0
                then activity_daily.activity_on
        end) as last_activity_on,
        max(case
            when {{ in_feature_window('activity_daily.activity_on', 'snapshot_dates.as_of', window_days) }}
                and activity_daily.purchases > 0
                then activity_daily.activity_on
        end) as last_purchase_on,
        max(case
            when {{ in_feature_window('activity_daily.activity_on', 'snapshot_dates.as_of', window_days) }}
                and activity_daily.pain_points > 0
                then activity_daily.activity_on
        end) as last_pain_point_on,
        max(case
            when {{ in_feature_window('activity_daily.activity_on', 'snapshot_dates.as_of', window_days) }}
                and activity_daily.resolved_contacts > 0
                then activity_daily.activity_on
        end) as last_resolved_contact_on,
        min(case
            when activity_daily.activity_on < snapshot_dates.as_of and activity_daily.touchpoints > 0
                then activity_daily.activity_on
        end) as first_activity_on,

        ---------- labels
        sum(case when {{ in_label_window('activity_daily.activity_on', 'snapshot_dates.as_of', churn_days) }}
            then activity_daily.label_touchpoints else 0 end) as label_touchpoints,
        sum(case when {{ in_label_window('activity_daily.activity_on', 'snapshot_dates.as_of', purchase_days) }}
            then activity_daily.purchases else 0 end) as label_purchases

    from snapshot_dates
    inner join activity_daily
        on activity_daily.activity_on < {{ dbt.dateadd('day', label_days, 'snapshot_dates.as_of') }}
    group by
        snapshot_dates.as_of,
        activity_daily.customer_key

),

-- the population of a snapshot: registered in the CRM before it, or active before it
population as (

    select
        snapshot_dates.*,
        customers.customer_key,
        customers.registered_at,
        windowed.first_activity_on
    from snapshot_dates
    cross join customers
    left join windowed
        on snapshot_dates.as_of = windowed.as_of
        and customers.customer_key = windowed.customer_key
    where customers.registered_at < snapshot_dates.as_of_at
        or windowed.first_activity_on is not null

),

-- e-mail engagement baseline: the population's open rate per campaign type in the same window (season)
email_rates as (

    select
        as_of,
        {%- for campaign_type in campaign_types %}
        {{ safe_ratio('sum(emails_opened_' ~ campaign_type ~ ')', 'sum(emails_delivered_' ~ campaign_type ~ ')') }}
            as open_rate_{{ campaign_type }}{{ ',' if not loop.last }}
        {%- endfor %}
    from windowed
    group by as_of

),

-- the latest survey response in the feature window
ranked_responses as (

    select
        snapshot_dates.as_of,
        survey_responses.customer_key,
        survey_responses.nps,
        survey_responses.effectiveness,
        survey_responses.ease,
        survey_responses.emotion,
        count(*) over (
            partition by snapshot_dates.as_of, survey_responses.customer_key
        ) as survey_responses,
        row_number() over (
            partition by snapshot_dates.as_of, survey_responses.customer_key
            order by survey_responses.responded_at desc, survey_responses.response_id desc
        ) as response_rank
    from snapshot_dates
    inner join survey_responses
        on {{ in_feature_window('survey_responses.responded_on', 'snapshot_dates.as_of', window_days) }}

),

latest_responses as (

    select * from ranked_responses
    where response_rank = 1

),

joined as (

    select
        population.as_of,
        population.customer_key,
        population.snapshot_role,
        population.as_of_at,
        population.feature_window_days,
        population.has_churn_label,
        population.has_purchase_label,
        coalesce(
            case
                when population.registered_at < population.as_of_at
                    then {{ amsterdam_date('population.registered_at') }}
            end,
            population.first_activity_on
        ) as tenure_start_on,
        windowed.last_activity_on,
        windowed.last_purchase_on,
        windowed.last_pain_point_on,
        windowed.last_resolved_contact_on,
        cast(coalesce(windowed.active_days, 0) as {{ dbt.type_bigint() }}) as active_days,
        {%- for metric in window_sums %}
        {%- set metric_type = type_double() if metric.endswith('_eur') else dbt.type_bigint() %}
        cast(coalesce(windowed.{{ metric }}, 0) as {{ metric_type }}) as {{ metric }},
        {%- endfor %}
        cast(
            {% for campaign_type in campaign_types -%}
            coalesce(windowed.emails_delivered_{{ campaign_type }}, 0){{ ' +' if not loop.last }}
            {% endfor -%}
            as {{ dbt.type_bigint() }}
        ) as emails_delivered,
        cast(
            {% for campaign_type in campaign_types -%}
            coalesce(windowed.emails_opened_{{ campaign_type }}, 0){{ ' +' if not loop.last }}
            {% endfor -%}
            as {{ dbt.type_bigint() }}
        ) as emails_opened,
        {% for campaign_type in campaign_types -%}
        coalesce(windowed.emails_delivered_{{ campaign_type }}, 0)
            * coalesce(email_rates.open_rate_{{ campaign_type }}, 0){{ ' +' if not loop.last }}
        {% endfor -%}
        as expected_email_opens,
        coalesce(latest_responses.survey_responses, 0) as survey_responses,
        latest_responses.nps as latest_nps,
        latest_responses.effectiveness as latest_effectiveness,
        latest_responses.ease as latest_ease,
        latest_responses.emotion as latest_emotion,
        coalesce(windowed.label_touchpoints, 0) as label_touchpoints,
        coalesce(windowed.label_purchases, 0) as label_purchases
    from population
    left join windowed
        on population.as_of = windowed.as_of
        and population.customer_key = windowed.customer_key
    left join email_rates
        on population.as_of = email_rates.as_of
    left join latest_responses
        on population.as_of = latest_responses.as_of
        and population.customer_key = latest_responses.customer_key

),

final as (

    select

        ---------- grain
        as_of,
        customer_key,

        ---------- snapshot
        snapshot_role,
        as_of_at,
        feature_window_days,

        ---------- recency and tenure (days before as_of; window + 1 when nothing in the window)
        coalesce({{ dbt.datediff('last_activity_on', 'as_of', 'day') }}, feature_window_days + 1)
            as days_since_last_activity,
        coalesce({{ dbt.datediff('last_purchase_on', 'as_of', 'day') }}, feature_window_days + 1)
            as days_since_last_purchase,
        coalesce({{ dbt.datediff('last_pain_point_on', 'as_of', 'day') }}, feature_window_days + 1)
            as days_since_last_pain_point,
        coalesce({{ dbt.datediff('last_resolved_contact_on', 'as_of', 'day') }}, feature_window_days + 1)
            as days_since_last_resolved_contact,
        {{ dbt.datediff('tenure_start_on', 'as_of', 'day') }} as tenure_days,

        ---------- frequency and monetary value (feature window)
        active_days,
        touchpoints,
        purchases,
        orders_placed,
        order_cancellations,
        store_visits,
        webshop_spend_eur + store_spend_eur as spend_eur,
        webshop_spend_eur,
        store_spend_eur,

        ---------- service and pain points (feature window)
        contacts,
        unresolved_contacts,
        repeat_contacts,
        late_deliveries,
        returns,
        low_ces_responses,
        social_pain_points,
        pain_points,

        ---------- satisfaction (latest response in the feature window)
        survey_responses,
        latest_nps,
        latest_effectiveness,
        latest_ease,
        latest_emotion,

        ---------- e-mail engagement against the seasonal baseline (feature window)
        emails_delivered,
        emails_opened,
        marketing_email_clicks,
        expected_email_opens,
        {{ safe_ratio('emails_opened', 'expected_email_opens') }} as email_open_index,

        ---------- web activity (feature window)
        web_sessions,
        help_page_views,
        add_to_carts,
        campaign_landings,

        ---------- labels (null when the horizon is not fully loaded)
        case when has_churn_label then label_touchpoints = 0 end as churn_label,
        case when has_purchase_label then label_purchases > 0 end as purchase_label

    from joined

)

select * from final
