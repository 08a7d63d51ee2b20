-- One row per POS receipt line (transaction_id + line_no). A line delivered more than once keeps
-- its latest delivery. The register time is delivered in Amsterdam local time and converted to UTC.

with

source as (

    select * from {{ source('pos', 'pos_transactions') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.transaction_id') }}, source.line_no
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            clean_string('transaction_id'),
            "'-'",
            'cast(line_no as ' ~ dbt.type_string() ~ ')',
        ]) }} as transaction_line_id,
        {{ clean_string('transaction_id') }} as transaction_id,
        line_no,
        {{ clean_string('store_id') }} as store_id,
        {{ clean_string('loyalty_card_no') }} as loyalty_card_no,
        {{ clean_string('sku') }} as sku,

        ---------- strings
        lower({{ clean_string('payment_method') }}) as payment_method,

        ---------- numerics
        quantity,
        unit_price_eur,
        discount_eur,
        quantity * unit_price_eur - coalesce(discount_eur, 0) as line_amount_eur,

        ---------- booleans
        coalesce(quantity < 0, false) as is_return,

        ---------- timestamps
        {{ amsterdam_local_to_utc('register_ts') }} as registered_at,
        register_ts as registered_at_local,

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
