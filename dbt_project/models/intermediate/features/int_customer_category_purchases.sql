-- What each customer bought, per product category: one row per customer and category with a sale line in a
-- store receipt or an item in a (not cancelled) webshop order, over all loaded history. Used for the
-- cross-sell category of the next best action (mart_customer_personas); products missing from the latest
-- catalogue snapshot count under category `unknown`.

with

pos_transaction_lines as (

    select * from {{ ref('stg_pos__transaction_lines') }}
    where not is_return

),

order_items as (

    select * from {{ ref('stg_webshop__order_items') }}

),

orders as (

    select * from {{ ref('int_orders_evaluated') }}
    where customer_key is not null
        and not is_cancelled

),

records_resolved as (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_pos__transaction_lines'
        and customer_key is not null

),

products as (

    select * from {{ ref('stg_reference__products') }}

),

purchase_lines as (

    select
        records_resolved.customer_key,
        pos_transaction_lines.sku,
        pos_transaction_lines.line_amount_eur as amount_eur,
        pos_transaction_lines.registered_at as purchased_at
    from pos_transaction_lines
    inner join records_resolved
        on pos_transaction_lines.transaction_id = records_resolved.record_id
    union all
    select
        orders.customer_key,
        order_items.sku,
        order_items.item_amount_eur as amount_eur,
        orders.ordered_at as purchased_at
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id

),

final as (

    select
        purchase_lines.customer_key,
        coalesce(products.category, 'unknown') as category,
        count(*) as purchase_lines,
        -- summed as exact decimals, then made a double: the total does not depend on the order of the rows
        cast(sum(purchase_lines.amount_eur) as {{ type_double() }}) as spend_eur,
        max(purchase_lines.purchased_at) as last_purchased_at
    from purchase_lines
    left join products
        on purchase_lines.sku = products.sku
    group by
        purchase_lines.customer_key,
        coalesce(products.category, 'unknown')

)

select * from final
