{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='visitor_id',
    )
}}

-- Web sessions attributed to customers: one row per session of int_web_events_sessionized.
--
-- Stitching rule, per browser (cookie), in this order:
--   login     the customer of the session's own logged-in events (account_id set; the last one when a session
--             holds several accounts);
--   backward  else the customer of the cookie's NEAREST LATER session with a login: when a cookie logs in,
--             its earlier anonymous sessions go to that customer (they are recomputed on every run, so a
--             login that arrives tonight re-attributes last month's sessions);
--   forward   else the customer of the cookie's nearest earlier session with a login (the same browser after
--             the customer logged out);
--   identity  else the customer identity resolution attributed the session's events to (int_records_resolved);
--   anonymous else none: customer_key is null.
-- A login whose account belongs to an erased person (int_records_resolved.is_erased_subject) stitches
-- nothing: sessions that would take it stay anonymous (stitch_method `erased`), and are not given to the
-- next account on the cookie.
--
-- Incremental per visitor: a night re-stitches exactly the visitors int_web_events_sessionized recomputed since
-- this model last ran (new events, withdrawn events, or a changed attribution of any of their events), from all
-- their sessions, so a login tonight re-attributes the cookie's earlier sessions; a visitor left without events
-- loses its sessions.

{%- set visitors_may_vanish = false -%}
{%- if execute and is_incremental() -%}
    {%- set withdrawn = run_query(
        "select count(*) from " ~ load_manifest_relation() ~ " where status = 'replaced'"
        ~ " and " ~ adapter.quote('extract') ~ " = 'web_events'"
    ) -%}
    {%- set visitors_may_vanish = withdrawn.columns[0].values()[0] > 0 -%}
{%- endif %}

with

-- read twice on an incremental night: inlined, each use streams (materialised whole it is every web event)
sessionized_events as {{ not_materialized() }} (

    select * from {{ ref('int_web_events_sessionized') }}

),

{% if is_incremental() %}
affected_visitors as (

    select distinct visitor_id
    from sessionized_events
    where _batch_at > {{ incremental_watermark('_source_batch_at') }}
    {% if visitors_may_vanish %}
    -- a re-delivery withdrew every event of a visitor: its sessions go
    union
    select previous.visitor_id
    from {{ this }} as previous
    left join sessionized_events
        on previous.visitor_id = sessionized_events.visitor_id
    where sessionized_events.visitor_id is null
    {% endif %}

),

events as (

    select sessionized_events.*
    from sessionized_events
    inner join affected_visitors
        on sessionized_events.visitor_id = affected_visitors.visitor_id

),
{% else %}
events as (

    select * from sessionized_events

),
{% endif %}

sessions as (

    select
        session_id,
        visitor_id,
        min(visitor_session_no) as visitor_session_no,
        max(anonymous_id) as anonymous_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        sum(case when event_type = 'page_view' then 1 else 0 end) as page_view_count,
        sum(case when event_type = 'product_view' then 1 else 0 end) as product_view_count,
        sum(case when event_type = 'search' then 1 else 0 end) as search_count,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_cart_count,
        sum(case when event_type = 'checkout_start' then 1 else 0 end) as checkout_start_count,
        sum(case when event_type = 'order_complete' then 1 else 0 end) as order_complete_count,
        sum(case when event_type = 'login' then 1 else 0 end) as login_count,
        sum(case when event_type = 'help_page_view' then 1 else 0 end) as help_page_view_count,
        max(case when account_id is not null then 1 else 0 end) = 1 as is_logged_in,
        max(_batch_at) as _source_batch_at
    from events
    group by
        session_id,
        visitor_id

),

landings as (

    select
        session_id,
        utm_source as landing_utm_source,
        utm_campaign as landing_utm_campaign
    from events
    where is_session_start

),

