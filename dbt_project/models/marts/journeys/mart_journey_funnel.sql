-- Journey funnel: stage-to-stage conversion per journey type, week and entry channel. One row per journey type,
-- ISO week (Monday, Europe/Amsterdam, of the journey's start), entry channel and journey step (the steps and
-- their order come from the seed journey_funnel_steps).
--   journeys                  journeys of the cell (type, week, entry channel)
--   journeys_reached          of those, the journeys that reached the step
--   journeys_reached_previous the journeys that reached the previous FUNNEL step (side steps are skipped)
--   journeys_converted        the journeys that reached both
--   conversion_from_previous  journeys_converted / journeys_reached_previous (null for the first step)
--   share_of_journeys         journeys_reached / journeys
-- For a side step (is_funnel_step = false, e.g. return_or_contact) the conversion is the share of journeys at
-- the previous funnel step that also reached the side step. Recent weeks are still maturing: journeys of the
-- last weeks can still reach later steps on the next run.

with

journeys as (

    select * from {{ ref('fct_journeys') }}
    where started_on is not null

),

steps as (

    select * from {{ ref('journey_funnel_steps') }}

),

previous_steps as (

    select
        steps.journey_type,
        steps.journey_step,
        max(previous.step_order) as previous_step_order
    from steps
    left join steps as previous
        on steps.journey_type = previous.journey_type
        and previous.step_order < steps.step_order
        and previous.is_funnel_step
    group by
        steps.journey_type,
        steps.journey_step

),

step_pairs as (

    select
        steps.journey_type,
        steps.step_order,
        steps.journey_step,
        steps.journey_stage,
        steps.is_funnel_step,
        previous.journey_step as previous_journey_step
    from steps
    inner join previous_steps
        on steps.journey_type = previous_steps.journey_type
        and steps.journey_step = previous_steps.journey_step
    left join steps as previous
        on previous_steps.journey_type = previous.journey_type
        and previous_steps.previous_step_order = previous.step_order

),

journey_steps as (

    select
        journeys.journey_type,
        {{ week_start('journeys.started_on') }} as week_start,
        journeys.entry_channel,
        step_pairs.step_order,
        step_pairs.journey_step,
        step_pairs.journey_stage,
        step_pairs.is_funnel_step,
        step_pairs.previous_journey_step,
        case
            when journeys.stages_reached like {{ dbt.concat(["'%|'", 'step_pairs.journey_step', "'|%'"]) }}
                then 1 else 0
        end as reached,
        case
            when step_pairs.previous_journey_step is null then 0
            when journeys.stages_reached like {{ dbt.concat(["'%|'", 'step_pairs.previous_journey_step', "'|%'"]) }}
                then 1 else 0
        end as reached_previous
    from journeys
    inner join step_pairs
        on journeys.journey_type = step_pairs.journey_type

),

aggregated as (

    select
        journey_type,
        week_start,
        entry_channel,
        step_order,
        journey_step,
        journey_stage,
        is_funnel_step,
        previous_journey_step,
        count(*) as journeys,
        sum(reached) as journeys_reached,
        sum(reached_previous) as journeys_reached_previous,
        sum(reached * reached_previous) as journeys_converted
    from journey_steps
    group by
        journey_type,
        week_start,
        entry_channel,
        step_order,
        journey_step,
        journey_stage,
        is_funnel_step,
        previous_journey_step

),

final as (

    select
        journey_type,
        week_start,
        {{ iso_year('week_start') }} as iso_year,
        {{ iso_week_of_year('week_start') }} as iso_week,
        entry_channel,
        step_order,
        journey_step,
        journey_stage,
        is_funnel_step,
        previous_journey_step,
        journeys,
        journeys_reached,
        journeys_reached_previous,
        journeys_converted,
        case
            when previous_journey_step is not null
                then {{ safe_ratio('journeys_converted', 'journeys_reached_previous') }}
        end as conversion_from_previous,
        {{ safe_ratio('journeys_reached', 'journeys') }} as share_of_journeys
    from aggregated

)

select * from final
