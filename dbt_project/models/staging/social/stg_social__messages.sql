-- One row per social customer-care message. A repeated message_id keeps its latest delivery. The
-- normalised social_handle is set on inbound messages only: on outbound messages the author is the
-- company's own care account, which is not a customer identifier.

with

source as (

    select * from {{ source('social', 'social_messages') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.message_id') }}
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source

),

renamed as (

    select

        ---------- ids
        {{ clean_string('message_id') }} as message_id,
        {{ clean_string('conversation_id') }} as conversation_id,
        case
            when {{ clean_string('direction') }} = 'inbound'
                then {{ normalise_social_handle('platform', 'author_handle') }}
        end as social_handle,

        ---------- strings
        {{ clean_string('platform') }} as platform,
        {{ clean_string('direction') }} as direction,
        {{ clean_string('author_handle') }} as author_handle,
        {{ normalise_email('linked_email') }} as linked_email,
        {{ clean_string('text') }} as message_text,

        ---------- numerics
        sentiment,

        ---------- booleans
        {{ clean_string('direction') }} = 'inbound' as is_inbound,

        ---------- timestamps
        sent_at,

        ---------- lineage
        _file_name,
        _business_date,
        _delivery_no,
        _row_no,
        _loaded_at

    from ranked
    where delivery_rank = 1

)

select * from renamed
