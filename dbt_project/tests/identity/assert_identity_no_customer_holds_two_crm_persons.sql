-- The conflict rule end to end: no customer holds CRM records of two different persons (different name or birth
-- date signature). Fails with the customers that do.

with

identity_map as (

    select * from {{ ref('identity_map') }}
    where id_type = 'crm_id'
        and not is_shared

),

crm_persons as (

    select * from {{ ref('int_identity_crm_persons') }}

),

final as (

    select
        identity_map.customer_key,
        count(distinct crm_persons.person_anchor) as crm_persons
    from identity_map
    inner join crm_persons
        on identity_map.id_value = crm_persons.crm_id
    group by identity_map.customer_key
    having count(distinct crm_persons.person_anchor) > 1

)

select * from final
