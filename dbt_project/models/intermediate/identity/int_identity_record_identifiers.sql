{{
    config(
        materialized='incremental',
        incremental_strategy='recompute_keys',
        unique_key='recompute_key',
    )
}}

-- Every identifier observed on every staging record: one row per staging record and normalised identifier.
-- The identity graph is built from the records of the graph sources (identifiers observed together on one
-- record are linked); privacy requests are records too (so that they can be attributed) but never link anything.
-- Identifiers are already normalised in staging (e-mail lower-case, phone E.164, social handle `x:handle`).
-- Two web-event links carry identifiers of another channel, both exact:
-- * an `order_complete` event's confirmation URL (`/afrekenen/bedankt?order=<order_id>`) names the webshop order
--   the visit placed: the event carries that order's account_id and e-mail address;
-- * a landing event of a visit opened from an e-mail (`utm_source = email`) carries the e-mail address of the
--   click event of the same campaign (`utm_campaign` = campaign_id) at the same second, when exactly one click
--   and one landing event match each other. This one attributes the landing event but links nothing
--   (is_graph_source false): campaign mail goes to an address, and a family address is read by whoever is home,
--   so the visitor's cookie need not belong to the address's customer. Set var `identity_link_email_clicks` to
--   true to let it link (more recall, less precision: see the identity test report).
--
-- Incremental (strategy recompute_keys, macros/utils/incremental.sql), by recompute_key:
--   `web|<event_id>`     new or changed web events, plus every `order_complete` event and every e-mail landing
--                        event (their links depend on orders and clicks of any night), and the events of a
--                        business date whose file was re-delivered;
--   `email|<event_id>`   new or changed e-mail events and those of a re-delivered date;
--   `pos|<transaction>`  receipts with a new or changed line and those of a re-delivered date;
--   `<model>|<record>`   CRM, webshop orders, contacts, social, surveys and privacy requests: small sources,
--                        read whole every night (a record that is gone leaves no row).
-- `_batch_at` is the run that recomputed the record, `_changed_at` the run in which its rows last changed (a
-- row added, gone, or any column other than recompute_key and the stamps different): a recomputed record that
-- comes out as it was keeps its `_changed_at`, and int_records_resolved attributes again only records changed
-- since its last run (every night recomputes the whole CRM, orders and contacts, most of it unchanged).

{%- set since = {} -%}
{%- if execute and is_incremental() -%}
    {%- set marks = run_query(
        "select max(case when source_model = 'stg_web__events' then _loaded_at end),"
        ~ " max(case when source_model = 'stg_esp__email_events' then _loaded_at end),"
        ~ " max(case when source_model = 'stg_pos__transaction_lines' then _loaded_at end) from " ~ this
    ) -%}
    {%- do since.update({'web': marks.columns[0].values()[0], 'email': marks.columns[1].values()[0],
                         'pos': marks.columns[2].values()[0]}) -%}
{%- endif %}

with

crm_customer_versions as (

    select * from {{ ref('stg_crm__customer_versions') }}

),

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

webshop_orders as {{ not_materialized() }} (

    select * from {{ ref('stg_webshop__orders') }}

),

all_web_events as {{ not_materialized() }} (

    select * from {{ ref('stg_web__events') }}

),

web_events as {{ not_materialized() }} (

    select * from all_web_events
    {% if is_incremental() %}
    where _loaded_at > {{ incremental_timestamp(since['web']) }}
        or event_type = 'order_complete'
        or utm_source = 'email'
        or _business_date in ({{ redelivered_dates('web_events', since['web']) }})
        or event_id in ({{ redelivered_records('stg_web__events', 'web_events', since['web']) }})
    {% endif %}

),

