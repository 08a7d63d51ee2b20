-- Pain points and wow moments ranked by how many customers they hit, and how satisfaction and later churn differ
-- for those customers: one row per moment type (journey_moment_types).
--
-- Population: active customers = customers (dim_customer) with at least one touchpoint in fct_touchpoints.
-- Hit customers of a moment type: active customers with at least one such moment; the others are the
-- comparison group. customer_rank ranks the types within their polarity by customers hit (1 = most).
-- Satisfaction: survey responses of hit customers answered at or after their first moment of the type, against
--   all responses of the comparison group: average CSAT (1-5) and NPS (% 9-10 minus % 0-6, -100..100).
-- Later churn: among customers active before the churn cut-off (dim_customer.lifecycle_as_of minus
--   var('journeys_churn_window_days', 30) days), and for hit customers first hit before it, the share whose
--   dim_customer.lifecycle_stage is at_risk, lapsed or churned (no activity in the last 30 days), for hit
--   customers and for the comparison group. churn_lift = hit churn rate / comparison churn rate.
-- Moments without a customer (anonymous) count in occurrences only.

{%- set churn_window_days = var('journeys_churn_window_days', 30) %}

with

pain_points as (

    select * from {{ ref('fct_pain_points') }}

),

moment_types as (

    select * from {{ ref('journey_moment_types') }}

),

touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

customers as (

    select * from {{ ref('dim_customer') }}

),

survey_responses as (

    select * from {{ ref('stg_survey__responses') }}

),

records_resolved as (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_survey__responses'

),

active_customers as (

    select
        customers.customer_key,
        customers.lifecycle_stage in ('at_risk', 'lapsed', 'churned') as is_churned,
        {{ dbt.dateadd('day', -churn_window_days, 'customers.lifecycle_as_of') }} as churn_cutoff_at,
        min(touchpoints.occurred_at) as first_touchpoint_at
    from customers
    inner join touchpoints
        on customers.customer_key = touchpoints.customer_key
    group by
        customers.customer_key,
        customers.lifecycle_stage,
        customers.lifecycle_as_of

),

customer_responses as (

    select
        records_resolved.customer_key,
        survey_responses.responded_at,
        survey_responses.csat,
        survey_responses.nps
    from survey_responses
    inner join records_resolved
        on survey_responses.response_id = records_resolved.record_id
    where records_resolved.customer_key is not null

),

occurrences as (

    select
        moment_type,
        count(*) as occurrences,
        sum(case when customer_key is null then 1 else 0 end) as anonymous_occurrences
    from pain_points
    group by moment_type

),

customer_hits as (

    select
        moment_type,
        customer_key,
        min(occurred_at) as first_hit_at,
        count(*) as hits
    from pain_points
    where customer_key is not null
    group by
        moment_type,
        customer_key

),

-- every active customer against every moment type: hit or not
exposure as (

    select
        moment_types.moment_type,
        active_customers.customer_key,
        active_customers.is_churned,
        active_customers.churn_cutoff_at,
        active_customers.first_touchpoint_at,
        customer_hits.first_hit_at,
        customer_hits.customer_key is not null as is_hit
    from moment_types
    cross join active_customers
    left join customer_hits
        on moment_types.moment_type = customer_hits.moment_type
        and active_customers.customer_key = customer_hits.customer_key

),

churn as (

    select
        moment_type,
        sum(case when is_hit then 1 else 0 end) as customers_hit,
        count(*) as active_customers,
        sum(case when is_hit and first_hit_at < churn_cutoff_at then 1 else 0 end) as hit_customers_churn_eligible,
        sum(
            case when is_hit and first_hit_at < churn_cutoff_at and is_churned then 1 else 0 end
        ) as hit_customers_churned,
        sum(
            case when not is_hit and first_touchpoint_at < churn_cutoff_at then 1 else 0 end
        ) as other_customers_churn_eligible,
        sum(
            case when not is_hit and first_touchpoint_at < churn_cutoff_at and is_churned then 1 else 0 end
        ) as other_customers_churned
    from exposure
    group by moment_type

),

satisfaction as (

    select
        exposure.moment_type,
        sum(case when exposure.is_hit and customer_responses.csat is not null then 1 else 0 end)
            as hit_csat_responses,
        avg(case when exposure.is_hit then customer_responses.csat end) as hit_csat_avg,
        avg(case when not exposure.is_hit then customer_responses.csat end) as other_csat_avg,
        sum(case when exposure.is_hit and customer_responses.nps is not null then 1 else 0 end)
            as hit_nps_responses,
        -- NPS as everywhere in the project (macro nps_index: % of 9-10 minus % of 0-6).
        {{ nps_index('case when exposure.is_hit then customer_responses.nps end') }} as hit_nps,
        {{ nps_index('case when not exposure.is_hit then customer_responses.nps end') }} as other_nps
    from exposure
    inner join customer_responses
        on exposure.customer_key = customer_responses.customer_key
    where not exposure.is_hit
        or customer_responses.responded_at >= exposure.first_hit_at
    group by exposure.moment_type

),

joined as (

    select
        moment_types.moment_type,
        moment_types.polarity,
        moment_types.moment_label,
        coalesce(occurrences.occurrences, 0) as occurrences,
        coalesce(occurrences.anonymous_occurrences, 0) as anonymous_occurrences,
        churn.customers_hit,
        churn.active_customers,
        satisfaction.hit_csat_responses,
        satisfaction.hit_csat_avg,
        satisfaction.other_csat_avg,
        satisfaction.hit_nps_responses,
        satisfaction.hit_nps,
        satisfaction.other_nps,
        churn.hit_customers_churn_eligible,
        churn.hit_customers_churned,
        churn.other_customers_churn_eligible,
        churn.other_customers_churned
    from moment_types
    inner join churn
        on moment_types.moment_type = churn.moment_type
    left join occurrences
        on moment_types.moment_type = occurrences.moment_type
    left join satisfaction
        on moment_types.moment_type = satisfaction.moment_type

),

rates as (

    select
        joined.*,
        {{ safe_ratio('customers_hit', 'active_customers') }} as share_of_active_customers,
        {{ safe_ratio('hit_customers_churned', 'hit_customers_churn_eligible') }} as hit_churn_rate,
        {{ safe_ratio('other_customers_churned', 'other_customers_churn_eligible') }} as other_churn_rate
    from joined

),

final as (

    select
        moment_type,
        polarity,
        moment_label,
        rank() over (partition by polarity order by customers_hit desc) as customer_rank,
        customers_hit,
        active_customers,
        share_of_active_customers,
        occurrences,
        anonymous_occurrences,
        hit_csat_responses,
        hit_csat_avg,
        other_csat_avg,
        hit_csat_avg - other_csat_avg as csat_difference,
        hit_nps_responses,
        hit_nps,
        other_nps,
        hit_nps - other_nps as nps_difference,
        hit_customers_churn_eligible,
        hit_customers_churned,
        hit_churn_rate,
        other_customers_churn_eligible,
        other_customers_churned,
        other_churn_rate,
        hit_churn_rate - other_churn_rate as churn_rate_difference,
        hit_churn_rate / nullif(other_churn_rate, 0) as churn_lift
    from rates

)

select * from final
