-- The nodes of the identity graph: one row per distinct normalised identifier observed on a graph-source record,
-- with how it is used, and the guards that decide whether it may link records:
--
-- * excluded (placeholder or high-degree identifier: never links anyone, never in identity_map) when it is a
--   known placeholder (seed identity_known_placeholders), or it is observed with more than
--   `identity_max_persons_per_identifier` (var, default 4) different CRM persons or webshop accounts, or with at
--   least `identity_placeholder_min_households` (var, default 3) different CRM persons living at as many different
--   addresses (households share a landline or an e-mail address; strangers all over the country do not);
-- * shared (a household identifier: does not link, but is listed under each customer whose records carry it)
--   when it is observed with two or more different CRM persons or two or more webshop accounts;
-- * a crm_id carries its CRM person's anchor (hashed name + birth date signature, see int_identity_crm_persons);
--   a crm_id that no CRM record describes is a person of its own.

{%- set max_persons = var('identity_max_persons_per_identifier', 4) %}
{%- set min_households = var('identity_placeholder_min_households', 3) %}

with

record_identifiers as (

    select * from {{ ref('int_identity_record_identifiers') }}
    where is_graph_source

),

crm_persons as (

    select * from {{ ref('int_identity_crm_persons') }}

),

known_placeholders as (

    select * from {{ ref('identity_known_placeholders') }}

),

-- the CRM person (and household) behind each crm_id on a record
record_persons as (

    select
        record_identifiers.source_model,
        record_identifiers.record_id,
        coalesce(
            crm_persons.person_anchor,
            {{ identity_hash(dbt.concat(["'crm_id:'", 'record_identifiers.id_value']), 'person') }}
        ) as person_anchor,
        crm_persons.household_key
    from record_identifiers
    left join crm_persons
        on record_identifiers.id_value = crm_persons.crm_id
    where record_identifiers.id_type = 'crm_id'

),

record_accounts as (

    select
        source_model,
        record_id,
        id_value as account_id
    from record_identifiers
    where id_type = 'account_id'

),

usage as (

    select
        node_id,
        id_type,
        id_value,
        count(*) as record_count,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from record_identifiers
    group by
        node_id,
        id_type,
        id_value

),

persons_per_node as (

    select
        record_identifiers.node_id,
        count(distinct record_persons.person_anchor) as crm_person_count,
        count(distinct record_persons.household_key) as household_count
    from record_identifiers
    inner join record_persons
        on record_identifiers.source_model = record_persons.source_model
        and record_identifiers.record_id = record_persons.record_id
    group by record_identifiers.node_id

),

accounts_per_node as (

    select
        record_identifiers.node_id,
        count(distinct record_accounts.account_id) as account_count
    from record_identifiers
    inner join record_accounts
        on record_identifiers.source_model = record_accounts.source_model
        and record_identifiers.record_id = record_accounts.record_id
    group by record_identifiers.node_id

),

crm_anchors as (

    select distinct
        {{ identity_node_id("'crm_id'", 'record_persons_source.id_value') }} as node_id,
        coalesce(
            crm_persons.person_anchor,
            {{ identity_hash(dbt.concat(["'crm_id:'", 'record_persons_source.id_value']), 'person') }}
        ) as anchor
    from (
        select distinct id_value
        from record_identifiers
        where id_type = 'crm_id'
    ) as record_persons_source
    left join crm_persons
        on record_persons_source.id_value = crm_persons.crm_id

),

measured as (

    select
        usage.node_id,
        usage.id_type,
        usage.id_value,
        usage.record_count,
        usage.first_observed_at,
        usage.last_observed_at,
        coalesce(persons_per_node.crm_person_count, 0) as crm_person_count,
        coalesce(persons_per_node.household_count, 0) as household_count,
        coalesce(accounts_per_node.account_count, 0) as account_count,
        known_placeholders.id_value is not null as is_known_placeholder,
        crm_anchors.anchor
    from usage
    left join persons_per_node
        on usage.node_id = persons_per_node.node_id
    left join accounts_per_node
        on usage.node_id = accounts_per_node.node_id
    left join known_placeholders
        on usage.id_type = known_placeholders.id_type
        and usage.id_value = known_placeholders.id_value
    left join crm_anchors
        on usage.node_id = crm_anchors.node_id

),

classified as (

    select
        measured.*,
        case
            when id_type in ('crm_id', 'account_id') then null
            when is_known_placeholder then 'known_placeholder'
            when crm_person_count > {{ max_persons }} then 'too_many_crm_persons'
            when account_count > {{ max_persons }} then 'too_many_accounts'
            when crm_person_count >= {{ min_households }} and household_count >= {{ min_households }}
                then 'unrelated_households'
        end as exclusion_reason
    from measured

),

final as (

    select
        node_id,
        id_type,
        id_value,
        record_count,
        first_observed_at,
        last_observed_at,
        crm_person_count,
        household_count,
        account_count,
        is_known_placeholder,
        exclusion_reason is not null as is_excluded,
        exclusion_reason,
        (
            exclusion_reason is null
            and id_type not in ('crm_id', 'account_id')
            and (crm_person_count >= 2 or account_count >= 2)
        ) as is_shared,
        anchor
    from classified

)

select * from final