all_pos_transaction_lines as {{ not_materialized() }} (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

pos_transaction_lines as {{ not_materialized() }} (

    select * from all_pos_transaction_lines
    {% if is_incremental() %}
    where transaction_id in (
        select transaction_id
        from all_pos_transaction_lines
        where _loaded_at > {{ incremental_timestamp(since['pos']) }}
            or _business_date in ({{ redelivered_dates('pos_transactions', since['pos']) }})
        union
        {{ redelivered_records('stg_pos__transaction_lines', 'pos_transactions', since['pos']) }}
    )
    {% endif %}

),

contact_center_contacts as (

    select * from {{ ref('stg_contact_center__contacts') }}

),

all_email_events as {{ not_materialized() }} (

    select * from {{ ref('stg_esp__email_events') }}

),

email_events as {{ not_materialized() }} (

    select * from all_email_events
    {% if is_incremental() %}
    where _loaded_at > {{ incremental_timestamp(since['email']) }}
        or _business_date in ({{ redelivered_dates('email_events', since['email']) }})
        or event_id in ({{ redelivered_records('stg_esp__email_events', 'email_events', since['email']) }})
    {% endif %}

),

-- every click (an e-mail landing event matches exactly one click of any night)
email_clicks as (

    select * from all_email_events
    where event_type = 'click'

),

social_messages as {{ not_materialized() }} (

    select * from {{ ref('stg_social__messages') }}

),

survey_responses as (

    select * from {{ ref('stg_survey__responses') }}

),

privacy_requests as (

    select * from {{ ref('stg_privacy__requests') }}

),

-- one wide row per record: the identifiers it carries, when it happened, and whether that was the customer's
-- own doing (activity: used for first/last seen) or a purchase

crm_version_records as {{ not_materialized() }} (

    select
        'stg_crm__customer_versions' as source_model,
        {{ dbt.concat([
            'crm_id',
            "':'",
            "coalesce(cast(updated_at_local as " ~ dbt.type_string() ~ "), '')",
        ]) }} as record_id,
        coalesce(updated_at, created_at) as observed_at,
        false as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        crm_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        loyalty_card_no,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        email,
        phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date
    from crm_customer_versions

),

crm_customer_records as {{ not_materialized() }} (

    select
        'stg_crm__customers' as source_model,
        crm_id as record_id,
        created_at as observed_at,
        true as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        crm_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        loyalty_card_no,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        email,
        phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date
    from crm_customers

),

webshop_order_records as {{ not_materialized() }} (

    select
        'stg_webshop__orders' as source_model,
        order_id as record_id,
        ordered_at as observed_at,
        true as is_customer_activity,
        not coalesce(is_cancelled, false) as is_purchase,
        true as is_graph_source,
        cast(null as {{ dbt.type_string() }}) as crm_id,
        account_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_card_no,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        email,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date
    from webshop_orders

),

web_event_records as {{ not_materialized() }} (

    select
        'stg_web__events' as source_model,
        event_id as record_id,
        occurred_at as observed_at,
        true as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        cast(null as {{ dbt.type_string() }}) as crm_id,
        account_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_card_no,
        anonymous_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        _loaded_at,
        _business_date
    from web_events

),

-- POS: one record per receipt (transaction_id), with the loyalty card(s) scanned on any of its lines
pos_receipts as (

    select
        transaction_id,
        min(registered_at) as registered_at,
        max(case when not is_return then 1 else 0 end) as has_sale_line,
        max(_loaded_at) as _loaded_at,
        max(_business_date) as _business_date
    from pos_transaction_lines
    group by transaction_id

),

pos_receipt_cards as (

    select distinct
        transaction_id,
        loyalty_card_no
    from pos_transaction_lines
    where loyalty_card_no is not null

),

pos_transaction_records as {{ not_materialized() }} (

    select
        'stg_pos__transaction_lines' as source_model,
        pos_receipts.transaction_id as record_id,
        pos_receipts.registered_at as observed_at,
        true as is_customer_activity,
        pos_receipts.has_sale_line = 1 as is_purchase,
        true as is_graph_source,
        cast(null as {{ dbt.type_string() }}) as crm_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        pos_receipt_cards.loyalty_card_no,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        pos_receipts._loaded_at,
        pos_receipts._business_date
    from pos_receipts
    inner join pos_receipt_cards
        on pos_receipts.transaction_id = pos_receipt_cards.transaction_id

),

contact_records as {{ not_materialized() }} (

    select
        'stg_contact_center__contacts' as source_model,
        contact_id as record_id,
        started_at as observed_at,
        true as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        crm_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_card_no,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        customer_email as email,
        customer_phone as phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date
    from contact_center_contacts

),

email_event_records as {{ not_materialized() }} (

    select
        'stg_esp__email_events' as source_model,
        event_id as record_id,
        occurred_at as observed_at,
        -- sends, deliveries and bounces are the sender's doing, not the customer's
        event_type in ('open', 'click', 'unsubscribe', 'complaint') as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        cast(null as {{ dbt.type_string() }}) as crm_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_card_no,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        email,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        _loaded_at,
        _business_date
    from email_events

),

-- social: identifiers are attributed per conversation (the customer's inbound handle and the e-mail address an
-- agent linked), and every message of the conversation carries them
social_conversation_identifiers as (

    select
        conversation_id,
        'social_handle' as id_type,
        social_handle as id_value
    from social_messages
    where social_handle is not null
    union
    select
        conversation_id,
        'email' as id_type,
        linked_email as id_value
    from social_messages
    where linked_email is not null

),

social_identifier_rows as (

    select
        'stg_social__messages' as source_model,
        social_messages.message_id as record_id,
        social_messages.sent_at as observed_at,
        coalesce(social_messages.is_inbound, false) as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        social_conversation_identifiers.id_type,
        social_conversation_identifiers.id_value
    from social_messages
    inner join social_conversation_identifiers
        on social_messages.conversation_id = social_conversation_identifiers.conversation_id

),

web_order_links as {{ not_materialized() }} (

    select
        web_events.event_id,
        web_events.occurred_at,
        webshop_orders.account_id,
        webshop_orders.email
    from all_web_events as web_events
    inner join webshop_orders
        on {{ dbt.split_part('web_events.url', "'order='", 2) }} = webshop_orders.order_id
    where web_events.event_type = 'order_complete'
        and web_events.url like '%order=%'

),

email_click_candidates as (

    select
        web_events.event_id as web_event_id,
        web_events.occurred_at,
        email_events.email,
        count(*) over (partition by web_events.event_id) as clicks_matching_visit,
        count(*) over (partition by email_events.event_id) as visits_matching_click
    from all_web_events as web_events
    inner join email_clicks as email_events
        on web_events.utm_campaign = email_events.campaign_id
        and web_events.occurred_at = email_events.occurred_at
    where web_events.utm_source = 'email'
        and email_events.event_type = 'click'
        and email_events.email is not null

),

linked_web_identifier_rows as (

    select
        'stg_web__events' as source_model,
        event_id as record_id,
        occurred_at as observed_at,
        true as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        'account_id' as id_type,
        account_id as id_value
    from web_order_links
    where account_id is not null
    union all
    select
        'stg_web__events' as source_model,
        event_id as record_id,
        occurred_at as observed_at,
        true as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        'email' as id_type,
        email as id_value
    from web_order_links
    where email is not null
    union all
    select
        'stg_web__events' as source_model,
        web_event_id as record_id,
        occurred_at as observed_at,
        true as is_customer_activity,
        false as is_purchase,
        {{ 'true' if var('identity_link_email_clicks', false) else 'false' }} as is_graph_source,
        'email' as id_type,
        email as id_value
    from email_click_candidates
    where clicks_matching_visit = 1
        and visits_matching_click = 1

),

survey_records as {{ not_materialized() }} (

    select
        'stg_survey__responses' as source_model,
        response_id as record_id,
        responded_at as observed_at,
        true as is_customer_activity,
        false as is_purchase,
        true as is_graph_source,
        crm_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_card_no,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        respondent_email as email,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date
    from survey_responses

),

privacy_request_records as {{ not_materialized() }} (

    select
        'stg_privacy__requests' as source_model,
        request_id as record_id,
        received_at as observed_at,
        false as is_customer_activity,
        false as is_purchase,
        false as is_graph_source,
        crm_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_card_no,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        email,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as social_handle,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date
    from privacy_requests

),

-- unpivot: one row per record and identifier, per source only for the identifiers it carries. Each wide CTE
-- is read once per identifier column and inlined (`not_materialized`): a CTE used more than once would be
-- materialised whole, and a cross join with the identifier types became a nested-loop join that does not fit
-- in memory at scale.
{% set record_identifier_columns = [
    ('crm_version_records', ['crm_id', 'loyalty_card_no', 'email', 'phone']),
    ('crm_customer_records', ['crm_id', 'loyalty_card_no', 'email', 'phone']),
    ('webshop_order_records', ['account_id', 'email']),
    ('web_event_records', ['account_id', 'anonymous_id']),
    ('pos_transaction_records', ['loyalty_card_no']),
    ('contact_records', ['crm_id', 'email', 'phone']),
    ('email_event_records', ['email']),
    ('survey_records', ['crm_id', 'email']),
    ('privacy_request_records', ['crm_id', 'email']),
] %}
unpivoted as (

    {% for cte, id_columns in record_identifier_columns %}
    {% set outer_loop = loop %}
    {% for id_column in id_columns %}
    select
        source_model,
        record_id,
        observed_at,
        is_customer_activity,
        is_purchase,
        is_graph_source,
        '{{ id_column }}' as id_type,
        {{ id_column }} as id_value,
        _loaded_at,
        _business_date
    from {{ cte }}
    where {{ id_column }} is not null
    {{ 'union all' if not (outer_loop.last and loop.last) }}
    {% endfor %}
    {% endfor %}

),

long_records as {{ not_materialized() }} (

    select * from unpivoted
    union all
    select
        source_model,
        record_id,
        observed_at,
        is_customer_activity,
        is_purchase,
        is_graph_source,
        id_type,
        id_value,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date
    from social_identifier_rows
    union all
    select
        source_model,
        record_id,
        observed_at,
        is_customer_activity,
        is_purchase,
        is_graph_source,
        id_type,
        id_value,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at,
        cast(null as date) as _business_date
    from linked_web_identifier_rows

),

-- grouped per source (a record's identifier can arrive twice, e.g. a web event's own account and its order's):
-- one aggregate over all sources at once ran out of memory at 1M customers x 180 days; per source it spills
{% set source_groups = identity_source_groups() %}
record_identifiers as (

    {% for source_condition in source_groups %}
    select
        source_model,
        record_id,
        id_type,
        id_value,
        {{ identity_node_id('id_type', 'id_value') }} as node_id,
        min(observed_at) as observed_at,
        max(case when is_customer_activity then 1 else 0 end) = 1 as is_customer_activity,
        max(case when is_purchase then 1 else 0 end) = 1 as is_purchase,
        max(case when is_graph_source then 1 else 0 end) = 1 as is_graph_source,
        {{ identity_recompute_key('source_model', 'record_id') }} as recompute_key,
        max(_loaded_at) as _loaded_at,
        max(_business_date) as _business_date,
        {{ batch_stamp() }} as _batch_at
    from long_records
    where source_model {{ source_condition }}
    group by
        source_model,
        record_id,
        id_type,
        id_value
    {{ 'union all' if not loop.last }}
    {% endfor %}

),

{% if is_incremental() %}
affected_keys as (

    select distinct recompute_key from record_identifiers
    union
    -- the small sources' records, whole (also those that are gone)
    select recompute_key
    from {{ this }}
    where source_model {{ identity_small_sources() }}
    -- records of a re-delivered business date (a withdrawn record leaves no row)
    union
    select recompute_key
    from {{ this }}
    where (source_model = 'stg_web__events'
            and _business_date in ({{ redelivered_dates('web_events', since['web']) }}))
        or (source_model = 'stg_esp__email_events'
            and _business_date in ({{ redelivered_dates('email_events', since['email']) }}))
        or (source_model = 'stg_pos__transaction_lines'
            and _business_date in ({{ redelivered_dates('pos_transactions', since['pos']) }}))

),

{#- every compared column: all of the table's but the row's identity and the bookkeeping -#}
{%- set compared = relation_columns_except(this, ['source_model', 'record_id', 'id_type', 'id_value',
                                                  'recompute_key', '_batch_at', '_changed_at']) %}
-- the rows of the recomputed records as they were
previous as (

    select previous.*
    from {{ this }} as previous
    inner join affected_keys
        on previous.recompute_key = affected_keys.recompute_key

),

-- per recomputed row: 1 when it is new, gone or different
row_changes as (

    select
        coalesce(record_identifiers.recompute_key, previous.recompute_key) as recompute_key,
        previous._changed_at as previous_changed_at,
        case
            when record_identifiers.record_id is not null
                and previous.record_id is not null
                and {{ all_null_safe_equal('previous', 'record_identifiers', compared) }}
                then 0
            else 1
        end as is_changed
    from record_identifiers
    full outer join previous
        on record_identifiers.source_model = previous.source_model
        and record_identifiers.record_id = previous.record_id
        and record_identifiers.id_type = previous.id_type
        and record_identifiers.id_value = previous.id_value

),

key_changes as (

    select
        recompute_key,
        max(is_changed) as is_changed,
        max(previous_changed_at) as previous_changed_at
    from row_changes
    group by recompute_key

),

stamped as (

    select
        record_identifiers.*,
        case
            when key_changes.is_changed = 0 then key_changes.previous_changed_at
            else {{ batch_stamp() }}
        end as _changed_at
    from record_identifiers
    left join key_changes
        on record_identifiers.recompute_key = key_changes.recompute_key

),
{% else %}
stamped as (

    select
        record_identifiers.*,
        {{ batch_stamp() }} as _changed_at
    from record_identifiers

),
{% endif %}

final as (
    {{ recompute_batch('affected_keys', 'stamped', 'recompute_key') }}
)

select * from final
