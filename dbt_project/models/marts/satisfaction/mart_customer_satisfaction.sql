-- Each customer's satisfaction: one row per customer with at least one survey response (attributed to a
-- customer in dim_customer). latest_* = the answer to that item in the customer's most recent response that
-- answered it (a skipped item does not blank an earlier answer); trailing_90d_* = the customer's responses in
-- the 90 days before the scoring date (the day after the latest business date
-- loaded, int_feature_snapshot_dates), so a history delivered today reports as of its own last day.

{%- set trailing_days = 90 %}
{%- set items = ['nps', 'csat', 'ces', 'effectiveness', 'ease', 'emotion'] %}

with

responses as (

    select * from {{ ref('int_survey_responses_enriched') }}
    where customer_key is not null

),

customers as (

    select * from {{ ref('dim_customer') }}

),

scoring_date as (

    select as_of as scores_as_of
    from {{ ref('int_feature_snapshot_dates') }}
    where snapshot_role = 'scoring'

),

ranked as (

    select
        responses.*,
        row_number() over (
            partition by responses.customer_key
            order by responses.responded_at desc, responses.response_id desc
        ) as response_rank,
        {%- for item in items %}
        row_number() over (
            partition by responses.customer_key
            order by
                case when responses.{{ item }} is null then 1 else 0 end,
                responses.responded_at desc,
                responses.response_id desc
        ) as {{ item }}_rank{{ ',' if not loop.last }}
        {%- endfor %}
    from responses
    inner join customers
        on responses.customer_key = customers.customer_key

),

latest as (

    select
        customer_key,
        max(case when response_rank = 1 then responded_at end) as latest_responded_at,
        max(case when response_rank = 1 then survey_type end) as latest_survey_type,
        max(case when response_rank = 1 then channel end) as latest_channel,
        {%- for item in items %}
        max(case when {{ item }}_rank = 1 then {{ item }} end) as latest_{{ item }},
        {%- endfor %}
        min(responded_at) as first_responded_at,
        count(*) as responses,
        count(nps) as nps_responses
    from ranked
    group by customer_key

),

trailing_window as (

    select
        responses.customer_key,
        count(*) as trailing_90d_responses,
        count(responses.nps) as trailing_90d_nps_responses,
        {{ nps_index('responses.nps') }} as trailing_90d_nps,
        {{ avg_score('responses.nps') }} as trailing_90d_nps_avg,
        {{ avg_score('responses.csat') }} as trailing_90d_csat_avg,
        {{ avg_score('responses.ces') }} as trailing_90d_ces_avg,
        {{ avg_score('responses.effectiveness') }} as trailing_90d_effectiveness_avg,
        {{ avg_score('responses.ease') }} as trailing_90d_ease_avg,
        {{ avg_score('responses.emotion') }} as trailing_90d_emotion_avg
    from responses
    cross join scoring_date
    where responses.responded_on < scoring_date.scores_as_of
        and responses.responded_on >= {{ dbt.dateadd('day', -trailing_days, 'scoring_date.scores_as_of') }}
    group by responses.customer_key

),

final as (

    select

        ---------- grain
        latest.customer_key,

        ---------- all responses
        latest.responses,
        latest.nps_responses,
        latest.first_responded_at,

        ---------- latest answers
        latest.latest_responded_at,
        latest.latest_survey_type,
        latest.latest_channel,
        latest.latest_nps,
        {{ nps_category('latest.latest_nps') }} as latest_nps_category,
        latest.latest_csat,
        latest.latest_ces,
        latest.latest_effectiveness,
        latest.latest_ease,
        latest.latest_emotion,

        ---------- trailing window before the scoring date
        scoring_date.scores_as_of,
        coalesce(trailing_window.trailing_90d_responses, 0) as trailing_90d_responses,
        coalesce(trailing_window.trailing_90d_nps_responses, 0) as trailing_90d_nps_responses,
        trailing_window.trailing_90d_nps,
        trailing_window.trailing_90d_nps_avg,
        trailing_window.trailing_90d_csat_avg,
        trailing_window.trailing_90d_ces_avg,
        trailing_window.trailing_90d_effectiveness_avg,
        trailing_window.trailing_90d_ease_avg,
        trailing_window.trailing_90d_emotion_avg

    from latest
    cross join scoring_date
    left join trailing_window
        on latest.customer_key = trailing_window.customer_key

)

select * from final
