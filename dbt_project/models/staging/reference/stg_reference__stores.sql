-- The store list as of the latest full snapshot: only rows of the latest business date present in
-- raw. A store_id repeated within that snapshot keeps its latest delivery.

with

source as (

    select * from {{ source('reference', 'stores') }}

),

latest_snapshot as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.store_id') }}
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source
    where source._business_date = (select max(snapshots._business_date) from source as snapshots)

),

renamed as (

    select

        ---------- ids
        {{ clean_string('store_id') }} as store_id,

        ---------- strings
        {{ clean_string('store_name') }} as store_name,
        {{ clean_string('city') }} as city,
        {{ clean_string('province') }} as province,

        ---------- dates
        opened_on,
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
