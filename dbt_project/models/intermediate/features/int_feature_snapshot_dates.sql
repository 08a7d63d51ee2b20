-- The as-of dates of the propensity feature snapshots: one row per snapshot. The scoring snapshot is the day
-- after the latest business date loaded (max _business_date over the staging models), NOT the wall clock, so a
-- history delivered today scores as of its own last day. Training snapshots step back from it every
-- propensity_snapshot_step_days days while at least propensity_min_history_days days of data precede them;
-- each says whether its churn and purchase labels are fully observed (as_of + horizon <= scoring as_of).
-- Windows and knobs: macros/satisfaction/point_in_time.sql.

{%- set step_days = propensity_var('propensity_snapshot_step_days') %}
{%- set snapshot_max = propensity_var('propensity_snapshot_max') %}
{%- set min_history_days = propensity_var('propensity_min_history_days') %}
{%- set window_days = propensity_var('propensity_feature_window_days') %}
{%- set churn_days = propensity_var('propensity_churn_horizon_days') %}
{%- set purchase_days = propensity_var('propensity_purchase_horizon_days') %}
{%- set dated_models = [
    'stg_crm__customer_versions',
    'stg_pos__transaction_lines',
    'stg_webshop__order_versions',
    'stg_web__events',
    'stg_contact_center__contacts',
    'stg_esp__email_events',
    'stg_social__messages',
    'stg_survey__responses',
    'stg_privacy__requests',
] %}

with

business_dates as (

    {% for model in dated_models %}
    select
        min(_business_date) as first_business_date,
        max(_business_date) as last_business_date
    from {{ ref(model) }}
    {{ 'union all' if not loop.last }}
    {% endfor %}

),

bounds as (

    select
        min(first_business_date) as first_business_date,
        max(last_business_date) as last_business_date
    from business_dates

),

snapshot_numbers as (

    {% for snapshot_no in range(snapshot_max + 1) %}
    select {{ snapshot_no }} as snapshot_no
    {{ 'union all' if not loop.last }}
    {% endfor %}

),

candidates as (

    select
        snapshot_numbers.snapshot_no,
        bounds.first_business_date,
        bounds.last_business_date,
        cast({{ dbt.dateadd('day', 1, 'bounds.last_business_date') }} as date) as scoring_as_of,
        cast({{ dbt.dateadd(
            'day', '1 - ' ~ step_days ~ ' * snapshot_numbers.snapshot_no', 'bounds.last_business_date'
        ) }} as date) as as_of
    from snapshot_numbers
    cross join bounds
    where bounds.last_business_date is not null

),

final as (

    select

        ---------- grain
        as_of,

        ---------- strings
        case when snapshot_no = 0 then 'scoring' else 'training' end as snapshot_role,

        ---------- numerics
        snapshot_no,
        {{ dbt.datediff('first_business_date', 'as_of', 'day') }} as history_days,
        least({{ window_days }}, {{ dbt.datediff('first_business_date', 'as_of', 'day') }}) as feature_window_days,

        ---------- booleans
        cast({{ dbt.dateadd('day', churn_days, 'as_of') }} as date) <= scoring_as_of as has_churn_label,
        cast({{ dbt.dateadd('day', purchase_days, 'as_of') }} as date) <= scoring_as_of as has_purchase_label,

        ---------- dates
        first_business_date,
        last_business_date,
        scoring_as_of,

        ---------- timestamps
        -- Amsterdam midnight at the start of as_of, in UTC: every feature event happened before it
        {{ amsterdam_local_to_utc('cast(as_of as timestamp)') }} as as_of_at

    from candidates
    where snapshot_no = 0
        or as_of >= cast({{ dbt.dateadd('day', min_history_days, 'first_business_date') }} as date)

)

select * from final
