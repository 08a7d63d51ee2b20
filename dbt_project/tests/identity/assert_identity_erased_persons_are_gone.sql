-- Erasure end to end: no identifier on the suppression list is in identity_map, and no record carrying one is
-- attributed through it. Fails with the offending rows (hashes only).

with

suppression_list as (

    select * from {{ ref('int_identity_suppression_list') }}

),

identity_map as (

    select * from {{ ref('identity_map') }}
    where not is_shared

),

mapped_hashes as (

    select
        customer_key,
        {{ identity_hash(identity_node_id('id_type', 'id_value'), 'node') }} as id_hash
    from identity_map

),

final as (

    select
        mapped_hashes.customer_key,
        mapped_hashes.id_hash
    from mapped_hashes
    inner join suppression_list
        on mapped_hashes.id_hash = suppression_list.id_hash

)

select * from final
