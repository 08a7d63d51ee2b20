-- Webshop orders with their customer and delivery timing: one row per order (stg_webshop__orders).
--
-- Delivery timing compares DATES in Europe/Amsterdam: the promised date is a local calendar date, so the
-- delivery counts on the Amsterdam date of delivered_at (a parcel delivered at 00:30 local on the 6th, 22:30
-- UTC on the 5th, is delivered on the 6th).
--   late     delivered on a later date than promised_delivery_date (any time on the promised day is on time)
--   early    delivered on an earlier date than promised
--   on_time  delivered on the promised date
--   not_delivered / no_promise  no delivery time yet / no promised date (not judged)
-- The delivery time is the current version's delivered_at, else the first time a version said `delivered`.
-- An order that is still undelivered after its promised date is not (yet) counted as late.

with

orders as (

    select * from {{ ref('stg_webshop__orders') }}

),

order_items as (

    select * from {{ ref('stg_webshop__order_items') }}

),

order_returns as (

    select * from {{ ref('stg_webshop__order_returns') }}

),

records_resolved as (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_webshop__orders'

),

item_totals as (

    select
        order_id,
        count(*) as item_count,
        sum(quantity) as item_quantity,
        sum(item_amount_eur) as order_amount_eur
    from order_items
    group by order_id

),

return_totals as (

    select
        order_id,
        count(*) as return_count,
        sum(quantity) as returned_quantity,
        min(returned_at) as first_returned_at,
        max(returned_at) as last_returned_at
    from order_returns
    group by order_id

),

deliveries as (

    select
        orders.*,
        coalesce(orders.delivered_at, orders.first_delivered_at) as delivered_at_effective,
        case
            when coalesce(orders.delivered_at, orders.first_delivered_at) is not null
                then {{ amsterdam_date('coalesce(orders.delivered_at, orders.first_delivered_at)') }}
        end as delivered_on
    from orders

),

final as (

    select

        ---------- ids
        deliveries.order_id,
        records_resolved.customer_key,

        ---------- strings
        deliveries.status,
        case
            when deliveries.delivered_on is null then 'not_delivered'
            when deliveries.promised_delivery_date is null then 'no_promise'
            when deliveries.delivered_on > deliveries.promised_delivery_date then 'late'
            when deliveries.delivered_on < deliveries.promised_delivery_date then 'early'
            else 'on_time'
        end as delivery_timing,
        deliveries.shipping_postcode_area,

        ---------- numerics
        case
            when deliveries.delivered_on is not null and deliveries.promised_delivery_date is not null
                then {{ dbt.datediff('deliveries.promised_delivery_date', 'deliveries.delivered_on', 'day') }}
        end as delivery_delay_days,
        coalesce(item_totals.item_count, 0) as item_count,
        coalesce(item_totals.item_quantity, 0) as item_quantity,
        item_totals.order_amount_eur,
        coalesce(return_totals.return_count, 0) as return_count,
        coalesce(return_totals.returned_quantity, 0) as returned_quantity,

        ---------- booleans
        coalesce(deliveries.is_cancelled, false) as is_cancelled,
        deliveries.delivered_on is not null as is_delivered,
        coalesce(deliveries.delivered_on > deliveries.promised_delivery_date, false) as is_late_delivery,
        coalesce(deliveries.delivered_on < deliveries.promised_delivery_date, false) as is_early_delivery,
        coalesce(return_totals.return_count, 0) > 0 as has_return,

        ---------- dates
        deliveries.promised_delivery_date,
        deliveries.delivered_on,

        ---------- timestamps
        deliveries.ordered_at,
        case
            when coalesce(deliveries.is_cancelled, false)
                then coalesce(deliveries.first_cancelled_at, deliveries.updated_at)
        end as cancelled_at,
        deliveries.first_shipped_at as shipped_at,
        deliveries.delivered_at_effective as delivered_at,
        return_totals.first_returned_at,
        return_totals.last_returned_at

    from deliveries
    left join records_resolved
        on deliveries.order_id = records_resolved.record_id
    left join item_totals
        on deliveries.order_id = item_totals.order_id
    left join return_totals
        on deliveries.order_id = return_totals.order_id

)

select * from final
