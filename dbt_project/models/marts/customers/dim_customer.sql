-- The golden record: one row per resolved, non-erased customer (customer_key), WITH personal data
-- (warehouse-internal; the BI version is a projection of its BI-safe columns). The survivorship, lifecycle and
-- consent rules are documented in _customers__models.yml.

{%- set new_days = var('lifecycle_new_days', 30) %}
{%- set active_days = var('lifecycle_active_days', 30) %}
{%- set at_risk_days = var('lifecycle_at_risk_days', 90) %}
{%- set lapsed_days = var('lifecycle_lapsed_days', 180) %}

with

node_keys as (

    select * from {{ ref('int_identity_node_keys') }}
    where node_status = 'active'

),

identity_map as (

    select * from {{ ref('identity_map') }}

),

-- read by six CTEs: inlined, each streams (materialised whole it is every record of every source)
records_resolved as {{ not_materialized() }} (

    select * from {{ ref('int_records_resolved') }}

),

record_identifiers as (

    select * from {{ ref('int_identity_record_identifiers') }}

),

crm_customer_versions as (

    select * from {{ ref('stg_crm__customer_versions') }}

),

webshop_orders as (

    select * from {{ ref('stg_webshop__orders') }}

),

privacy_requests as (

    select * from {{ ref('stg_privacy__requests') }}

),

email_events as (

    select * from {{ ref('stg_esp__email_events') }}

),

customers as (

    select
        customer_key,
        min(key_created_at) as key_created_at,
        min(key_first_seen_at) as key_first_seen_at,
        count(*) as identifier_count
    from node_keys
    group by customer_key

),

-- the customer's CRM record versions (every crm_id resolved to it)
customer_crm_versions as (

    select
        identity_map.customer_key,
        crm_customer_versions.*,
        coalesce(crm_customer_versions.updated_at, crm_customer_versions.created_at) as version_at
    from identity_map
    inner join crm_customer_versions
        on identity_map.id_value = crm_customer_versions.crm_id
    where identity_map.id_type = 'crm_id'

),

-- survivorship candidates, as text: (attribute, value, trust rank of the source, when observed)
{% set crm_attributes = [
    'crm_id', 'first_name', 'last_name', 'birth_date', 'gender', 'postcode', 'house_number', 'city',
] %}
crm_attribute_candidates as (

    {% for attribute in crm_attributes %}
    select
        customer_key,
        '{{ attribute }}' as attribute,
        cast({{ attribute }} as {{ dbt.type_string() }}) as attribute_value,
        1 as source_rank,
        version_at as observed_at
    from customer_crm_versions
    where {{ attribute }} is not null
    {{ 'union all' if not loop.last }}
    {% endfor %}

),

-- identifier attributes: values that are the customer's own identifiers (in identity_map), from its records
identifier_observations as (

    select
        records_resolved.customer_key,
        record_identifiers.id_type as attribute,
        record_identifiers.id_value as attribute_value,
        case record_identifiers.id_type
            when 'email' then case records_resolved.source_model
                when 'stg_crm__customer_versions' then 1
                when 'stg_crm__customers' then 1
                when 'stg_webshop__orders' then 2
                when 'stg_contact_center__contacts' then 3
                when 'stg_survey__responses' then 3
                when 'stg_social__messages' then 3
                when 'stg_esp__email_events' then 4
                else 5
            end
            when 'phone' then case records_resolved.source_model
                when 'stg_crm__customer_versions' then 1
                when 'stg_crm__customers' then 1
                else 2
            end
            when 'loyalty_card_no' then case records_resolved.source_model
                when 'stg_crm__customer_versions' then 1
                when 'stg_crm__customers' then 1
                else 2
            end
            when 'account_id' then case records_resolved.source_model
                when 'stg_webshop__orders' then 1
                else 2
            end
        end as source_rank,
        records_resolved.observed_at
    from records_resolved
    inner join record_identifiers
        on records_resolved.source_model = record_identifiers.source_model
        and records_resolved.record_id = record_identifiers.record_id
    inner join identity_map
        on records_resolved.customer_key = identity_map.customer_key
        and record_identifiers.id_type = identity_map.id_type
        and record_identifiers.id_value = identity_map.id_value
    where records_resolved.customer_key is not null
        and record_identifiers.id_type in ('email', 'phone', 'loyalty_card_no', 'account_id')
        and records_resolved.source_model <> 'stg_privacy__requests'

),

