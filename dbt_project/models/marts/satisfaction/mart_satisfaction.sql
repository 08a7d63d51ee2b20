-- Contract table: one row per day (Europe/Amsterdam date of responded_at) x channel (of the surveyed
-- touchpoint, int_survey_responses_enriched) x survey type. NPS = % promoters (9-10) - % detractors (0-6) among
-- the responses with an NPS answer (macro nps_index); the other scores are plain means of the answers given.
-- Responses without a survey type or a response time cannot be placed in the grain and are left out.

with

responses as (

    select * from {{ ref('int_survey_responses_enriched') }}
    where survey_type is not null
        and responded_on is not null

),

aggregated as (

    select
        responded_on as date,
        channel,
        survey_type,
        count(*) as responses,
        count(nps) as nps_responses,
        cast(sum(case when {{ nps_category('nps') }} = 'promoter' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as promoters,
        cast(sum(case when {{ nps_category('nps') }} = 'detractor' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as detractors,
        {{ nps_index('nps') }} as nps,
        {{ avg_score('csat') }} as csat_avg,
        {{ avg_score('ces') }} as ces_avg,
        {{ avg_score('effectiveness') }} as effectiveness_avg,
        {{ avg_score('ease') }} as ease_avg,
        {{ avg_score('emotion') }} as emotion_avg
    from responses
    group by
        responded_on,
        channel,
        survey_type

),

final as (

    select

        ---------- grain
        date,
        channel,
        survey_type,

        ---------- counts
        responses,
        nps_responses,
        promoters,
        detractors,

        ---------- scores
        nps,
        csat_avg,
        ces_avg,
        effectiveness_avg,
        ease_avg,
        emotion_avg

    from aggregated

)

select * from final
