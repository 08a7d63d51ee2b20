-- One row per CRM record (crm_id) with its person signature: the normalised first name, last name and birth
-- date, hashed. Two CRM records with the same signature may be duplicate registrations of one person; two
-- records with different signatures are different persons and are never merged (the signature is the anchor of
-- the identity graph). A record without a full signature is its own person. The household key (postcode and
-- house number) tells a household sharing a phone from a placeholder typed for strangers all over the country.

with

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

{%- set name_key -%}
    lower({{ regexp_replace_all('trim(first_name)', '[-. ]', '') }})
{%- endset %}
{%- set last_name_key -%}
    lower({{ regexp_replace_all('trim(last_name)', '[-. ]', '') }})
{%- endset %}

signatures as (

    select
        crm_id,
        case
            when postcode is not null and nullif(trim(house_number), '') is not null
                then {{ dbt.concat([
                    'postcode', "'|'", "lower(" ~ regexp_replace_all('trim(house_number)', '[- ]', '') ~ ")",
                ]) }}
        end as household_key,
        case
            when nullif({{ name_key }}, '') is not null
                and nullif({{ last_name_key }}, '') is not null
                and birth_date is not null
                then {{ dbt.concat([
                    name_key, "'|'", last_name_key, "'|'", 'cast(birth_date as ' ~ dbt.type_string() ~ ')',
                ]) }}
        end as person_signature
    from crm_customers

),

final as (

    select
        signatures.crm_id,
        {{ identity_hash(
            "coalesce(signatures.person_signature, " ~ dbt.concat(["'crm_id:'", 'signatures.crm_id']) ~ ")",
            'person',
        ) }} as person_anchor,
        signatures.person_signature is not null as has_full_signature,
        signatures.household_key
    from signatures

)

select * from final
