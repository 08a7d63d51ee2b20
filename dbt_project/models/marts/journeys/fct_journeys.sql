-- Journey instances: one row per order journey (int_order_journeys_assembled) and per service journey
-- (int_service_journeys_assembled), with start, end, the steps reached (journey_funnel_steps), outcome and
-- duration. customer_key is null for a journey of an anonymous browser (browsing that never logged in).

with

order_journeys as (

    select * from {{ ref('int_order_journeys_assembled') }}

),

service_journeys as (

    select * from {{ ref('int_service_journeys_assembled') }}

),

unioned as (

    select
        journey_id,
        journey_type,
        customer_key,
        entry_channel,
        entry_source,
        stages_reached,
        outcome,
        steps_reached,
        order_id,
        cast(null as {{ dbt.type_string() }}) as case_id,
        session_count,
        contact_count,
        return_count,
        survey_count,
        is_late_delivery,
        duration_seconds,
        time_to_resolution_seconds,
        started_at,
        cast(null as {{ dbt.type_timestamp() }}) as resolved_at,
        ended_at
    from order_journeys
    union all
    select
        journey_id,
        journey_type,
        customer_key,
        entry_channel,
        entry_source,
        stages_reached,
        outcome,
        steps_reached,
        cast(null as {{ dbt.type_string() }}) as order_id,
        case_id,
        0 as session_count,
        contact_count,
        0 as return_count,
        survey_count,
        cast(null as boolean) as is_late_delivery,
        duration_seconds,
        time_to_resolution_seconds,
        started_at,
        resolved_at,
        ended_at
    from service_journeys

),

final as (

    select

        ---------- ids
        journey_id,
        customer_key,
        order_id,
        case_id,

        ---------- strings
        journey_type,
        entry_channel,
        entry_source,
        stages_reached,
        outcome,

        ---------- numerics
        steps_reached,
        session_count,
        contact_count,
        return_count,
        survey_count,
        duration_seconds,
        cast(duration_seconds as {{ type_double() }}) / 3600 as duration_hours,
        time_to_resolution_seconds,

        ---------- booleans
        is_late_delivery,

        ---------- dates
        case when started_at is not null then {{ amsterdam_date('started_at') }} end as started_on,

        ---------- timestamps
        started_at,
        resolved_at,
        ended_at

    from unioned

)

select * from final
