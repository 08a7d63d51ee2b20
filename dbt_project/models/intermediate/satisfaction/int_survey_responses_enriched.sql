-- One row per survey response (stg_survey__responses) with its customer, the channel of the surveyed touchpoint
-- and its NPS category. The channel rules are documented in _satisfaction__models.yml:
--   touchpoint_ref = a contact_id   -> contact_center (contact_channel keeps the sub-channel telefoon/chat/email)
--   touchpoint_ref = an order_id    -> webshop
--   touchpoint_ref = a transaction  -> store
--   no (known) touchpoint           -> by survey type (post_store_visit store, post_delivery webshop,
--                                      post_contact contact_center, relationship_nps relationship)
-- A reference is looked up first in the system its survey type surveys, then in the others, so an id that
-- happens to exist in two systems resolves to the expected one.

with

survey_responses as (

    select * from {{ ref('stg_survey__responses') }}

),

records_resolved as (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_survey__responses'

),

contacts as (

    select * from {{ ref('stg_contact_center__contacts') }}

),

orders as (

    select * from {{ ref('stg_webshop__orders') }}

),

pos_receipts as (

    select distinct transaction_id
    from {{ ref('stg_pos__transaction_lines') }}

),

referenced as (

    select
        survey_responses.*,
        records_resolved.customer_key,
        contacts.contact_id as referenced_contact_id,
        contacts.channel as referenced_contact_channel,
        orders.order_id as referenced_order_id,
        pos_receipts.transaction_id as referenced_transaction_id
    from survey_responses
    left join records_resolved
        on survey_responses.response_id = records_resolved.record_id
    left join contacts
        on survey_responses.touchpoint_ref = contacts.contact_id
    left join orders
        on survey_responses.touchpoint_ref = orders.order_id
    left join pos_receipts
        on survey_responses.touchpoint_ref = pos_receipts.transaction_id

),

resolved as (

    select
        referenced.*,
        case
            when survey_type = 'post_contact' and referenced_contact_id is not null then 'contact'
            when survey_type = 'post_delivery' and referenced_order_id is not null then 'order'
            when survey_type = 'post_store_visit' and referenced_transaction_id is not null then 'pos_transaction'
            when referenced_contact_id is not null then 'contact'
            when referenced_order_id is not null then 'order'
            when referenced_transaction_id is not null then 'pos_transaction'
        end as touchpoint_source
    from referenced

),

final as (

    select

        ---------- ids
        response_id,
        customer_key,
        touchpoint_ref,

        ---------- strings
        survey_type,
        coalesce(
            case touchpoint_source
                when 'contact' then 'contact_center'
                when 'order' then 'webshop'
                when 'pos_transaction' then 'store'
            end,
            {{ survey_type_channel('survey_type') }}
        ) as channel,
        coalesce(touchpoint_source, 'survey_type') as channel_basis,
        case when touchpoint_source = 'contact' then referenced_contact_channel end as contact_channel,
        {{ nps_category('nps') }} as nps_category,

        ---------- numerics
        nps,
        {{ nps_points('nps') }} as nps_points,
        csat,
        ces,
        effectiveness,
        ease,
        emotion,

        ---------- dates
        cast(responded_at_local as date) as responded_on,

        ---------- timestamps
        responded_at,
        responded_at_local

    from resolved

)

select * from final
