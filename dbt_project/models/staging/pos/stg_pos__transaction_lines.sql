{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='transaction_line_id',
    )
}}

-- One row per POS receipt line (transaction_id + line_no). A line delivered more than once keeps
-- its latest delivery. The register time is delivered in Amsterdam local time and converted to UTC.
-- Incremental (macros/utils/incremental.sql): a night ranks only the rows of new loads (and of the lookback
-- days) against the copy already kept, so a late file or a re-delivery of any older day is picked up; a key
-- whose kept copy a re-delivery withdrew is re-ranked over everything raw still holds for it.

with

{% if is_incremental() %}
withdrawn_keys as (

    select transaction_line_id
    from {{ this }}
    where {{ is_withdrawn_load('pos_transactions') }}

),
{% endif %}

source as (

    select * from {{ source('pos', 'pos_transactions') }}
    {% if is_incremental() %}
    where {{ is_new_load() }}
        or {{ dbt.concat([clean_string('transaction_id'), "'-'", 'cast(line_no as ' ~ dbt.type_string() ~ ')']) }} in (select transaction_line_id from withdrawn_keys)
    {% endif %}

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

    from source

),

{% if is_incremental() %}
affected_keys as (

    select transaction_line_id from renamed
    union
    select transaction_line_id from withdrawn_keys

),

kept_rows as (

    select previous.*
    from {{ this }} as previous
    inner join affected_keys
        on previous.transaction_line_id = affected_keys.transaction_line_id
    where not {{ is_withdrawn_load('pos_transactions', 'previous.') }}

),

candidates as (

    select * from renamed
    union all
    select * from kept_rows

),
{% else %}
candidates as (

    select * from renamed

),
{% endif %}

ranked as (

    select
        candidates.*,
        row_number() over (
            partition by candidates.transaction_line_id
            order by {{ latest_delivery_first('candidates.') }}
        ) as delivery_rank
    from candidates

),

deduplicated as (

    select
        transaction_line_id,
        transaction_id,
        line_no,
        store_id,
        loyalty_card_no,
        sku,
        payment_method,
        quantity,
        unit_price_eur,
        discount_eur,
        line_amount_eur,
        is_return,
        registered_at,
        registered_at_local,
        _file_name,
        _business_date,
        _delivery_no,
        _row_no,
        _loaded_at
    from ranked
    where delivery_rank = 1

),

final as (
    {{ recompute_batch('affected_keys', 'deduplicated', 'transaction_line_id') }}
)

select * from final
