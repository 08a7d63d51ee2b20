-- One row per web session (30-minute inactivity rule), attributed to a customer by stitching (see
-- int_web_sessions_stitched). BI-safe: the cookie and account ids are left out; session_id is a hash.

with

web_sessions as (

    select * from {{ ref('int_web_sessions_stitched') }}

),

final as (

    select

        ---------- ids
        session_id,
        customer_key,

        ---------- strings
        stitch_method,
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
        duration_seconds,

        ---------- booleans
        is_logged_in,
        is_campaign_landing,
        has_order_complete,

        ---------- dates
        case when started_at is not null then {{ amsterdam_date('started_at') }} end as started_on,

        ---------- timestamps
        started_at,
        ended_at

    from web_sessions

)

select * from final
