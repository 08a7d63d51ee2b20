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

activity_daily as {{ not_materialized() }} (

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

-- A customer-day joins only the snapshots whose window holds it: features and labels are separate
-- aggregates (a bounded join each), and the first activity is one per customer. One join over every day before
-- as_of + horizon fanned each day out to every later snapshot: at 1M customers x 180 days it spilled > 37 GB.

-- the feature window [as_of - window, as_of), summed per snapshot and customer: one aggregate per snapshot
-- (snapshot numbers are known when compiling), so each holds about one group per customer. A single aggregate
-- over all snapshots at once has ~22M wide groups and spilled 40 GB at 1M customers.
featured as (

    {%- for snapshot_no in range(propensity_var('propensity_snapshot_max') + 1) %}

    select
        snapshot_dates.as_of,
        activity_daily.customer_key,

        {%- for metric in window_sums + email_sums %}
        sum(activity_daily.{{ metric }}) as {{ metric }},
        {%- endfor %}
        sum(case when activity_daily.touchpoints > 0 then 1 else 0 end) as active_days,
        max(case when activity_daily.touchpoints > 0 then activity_daily.activity_on end) as last_activity_on,
        max(case when activity_daily.purchases > 0 then activity_daily.activity_on end) as last_purchase_on,
        max(case when activity_daily.pain_points > 0 then activity_daily.activity_on end) as last_pain_point_on,
        max(case when activity_daily.resolved_contacts > 0 then activity_daily.activity_on end)
            as last_resolved_contact_on

    from snapshot_dates
    inner join activity_daily
        on {{ in_feature_window('activity_daily.activity_on', 'snapshot_dates.as_of', window_days) }}
    where snapshot_dates.snapshot_no = {{ snapshot_no }}
    group by
        snapshot_dates.as_of,
        activity_daily.customer_key
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

-- the label horizons [as_of, as_of + horizon), only days that can count
labelled as (

    select
        snapshot_dates.as_of,
        activity_daily.customer_key,
        sum(case when {{ in_label_window('activity_daily.activity_on', 'snapshot_dates.as_of', churn_days) }}
            then activity_daily.label_touchpoints else 0 end) as label_touchpoints,
        sum(case when {{ in_label_window('activity_daily.activity_on', 'snapshot_dates.as_of', purchase_days) }}
            then activity_daily.purchases else 0 end) as label_purchases
    from snapshot_dates
    inner join activity_daily
        on {{ in_label_window('activity_daily.activity_on', 'snapshot_dates.as_of', label_days) }}
    where activity_daily.label_touchpoints > 0
        or activity_daily.purchases > 0
    group by
        snapshot_dates.as_of,
        activity_daily.customer_key

),

-- a customer's first active day; a snapshot knows it when it lies before as_of
first_activity as (

    select
        customer_key,
        min(activity_on) as first_activity_on
    from activity_daily
    where touchpoints > 0
    group by customer_key

),

-- the population of a snapshot: registered in the CRM before it, or active before it
population as (

    select
        snapshot_dates.*,
        customers.customer_key,
        customers.registered_at,
        case
            when first_activity.first_activity_on < snapshot_dates.as_of
                then first_activity.first_activity_on
        end as first_activity_on
    from snapshot_dates
    cross join customers
    left join first_activity
        on customers.customer_key = first_activity.customer_key
    where customers.registered_at < snapshot_dates.as_of_at
        or first_activity.first_activity_on < snapshot_dates.as_of

),

-- e-mail engagement baseline: the population's open rate per campaign type in the same window (season)
email_rates as (

    select
        snapshot_dates.as_of,
        {%- for campaign_type in campaign_types %}
        {{ safe_ratio(
            'sum(activity_daily.emails_opened_' ~ campaign_type ~ ')',
            'sum(activity_daily.emails_delivered_' ~ campaign_type ~ ')'
        ) }} as open_rate_{{ campaign_type }}{{ ',' if not loop.last }}
        {%- endfor %}
    from snapshot_dates
    inner join activity_daily
        on {{ in_feature_window('activity_daily.activity_on', 'snapshot_dates.as_of', window_days) }}
    group by snapshot_dates.as_of

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
        featured.last_activity_on,
        featured.last_purchase_on,
        featured.last_pain_point_on,
        featured.last_resolved_contact_on,
        cast(coalesce(featured.active_days, 0) as {{ dbt.type_bigint() }}) as active_days,
        {%- for metric in window_sums %}
        {%- set metric_type = type_double() if metric.endswith('_eur') else dbt.type_bigint() %}
        cast(coalesce(featured.{{ metric }}, 0) as {{ metric_type }}) as {{ metric }},
        {%- endfor %}
        cast(
            {% for campaign_type in campaign_types -%}
            coalesce(featured.emails_delivered_{{ campaign_type }}, 0){{ ' +' if not loop.last }}
            {% endfor -%}
            as {{ dbt.type_bigint() }}
        ) as emails_delivered,
        cast(
            {% for campaign_type in campaign_types -%}
            coalesce(featured.emails_opened_{{ campaign_type }}, 0){{ ' +' if not loop.last }}
            {% endfor -%}
            as {{ dbt.type_bigint() }}
        ) as emails_opened,
        {% for campaign_type in campaign_types -%}
        coalesce(featured.emails_delivered_{{ campaign_type }}, 0)
            * coalesce(email_rates.open_rate_{{ campaign_type }}, 0){{ ' +' if not loop.last }}
        {% endfor -%}
        as expected_email_opens,
        coalesce(latest_responses.survey_responses, 0) as survey_responses,
        latest_responses.nps as latest_nps,
        latest_responses.effectiveness as latest_effectiveness,
        latest_responses.ease as latest_ease,
        latest_responses.emotion as latest_emotion,
        coalesce(labelled.label_touchpoints, 0) as label_touchpoints,
        coalesce(labelled.label_purchases, 0) as label_purchases
    from population
    left join featured
        on population.as_of = featured.as_of
        and population.customer_key = featured.customer_key
    left join labelled
        on population.as_of = labelled.as_of
        and population.customer_key = labelled.customer_key
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
