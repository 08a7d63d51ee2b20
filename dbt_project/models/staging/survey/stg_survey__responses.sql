-- One row per survey response. A repeated response_id keeps its latest delivery. responded_at_local
-- (the Amsterdam wall-clock time) is derived so that reporting can group by the Amsterdam date.

with

source as (

    select * from {{ source('survey', 'survey_responses') }}

),

ranked as (

    select
        source.*,
        row_number() over (
            partition by {{ clean_string('source.response_id') }}
            order by {{ latest_delivery_first('source.') }}
        ) as delivery_rank
    from source

),

renamed as (

    select

        ---------- ids
        {{ clean_string('response_id') }} as response_id,
        {{ clean_string('touchpoint_ref') }} as touchpoint_ref,
        {{ clean_string('crm_id') }} as crm_id,

        ---------- strings
        {{ clean_string('survey_type') }} as survey_type,
        {{ normalise_email('respondent_email') }} as respondent_email,
        {{ clean_string('comment') }} as comment,

        ---------- numerics
        nps,
        csat,
        ces,
        effectiveness,
        ease,
        emotion,

        ---------- timestamps
        responded_at,
        {{ utc_to_amsterdam_local('responded_at') }} as responded_at_local,

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
