-- The product catalogue as of the latest full snapshot: only rows of the latest business date
-- present in raw (a product missing from it is no longer in the catalogue). A sku repeated within
-- that snapshot keeps its latest delivery.

with

source as (

    select * from {{ source('reference', 'products') }}

),

latest_snapshot as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.sku') }}
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source
    where source._business_date = (select max(snapshots._business_date) from source as snapshots)

),

renamed as (

    select

        ---------- ids
        {{ clean_string('sku') }} as sku,

        ---------- strings
        {{ clean_string('product_name') }} as product_name,
        {{ clean_string('category') }} as category,
        {{ clean_string('subcategory') }} as subcategory,
        {{ clean_string('brand') }} as brand,

        ---------- numerics
        list_price_eur,

        ---------- booleans
        case {{ clean_string('active') }}
            when 'true' then true
            when 'false' then false
        end as is_active,

        ---------- dates
        _business_date as snapshot_date,

        ---------- lineage
        _file_name,
        _business_date,
        _delivery_no,
        _row_no,
        _loaded_at

    from latest_snapshot
    where delivery_rank = 1

)

select * from renamed
