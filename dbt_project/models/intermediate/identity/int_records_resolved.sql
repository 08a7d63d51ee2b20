-- Record attribution: one row per staging record that carries any identifier, with the customer it belongs to.
-- Journeys, contacts, surveys and propensity marts join on (source_model, record_id).
--
-- A record's identifiers can point at different customers (a contact with the caller's crm_id and a phone number
-- of someone else). The record goes to the customer of its first identifier, in this precedence:
--   crm_id, account_id, loyalty_card_no, anonymous_id (the cookie, via the account it logged into),
--   social_handle, email, phone.
-- Only identifiers that resolve count: excluded (placeholder) and shared (household) identifiers and cookies that
-- never logged in are skipped. customer_key is null when no identifier resolves (an anonymous cookie, only a
-- placeholder or a shared household phone), and also when the first resolving identifier belongs to an erased
-- person (is_erased_subject): such a record is about the erased person and is not passed on to anyone else.

with

record_identifiers as (

    select * from {{ ref('int_identity_record_identifiers') }}

),

components as (

    select * from {{ ref('int_identity_components') }}

),

node_keys as (

    select * from {{ ref('int_identity_node_keys') }}
    where node_status = 'active'

),

-- identifiers that resolve to a customer, with its key (null when that customer was erased)
resolving_nodes as (

    select
        components.node_id,
        node_keys.customer_key
    from components
    left join node_keys
        on components.node_hash = node_keys.node_hash
    where components.is_customer_component
        and not components.is_conflicted

),

records as (

    select
        source_model,
        record_id,
        min(observed_at) as observed_at,
        max(case when is_customer_activity then 1 else 0 end) = 1 as is_customer_activity,
        max(case when is_purchase then 1 else 0 end) = 1 as is_purchase
    from record_identifiers
    group by
        source_model,
        record_id

),

candidates as (

    select
        record_identifiers.source_model,
        record_identifiers.record_id,
        record_identifiers.id_type,
        resolving_nodes.customer_key,
        row_number() over (
            partition by record_identifiers.source_model, record_identifiers.record_id
            order by
                case record_identifiers.id_type
                    when 'crm_id' then 1
                    when 'account_id' then 2
                    when 'loyalty_card_no' then 3
                    when 'anonymous_id' then 4
                    when 'social_handle' then 5
                    when 'email' then 6
                    when 'phone' then 7
                end,
                record_identifiers.id_value
        ) as precedence_rank
    from record_identifiers
    inner join resolving_nodes
        on record_identifiers.node_id = resolving_nodes.node_id

),

candidate_summary as (

    select
        source_model,
        record_id,
        count(distinct customer_key) as candidate_customers
    from candidates
    group by
        source_model,
        record_id

),

attribution as (

    select
        source_model,
        record_id,
        id_type as attributed_by,
        customer_key,
        customer_key is null as is_erased_subject
    from candidates
    where precedence_rank = 1

),

final as (

    select
        records.source_model,
        records.record_id,
        attribution.customer_key,
        attribution.attributed_by,
        coalesce(attribution.is_erased_subject, false) as is_erased_subject,
        coalesce(candidate_summary.candidate_customers, 0) > 1 as has_conflicting_identifiers,
        records.observed_at,
        records.is_customer_activity,
        records.is_purchase
    from records
    left join attribution
        on records.source_model = attribution.source_model
        and records.record_id = attribution.record_id
    left join candidate_summary
        on records.source_model = candidate_summary.source_model
        and records.record_id = candidate_summary.record_id

)

select * from final
