{{ config(materialized='view') }}

-- A view: the rows live in the incremental int_touchpoints_unioned; this only adds the journey stage (two seed
-- lookups), so a night does not rewrite the whole history of touchpoints.

-- One row per customer interaction in any channel (the contract grain), with its journey stage from the
-- seed journey_touchpoint_taxonomy. What counts as one touchpoint per channel: int_touchpoints_unioned.

with

touchpoints as (

    select * from {{ ref('int_touchpoints_unioned') }}

),

taxonomy as (

    select * from {{ ref('journey_touchpoint_taxonomy') }}

),

stages as (

    select * from {{ ref('journey_stages') }}

),

final as (

    select

        ---------- ids
        touchpoints.touchpoint_id,
        touchpoints.customer_key,

        ---------- strings
        touchpoints.channel,
        touchpoints.touchpoint_type,
        taxonomy.journey_stage,

        ---------- numerics
        stages.stage_order as journey_stage_order,

        ---------- timestamps
        touchpoints.occurred_at,

        ---------- dates
        case
            when touchpoints.occurred_at is not null then {{ amsterdam_date('touchpoints.occurred_at') }}
        end as occurred_on,

        ---------- lineage
        touchpoints.source_model,
        touchpoints.source_id,
        touchpoints.session_id,
        touchpoints.order_id

    from touchpoints
    left join taxonomy
        on touchpoints.channel = taxonomy.channel
        and touchpoints.touchpoint_type = taxonomy.touchpoint_type
    left join stages
        on taxonomy.journey_stage = stages.journey_stage

)

select * from final
