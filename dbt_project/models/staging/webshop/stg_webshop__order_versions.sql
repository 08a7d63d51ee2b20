-- Every distinct version of a webshop order: one row per order_id + updated_at. The same version
-- delivered more than once is one row, from its latest delivery (whose _file_name locates its items
-- and returns in the child tables).

with

source as (

    select * from {{ source('webshop', 'webshop_orders') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.order_id') }}, source.updated_at
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source

),

renamed as (

    select

        ---------- ids
        {{ clean_string('order_id') }} as order_id,
        {{ clean_string('account_id') }} as account_id,

        ---------- strings
        {{ normalise_email('email') }} as email,
        {{ normalise_postcode('shipping_postcode') }} as shipping_postcode,
        {{ postcode_area(normalise_postcode('shipping_postcode')) }} as shipping_postcode_area,
        {{ clean_string('status') }} as status,

        ---------- dates
        promised_delivery_date,

        ---------- timestamps
        ordered_at,
        updated_at,
        delivered_at,

        ---------- lineage
        _file_name,
        _business_date,
        _delivery_no,
        _row_no,
        _loaded_at

    from ranked
    where delivery_rank = 1

)

select * from renamed
