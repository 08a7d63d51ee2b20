{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='visitor_id',
    )
}}

-- Web events cut into sessions: one row per web event (stg_web__events) with its session.
--
-- Session rule (30 minutes of inactivity): the events of one browser (the cookie, anonymous_id) ordered by
-- time form one session as long as each event follows the previous one by LESS than 30 minutes; a gap of
-- 30:00 or more starts a new session. Sessions are not cut at midnight or when a campaign changes.
-- An event without a cookie is grouped by its account (logged in), else it is a session of its own; an event
-- without a time is a session of its own. session_id is a hash of the session's first event_id.
-- Each event also carries the customer identity resolution attributes it to (int_records_resolved), which
-- stitching (int_web_sessions_stitched) starts from.
--
-- Incremental per visitor (macros/utils/incremental.sql): a night recomputes every visitor with an event that is
-- new or changed in staging (also when the event moved to another visitor), whose event a re-delivery withdrew,
-- or whose events identity resolution now attributes differently (a merge or an erasure re-attributes history);
-- such a visitor's sessions are cut again from all its events. Other visitors are not read.

with

-- web_events, records_resolved and all_keyed are read more than once on an incremental night (all_keyed by
-- changed_events and keyed, so web_events by both): inlined, each use streams. DuckDB materialises a CTE that is
-- read twice, and each of these is every web event (EXPLAIN of the incremental SQL showed web_events
-- materialised whole; the 1M-customer incremental night ran out of disk in this model's spill).
web_events as {{ not_materialized() }} (

    select * from {{ ref('stg_web__events') }}

),

records_resolved as {{ not_materialized() }} (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_web__events'

),

all_keyed as {{ not_materialized() }} (

    select
        web_events.*,
        coalesce(
            {{ dbt.concat(["'cookie:'", 'web_events.anonymous_id']) }},
            {{ dbt.concat(["'account:'", 'web_events.account_id']) }},
            {{ dbt.concat(["'event:'", 'web_events.event_id']) }}
        ) as visitor_id
    from web_events

),

{% if is_incremental() %}
changed_events as (

    select
        event_id,
        visitor_id
    from all_keyed
    where _loaded_at > {{ incremental_watermark('_loaded_at') }}

),

affected_visitors as (

    -- new or changed events, and the visitor such an event belonged to before
    select visitor_id from changed_events
    union
    select previous.visitor_id
    from {{ this }} as previous
    inner join changed_events
        on previous.event_id = changed_events.event_id
    -- events whose delivery was withdrawn by a re-delivery
    union
    select visitor_id
    from {{ this }}
    where {{ is_withdrawn_load('web_events') }}
    -- events identity resolution attributed again since (a merge, a split, an erasure, a new link)
    union
    select previous.visitor_id
    from {{ this }} as previous
    inner join records_resolved
        on previous.event_id = records_resolved.record_id
    where records_resolved._changed_at > {{ incremental_watermark('_batch_at') }}

),

keyed as (

    select all_keyed.*
    from all_keyed
    inner join affected_visitors
        on all_keyed.visitor_id = affected_visitors.visitor_id

),
{% else %}
keyed as (

    select * from all_keyed

),
{% endif %}

lagged as (

    select
        keyed.*,
        lag(keyed.occurred_at) over (
            partition by keyed.visitor_id
            order by keyed.occurred_at nulls last, keyed.event_id
        ) as previous_occurred_at
    from keyed

),

flagged as (

    select
        lagged.*,
        case
            when lagged.occurred_at is null or lagged.previous_occurred_at is null then 1
            when lagged.occurred_at >= {{ dbt.dateadd('minute', 30, 'lagged.previous_occurred_at') }} then 1
            else 0
        end as is_session_start
    from lagged

),

-- visitor_session_no counts the session starts up to each event; the session's first event is the latest start
-- up to it, over the same window (a self-join of the events on the session number made DuckDB materialise them all)
numbered as (

    select
        flagged.*,
        sum(flagged.is_session_start) over (
            partition by flagged.visitor_id
            order by flagged.occurred_at nulls last, flagged.event_id
            rows between unbounded preceding and current row
        ) as visitor_session_no,
        {{ last_value_ignore_nulls('case when flagged.is_session_start = 1 then flagged.event_id end') }} over (
            partition by flagged.visitor_id
            order by flagged.occurred_at nulls last, flagged.event_id
            rows between unbounded preceding and current row
        ) as session_first_event_id
    from flagged

),

sessionized as (

    select

        ---------- ids
        numbered.event_id,
        {{ journeys_key(["'web_session'", 'numbered.session_first_event_id']) }} as session_id,
        numbered.visitor_id,
        numbered.visitor_session_no,
        numbered.anonymous_id,
        numbered.account_id,
        numbered.sku,

        ---------- strings
        numbered.event_type,
        numbered.url,
        numbered.utm_source,
        numbered.utm_campaign,

        ---------- numerics
        case
            when numbered.is_session_start = 0
                then {{ dbt.datediff('numbered.previous_occurred_at', 'numbered.occurred_at', 'second') }}
        end as seconds_since_previous_event,

        ---------- booleans
        numbered.is_session_start = 1 as is_session_start,

        ---------- timestamps
        numbered.occurred_at,

        ---------- identity
        records_resolved.customer_key,
        coalesce(records_resolved.is_erased_subject, false) as is_erased_subject,

        ---------- lineage
        numbered._file_name,
        numbered._loaded_at,
        {{ batch_stamp() }} as _batch_at

    from numbered
    left join records_resolved
        on numbered.event_id = records_resolved.record_id

),

final as (
    {{ recompute_batch('affected_visitors', 'sessionized', 'visitor_id') }}
)

select * from final