-- the session's own login: its last logged-in event whose account resolves (or belongs to an erased person)
ranked_logins as (

    select
        session_id,
        customer_key,
        is_erased_subject,
        row_number() over (
            partition by session_id
            order by occurred_at desc nulls last, event_id desc
        ) as login_rank
    from events
    where account_id is not null
        and (customer_key is not null or is_erased_subject)

),

session_logins as (

    select
        session_id,
        -- '~' marks an erased person's login: it blocks stitching and resolves to no customer
        coalesce(customer_key, '~') as login_subject
    from ranked_logins
    where login_rank = 1

),

-- what identity resolution says about the session's events (the first event that resolves)
ranked_identity as (

    select
        session_id,
        customer_key,
        row_number() over (
            partition by session_id
            order by occurred_at nulls last, event_id
        ) as identity_rank
    from events
    where customer_key is not null

),

session_identity as (

    select
        session_id,
        customer_key as identity_customer_key
    from ranked_identity
    where identity_rank = 1

),

sequenced as (

    select
        sessions.*,
        landings.landing_utm_source,
        landings.landing_utm_campaign,
        session_logins.login_subject,
        session_identity.identity_customer_key,
        row_number() over (
            partition by sessions.visitor_id
            order by sessions.started_at nulls last, sessions.session_id
        ) as visitor_seq
    from sessions
    left join landings
        on sessions.session_id = landings.session_id
    left join session_logins
        on sessions.session_id = session_logins.session_id
    left join session_identity
        on sessions.session_id = session_identity.session_id

),

-- login markers sort by session order: '<10-digit sequence><subject>'; the nearest later login is the
-- minimum marker after the session, the nearest earlier login the maximum marker before it
marked as (

    select
        sequenced.*,
        case
            when sequenced.login_subject is not null
                then {{ dbt.concat([
                    "lpad(cast(sequenced.visitor_seq as " ~ dbt.type_string() ~ "), 10, '0')",
                    'sequenced.login_subject',
                ]) }}
        end as login_marker
    from sequenced

),

neighbours as (

    select
        marked.*,
        min(marked.login_marker) over (
            partition by marked.visitor_id
            order by marked.visitor_seq
            rows between 1 following and unbounded following
        ) as next_login_marker,
        max(marked.login_marker) over (
            partition by marked.visitor_id
            order by marked.visitor_seq
            rows between unbounded preceding and 1 preceding
        ) as previous_login_marker
    from marked

),

stitched as (

    select
        neighbours.*,
        case
            when neighbours.login_subject is not null then 'login'
            when neighbours.next_login_marker is not null then 'backward'
            when neighbours.previous_login_marker is not null then 'forward'
            when neighbours.identity_customer_key is not null then 'identity'
            else 'anonymous'
        end as stitch_source,
        coalesce(
            neighbours.login_subject,
            substring(neighbours.next_login_marker, 11),
            substring(neighbours.previous_login_marker, 11),
            neighbours.identity_customer_key
        ) as stitched_subject
    from neighbours

),

stitched_sessions as (

    select

        ---------- ids
        session_id,
        case when stitched_subject <> '~' then stitched_subject end as customer_key,
        visitor_id,
        anonymous_id,
        visitor_session_no,

        ---------- strings
        case when stitched_subject = '~' then 'erased' else stitch_source end as stitch_method,
        landing_utm_source,
        landing_utm_campaign,

        ---------- numerics
        event_count,
        page_view_count,
        product_view_count,
        search_count,
        add_to_cart_count,
        checkout_start_count,
        order_complete_count,
        login_count,
        help_page_view_count,
        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds,

        ---------- booleans
        is_logged_in,
        landing_utm_source is not null as is_campaign_landing,
        order_complete_count > 0 as has_order_complete,

        ---------- timestamps
        started_at,
        ended_at,

        ---------- lineage
        _source_batch_at,
        {{ batch_stamp() }} as _batch_at

    from stitched

),

final as (
    {{ recompute_batch('affected_visitors', 'stitched_sessions', 'visitor_id') }}
)

select * from final
