-- BI-facing fct_touchpoints: one row per customer interaction in any channel, without source ids, sessions
-- or order ids. Published as main.fct_touchpoints.

with

touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

projected as (

    select

        ---------- ids
        touchpoint_id,
        customer_key,

        ---------- strings
        channel,
        touchpoint_type,
        journey_stage,

        ---------- numerics
        journey_stage_order,

        ---------- dates
        occurred_at,
        occurred_on

    from touchpoints

)

select * from projected
