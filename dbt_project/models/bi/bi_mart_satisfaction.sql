-- BI-facing mart_satisfaction: one row per day (Europe/Amsterdam) x channel x survey type with NPS, CSAT,
-- CES and the three E's. Published as main.mart_satisfaction.

with

satisfaction as (

    select * from {{ ref('mart_satisfaction') }}

),

projected as (

    select

        ---------- grain
        date,
        channel,
        survey_type,

        ---------- counts
        responses,
        nps_responses,

        ---------- scores
        nps,
        csat_avg,
        ces_avg,
        effectiveness_avg,
        ease_avg,
        emotion_avg

    from satisfaction

)

select * from projected
