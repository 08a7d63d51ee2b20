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
-- attributes again the records whose identifiers changed since this model last ran (their `_changed_at`, and the
-- records of a small source that are gone), the records with an identifier whose resolution changed since
-- (int_identity_node_resolutions: merges, splits, new customers, erasures), and the records of a re-delivered
-- business date (withdrawn records leave no row).
-- `_batch_at` is the run that recomputed the row, `_changed_at` the run in which the attribution last changed (any
-- column other than recompute_key): a recomputed record that attributes as before keeps its `_changed_at`, and the
-- models downstream re-read only records changed since their last run (most recomputed records come out the
-- same: README, "Where 1M x 180 stands").

{%- set since = {'run': none} -%}
{%- if execute and is_incremental() -%}
    {%- do since.update({'run': run_query("select max(_batch_at) from " ~ this).columns[0].values()[0]}) -%}
{%- endif %}

with

all_record_identifiers as {{ not_materialized() }} (

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

    -- records whose identifiers changed since this model last ran
    select recompute_key
    from all_record_identifiers
    where _changed_at > {{ incremental_watermark('_batch_at') }}
    union
    -- records of a small source that are gone (an event record goes with its re-delivered date, below)
    select recompute_key
    from {{ this }}
    where source_model {{ identity_small_sources() }}
        and recompute_key not in (
            select recompute_key
            from all_record_identifiers
            where source_model {{ identity_small_sources() }}
        )
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

record_identifiers as {{ not_materialized() }} (

    select all_record_identifiers.*
    from all_record_identifiers
    inner join affected_keys
        on all_record_identifiers.recompute_key = affected_keys.recompute_key

),
{% else %}
record_identifiers as {{ not_materialized() }} (

    select * from all_record_identifiers

),
{% endif %}

-- one row per record, aggregated per source (one aggregate over all sources at once ran out of memory at 1M
-- customers x 180 days). The attribution is the resolving identifier first in precedence (then by value):
-- the smallest `<precedence>|<id_value>` (a one-digit precedence, so the text orders as the pair does). The
-- record has conflicting identifiers when they resolve to more than one customer (smallest key < largest).
{% set precedence = ['crm_id', 'account_id', 'loyalty_card_no', 'anonymous_id', 'social_handle', 'email', 'phone'] %}
{% set precedence_digit -%}
    case record_identifiers.id_type
        {%- for id_type in precedence %} when '{{ id_type }}' then '{{ loop.index }}'{% endfor %}
    end
{%- endset %}
{% set source_groups = identity_source_groups() %}
records as (

    {% for source_condition in source_groups %}
    select
        record_identifiers.source_model,
        record_identifiers.record_id,
        min(record_identifiers.observed_at) as observed_at,
        max(case when record_identifiers.is_customer_activity then 1 else 0 end) = 1 as is_customer_activity,
        max(case when record_identifiers.is_purchase then 1 else 0 end) = 1 as is_purchase,
        max(record_identifiers.recompute_key) as recompute_key,
        max(record_identifiers._business_date) as _business_date,
        min(
            case when resolving_nodes.node_id is not null then {{ dbt.concat([precedence_digit, "'|'", 'record_identifiers.id_value']) }} end
        ) as attribution_key,
        min(resolving_nodes.customer_key) as first_candidate_customer_key,
        max(resolving_nodes.customer_key) as last_candidate_customer_key
    from record_identifiers
    left join resolving_nodes
        on record_identifiers.node_id = resolving_nodes.node_id
    where record_identifiers.source_model {{ source_condition }}
    group by
        record_identifiers.source_model,
        record_identifiers.record_id
    {{ 'union all' if not loop.last }}
    {% endfor %}

),

attributions as (

    select
        records.*,
        case {{ dbt.split_part('attribution_key', "'|'", 1) }}
            {% for id_type in precedence %}
            when '{{ loop.index }}' then '{{ id_type }}'
            {% endfor %}
        end as attributed_by,
        substring(attribution_key, 3) as attributed_id_value
    from records

),

resolved as (

    select
        attributions.source_model,
        attributions.record_id,
        resolving_nodes.customer_key,
        attributions.attributed_by,
        attributions.attribution_key is not null and resolving_nodes.customer_key is null as is_erased_subject,
        coalesce(
            attributions.first_candidate_customer_key < attributions.last_candidate_customer_key, false
        ) as has_conflicting_identifiers,
        attributions.observed_at,
        attributions.is_customer_activity,
        attributions.is_purchase,
        attributions.recompute_key,
        attributions._business_date
    from attributions
    left join resolving_nodes
        on {{ identity_node_id('attributions.attributed_by', 'attributions.attributed_id_value') }}
            = resolving_nodes.node_id

),

-- the attributions this run recomputes, as they were: a record that attributes as before keeps its _changed_at
{% if is_incremental() %}
{#- every attribution column: all of the table's but the row's identity and its bookkeeping -#}
{%- set compared = relation_columns_except(this, ['source_model', 'record_id', 'recompute_key', '_batch_at',
                                                  '_changed_at']) %}
previous as (

    select previous.*
    from {{ this }} as previous
    inner join affected_keys
        on previous.recompute_key = affected_keys.recompute_key

),
{% else %}
{%- set compared = [] %}
previous as (

    select
        resolved.*,
        cast(null as {{ dbt.type_timestamp() }}) as _changed_at
    from resolved
    where 1 = 0

),
{% endif %}

stamped as (

    select
        resolved.*,
        {{ batch_stamp() }} as _batch_at,
        case
            when previous.record_id is not null
                and {{ all_null_safe_equal('previous', 'resolved', compared) }}
                then previous._changed_at
            else {{ batch_stamp() }}
        end as _changed_at
    from resolved
    left join previous
        on resolved.source_model = previous.source_model
        and resolved.record_id = previous.record_id

),

final as (
    {{ recompute_batch('affected_keys', 'stamped', 'recompute_key') }}
)

select * from final
