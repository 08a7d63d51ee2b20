-- The returns of each order's latest version: the child rows of the winning order row of
-- stg_webshop__orders (same file and row number: the loader gives child rows their parent's _row_no).
-- Return lists of earlier versions, and of other copies of the same version, are not kept.

with

source as (

    select * from {{ source('webshop', 'webshop_order_returns') }}

),

orders as (

    select * from {{ ref('stg_webshop__orders') }}

),

latest_version_returns as (

    select
        source.*,
        row_number() over (
            partition by orders.order_id, source.return_no
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source
    inner join orders
        on {{ clean_string('source.order_id') }} = orders.order_id
        and (
            source.updated_at = orders.updated_at
            or (source.updated_at is null and orders.updated_at is null)
        )
        and source._file_name = orders._file_name
        and source._row_no = orders._row_no

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            clean_string('order_id'),
            "'-'",
            'cast(return_no as ' ~ dbt.type_string() ~ ')',
        ]) }} as order_return_id,
        {{ clean_string('order_id') }} as order_id,
        return_no,
        {{ clean_string('sku') }} as sku,

        ---------- strings
        {{ clean_string('reason') }} as return_reason,

        ---------- numerics
        qty as quantity,

        ---------- timestamps
        returned_at,
        updated_at as order_updated_at,

        ---------- lineage
        _file_name,
        _business_date,
        _delivery_no,
        _row_no,
        _loaded_at

    from latest_version_returns
    where delivery_rank = 1

)

select * from renamed
