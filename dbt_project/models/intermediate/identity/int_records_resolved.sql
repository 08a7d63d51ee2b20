{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='recompute_key',
    )
}}

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
--
-- Incremental (strategy recompute_keys) by the record's recompute_key (int_identity_record_identifiers): a night
-- attributes again the records whose identifiers were recomputed since this model last ran, the records with an
-- identifier whose resolution changed since (int_identity_node_resolutions: merges, splits, new customers,
-- erasures), and the records of a re-delivered business date (withdrawn records leave no row).

{%- set since = {'run': none} -%}
{%- if execute and is_incremental() -%}
    {%- do since.update({'run': run_query("select max(_batch_at) from " ~ this).columns[0].values()[0]}) -%}
{%- endif %}

with

all_record_identifiers as (

    select * from {{ ref('int_identity_record_identifiers') }}

),

node_resolutions as (

    select * from {{ ref('int_identity_node_resolutions') }}

),

-- identifiers that resolve to a customer, with its key (null when that customer was erased)
resolving_nodes as (

    select
        node_id,
        customer_key
    from node_resolutions
    where resolves

),

{% if is_incremental() %}
affected_keys as (

    select recompute_key
    from all_record_identifiers
    where _batch_at > {{ incremental_watermark('_batch_at') }}
    union
    select all_record_identifiers.recompute_key
    from all_record_identifiers
    inner join node_resolutions
        on all_record_identifiers.node_id = node_resolutions.node_id
    where node_resolutions._changed_at > {{ incremental_watermark('_batch_at') }}
    union
    select recompute_key
    from {{ this }}
    where (source_model = 'stg_web__events'
            and _business_date in ({{ redelivered_dates('web_events', since['run']) }}))
        or (source_model = 'stg_esp__email_events'
            and _business_date in ({{ redelivered_dates('email_events', since['run']) }}))
        or (source_model = 'stg_pos__transaction_lines'
            and _business_date in ({{ redelivered_dates('pos_transactions', since['run']) }}))

),

record_identifiers as (

    select all_record_identifiers.*
    from all_record_identifiers
    inner join affected_keys
        on all_record_identifiers.recompute_key = affected_keys.recompute_key

),
{% else %}
record_identifiers as (

    select * from all_record_identifiers

),
{% endif %}

records as (

    select
        source_model,
        record_id,
        min(observed_at) as observed_at,
        max(case when is_customer_activity then 1 else 0 end) = 1 as is_customer_activity,
        max(case when is_purchase then 1 else 0 end) = 1 as is_purchase,
        max(recompute_key) as recompute_key,
        max(_business_date) as _business_date
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

resolved as (

    select
        records.source_model,
        records.record_id,
        attribution.customer_key,
        attribution.attributed_by,
        coalesce(attribution.is_erased_subject, false) as is_erased_subject,
        coalesce(candidate_summary.candidate_customers, 0) > 1 as has_conflicting_identifiers,
        records.observed_at,
        records.is_customer_activity,
        records.is_purchase,
        records.recompute_key,
        records._business_date,
        {{ batch_stamp() }} as _batch_at
    from records
    left join attribution
        on records.source_model = attribution.source_model
        and records.record_id = attribution.record_id
    left join candidate_summary
        on records.source_model = candidate_summary.source_model
        and records.record_id = candidate_summary.record_id

),

final as (
    {{ recompute_batch('affected_keys', 'resolved', 'recompute_key') }}
)

select * from final