-- one candidate per customer, identifier and source rank, at its latest observation: the same survivor as
-- ranking every observation (the latest one of a value and rank is the only one of them that can win), but the
-- window below then ranks a few rows per customer instead of one per record (every e-mail event, every web
-- event of a logged-in visitor)
identifier_candidates as (

    select
        customer_key,
        attribute,
        attribute_value,
        source_rank,
        max(observed_at) as observed_at
    from identifier_observations
    group by
        customer_key,
        attribute,
        attribute_value,
        source_rank

),

shipping_postcode_candidates as (

    select
        records_resolved.customer_key,
        'postcode' as attribute,
        webshop_orders.shipping_postcode as attribute_value,
        2 as source_rank,
        webshop_orders.ordered_at as observed_at
    from records_resolved
    inner join webshop_orders
        on records_resolved.record_id = webshop_orders.order_id
    where records_resolved.source_model = 'stg_webshop__orders'
        and records_resolved.customer_key is not null
        and webshop_orders.shipping_postcode is not null

),

candidates as (

    select * from crm_attribute_candidates
    union all
    select * from identifier_candidates
    union all
    select * from shipping_postcode_candidates

),

ranked_candidates as (

    select
        candidates.*,
        row_number() over (
            partition by candidates.customer_key, candidates.attribute
            order by candidates.source_rank, candidates.observed_at desc, candidates.attribute_value
        ) as survivor_rank
    from candidates

),

golden_attributes as (

    select
        customer_key,
        {% for attribute in crm_attributes + ['email', 'phone', 'loyalty_card_no', 'account_id'] %}
        max(case when attribute = '{{ attribute }}' then attribute_value end) as {{ attribute }},
        {% endfor %}
        count(*) as candidate_count
    from ranked_candidates
    where survivor_rank = 1
    group by customer_key

),

crm_summary as (

    select
        customer_key,
        count(distinct crm_id) as crm_record_count,
        min(created_at) as registered_at
    from customer_crm_versions
    group by customer_key

),

-- marketing consent: the CRM opt-in of the customer's most recently updated CRM version that has one
crm_consent as (

    select
        customer_key,
        is_marketing_opted_in as crm_marketing_opt_in,
        version_at as crm_consent_at
    from (
        select
            customer_key,
            is_marketing_opted_in,
            version_at,
            row_number() over (partition by customer_key order by version_at desc, crm_id) as consent_rank
        from customer_crm_versions
        where is_marketing_opted_in is not null
    ) as consent_versions
    where consent_rank = 1

),

privacy_opt_outs as (

    select
        records_resolved.customer_key,
        max(
            case when privacy_requests.request_type = 'marketing_opt_out' then privacy_requests.received_at end
        ) as marketing_opt_out_requested_at,
        max(
            case when privacy_requests.request_type = 'profiling_opt_out' then privacy_requests.received_at end
        ) as profiling_opted_out_at
    from records_resolved
    inner join privacy_requests
        on records_resolved.record_id = privacy_requests.request_id
    where records_resolved.source_model = 'stg_privacy__requests'
        and records_resolved.customer_key is not null
    group by records_resolved.customer_key

),

email_unsubscribes as (

    select
        records_resolved.customer_key,
        max(email_events.occurred_at) as unsubscribed_at
    from records_resolved
    inner join email_events
        on records_resolved.record_id = email_events.event_id
    where records_resolved.source_model = 'stg_esp__email_events'
        and records_resolved.customer_key is not null
        and email_events.event_type in ('unsubscribe', 'complaint')
    group by records_resolved.customer_key

),

activity as (

    select
        customer_key,
        min(observed_at) as first_record_at,
        min(case when is_customer_activity then observed_at end) as first_activity_at,
        max(case when is_customer_activity then observed_at end) as last_activity_at,
        max(case when is_purchase then observed_at end) as last_purchase_at
    from records_resolved
    where customer_key is not null
    group by customer_key

),

-- lifecycle reference time: the latest customer activity in the warehouse (deterministic for a given delivery)
reference_time as (

    select max(observed_at) as lifecycle_as_of
    from records_resolved
    where is_customer_activity

),

