-- The current state of each webshop order (the version with the latest updated_at; ties broken by
-- the latest delivery), plus the first time each status was seen across all its versions.

with

order_versions as (

    select * from {{ ref('stg_webshop__order_versions') }}

),

ranked as (

    select
        order_versions.*,
        row_number() over (
            partition by order_versions.order_id
            order by
                order_versions.updated_at desc nulls last,
                {{ latest_delivery_first('order_versions.') }}
        ) as version_rank
    from order_versions

),

status_history as (

    select
        order_versions.order_id,
        count(*) as version_count,
        min(
            case when order_versions.status = 'shipped' then order_versions.updated_at end
        ) as first_shipped_at,
        min(
            case
                when order_versions.status = 'delivered'
                    then coalesce(order_versions.delivered_at, order_versions.updated_at)
            end
        ) as first_delivered_at,
        min(
            case when order_versions.status = 'cancelled' then order_versions.updated_at end
        ) as first_cancelled_at
    from order_versions
    group by order_versions.order_id

),

final as (

    select

        ---------- ids
        ranked.order_id,
        ranked.account_id,

        ---------- strings
        ranked.email,
        ranked.shipping_postcode,
        ranked.shipping_postcode_area,
        ranked.status,

        ---------- numerics
        status_history.version_count,

        ---------- booleans
        ranked.status = 'cancelled' as is_cancelled,

        ---------- dates
        ranked.promised_delivery_date,

        ---------- timestamps
        ranked.ordered_at,
        ranked.updated_at,
        ranked.delivered_at,
        status_history.first_shipped_at,
        status_history.first_delivered_at,
        status_history.first_cancelled_at,

        ---------- lineage
        ranked._file_name,
        ranked._business_date,
        ranked._delivery_no,
        ranked._row_no,
        ranked._loaded_at

    from ranked
    inner join status_history
        on ranked.order_id = status_history.order_id
    where ranked.version_rank = 1

)

select * from final
