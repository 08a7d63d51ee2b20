-- Only shared household identifiers may appear under several customers in identity_map: every other identifier
-- resolves to exactly one customer. Fails with the identifiers listed under more than one.

with

identity_map as (

    select * from {{ ref('identity_map') }}
    where not is_shared

),

final as (

    select
        id_type,
        id_value,
        count(distinct customer_key) as customers
    from identity_map
    group by
        id_type,
        id_value
    having count(distinct customer_key) > 1

)

select * from final