joined as (

    select
        customers.customer_key,
        golden_attributes.crm_id,
        coalesce(crm_summary.crm_record_count, 0) as crm_record_count,
        golden_attributes.account_id,
        golden_attributes.loyalty_card_no,
        golden_attributes.first_name,
        golden_attributes.last_name,
        golden_attributes.email,
        golden_attributes.phone,
        cast(golden_attributes.birth_date as date) as birth_date,
        golden_attributes.gender,
        golden_attributes.postcode,
        golden_attributes.house_number,
        golden_attributes.city,
        coalesce(activity.first_activity_at, activity.first_record_at) as first_seen_at,
        activity.last_activity_at as last_seen_at,
        activity.last_purchase_at,
        crm_consent.crm_marketing_opt_in,
        crm_consent.crm_consent_at,
        privacy_opt_outs.marketing_opt_out_requested_at,
        email_unsubscribes.unsubscribed_at,
        privacy_opt_outs.profiling_opted_out_at,
        crm_summary.registered_at,
        customers.key_created_at,
        customers.identifier_count,
        reference_time.lifecycle_as_of
    from customers
    cross join reference_time
    left join golden_attributes
        on customers.customer_key = golden_attributes.customer_key
    left join crm_summary
        on customers.customer_key = crm_summary.customer_key
    left join crm_consent
        on customers.customer_key = crm_consent.customer_key
    left join privacy_opt_outs
        on customers.customer_key = privacy_opt_outs.customer_key
    left join email_unsubscribes
        on customers.customer_key = email_unsubscribes.customer_key
    left join activity
        on customers.customer_key = activity.customer_key

),

-- age in whole years on lifecycle_as_of (one less when this year's birthday is still to come)
with_age as (

    select
        joined.*,
        {{ dbt.datediff('joined.birth_date', 'joined.lifecycle_as_of', 'year') }}
        - case
            when {{ dbt.dateadd(
                'year', dbt.datediff('joined.birth_date', 'joined.lifecycle_as_of', 'year'), 'joined.birth_date'
            ) }} > joined.lifecycle_as_of then 1
            else 0
        end as age_years
    from joined

),

final as (

    select

        ---------- ids
        customer_key,
        crm_id,
        account_id,
        loyalty_card_no,

        ---------- personal data (warehouse only)
        first_name,
        last_name,
        email,
        phone,
        birth_date,
        house_number,
        postcode,

        ---------- BI-safe attributes
        case
            when age_years is null then null
            when age_years < 18 then 'under 18'
            when age_years < 25 then '18-24'
            when age_years < 35 then '25-34'
            when age_years < 45 then '35-44'
            when age_years < 55 then '45-54'
            when age_years < 65 then '55-64'
            when age_years < 75 then '65-74'
            else '75+'
        end as age_band,
        {{ postcode_area('postcode') }} as postcode_area,
        city,
        gender,
        crm_record_count,
        identifier_count,

        ---------- lifecycle
        first_seen_at,
        last_seen_at,
        last_purchase_at,
        case
            when first_seen_at > {{ dbt.dateadd('day', -new_days, 'lifecycle_as_of') }} then 'new'
            when last_seen_at > {{ dbt.dateadd('day', -active_days, 'lifecycle_as_of') }} then 'active'
            when last_seen_at > {{ dbt.dateadd('day', -at_risk_days, 'lifecycle_as_of') }} then 'at_risk'
            when last_seen_at > {{ dbt.dateadd('day', -lapsed_days, 'lifecycle_as_of') }} then 'lapsed'
            else 'churned'
        end as lifecycle_stage,
        lifecycle_as_of,

        ---------- consent and privacy
        (
            coalesce(crm_marketing_opt_in, false)
            and marketing_opt_out_requested_at is null
            and (unsubscribed_at is null or unsubscribed_at < crm_consent_at)
        ) as is_marketing_opted_in,
        case
            when marketing_opt_out_requested_at is null then unsubscribed_at
            when unsubscribed_at is null then marketing_opt_out_requested_at
            when unsubscribed_at > marketing_opt_out_requested_at then unsubscribed_at
            else marketing_opt_out_requested_at
        end as marketing_opted_out_at,
        profiling_opted_out_at is not null as is_profiling_opted_out,
        profiling_opted_out_at,

        ---------- timestamps
        registered_at,
        key_created_at as created_at

    from with_age

)

select * from final
