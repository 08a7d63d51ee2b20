-- Service journeys: one row per contact-center case (case_id; a contact without case is a case of its own), from
-- the first contact to its resolution.
--   contact     the first contact of the case (always reached);
--   resolution  a contact of the case ended with outcome `opgelost` (resolved_at = the end of the first such
--               contact, its start when the end is unknown);
--   survey      a post_contact survey answered about a contact of the case.
-- Outcome: resolved_first_contact (the case's first contact was `opgelost`), resolved_after_repeat (a later
-- contact was), unresolved (none was). The journey ends at its last contact's end or its last survey response,
-- whichever is later; time_to_resolution_seconds runs from the first contact's start to resolved_at.
-- The customer is the first contact's customer, else that of any later contact of the case.

with

contacts as (

    select * from {{ ref('int_contacts_evaluated') }}

),

survey_responses as (

    select * from {{ ref('stg_survey__responses') }}
    where survey_type = 'post_contact'

),

keyed as (

    select
        contacts.*,
        coalesce(contacts.case_id, {{ dbt.concat(["'contact:'", 'contacts.contact_id']) }}) as case_key,
        row_number() over (
            partition by coalesce(contacts.case_id, {{ dbt.concat(["'contact:'", 'contacts.contact_id']) }})
            order by contacts.started_at nulls last, contacts.contact_id
        ) as contact_no
    from contacts

),

case_surveys as (

    select
        keyed.case_key,
        count(*) as survey_count,
        max(survey_responses.responded_at) as last_responded_at
    from keyed
    inner join survey_responses
        on keyed.contact_id = survey_responses.touchpoint_ref
    group by keyed.case_key

),

ranked_customers as (

    select
        case_key,
        customer_key,
        row_number() over (partition by case_key order by contact_no) as customer_rank
    from keyed
    where customer_key is not null

),

cases as (

    select
        case_key,
        max(case_id) as case_id,
        count(*) as contact_count,
        min(started_at) as started_at,
        max(coalesce(ended_at, started_at)) as last_contact_ended_at,
        min(case when is_resolved then coalesce(ended_at, started_at) end) as resolved_at,
        max(case when contact_no = 1 and is_resolved then 1 else 0 end) = 1 as is_first_contact_resolved,
        max(case when is_resolved then 1 else 0 end) = 1 as is_resolved,
        max(case when contact_no = 1 then channel end) as first_channel,
        max(case when contact_no = 1 then reason end) as first_reason,
        max(case when contact_no = 1 then contact_id end) as first_contact_id,
        sum(coalesce(transfer_count, 0)) as transfer_count
    from keyed
    group by case_key

),

assembled as (

    select
        cases.*,
        ranked_customers.customer_key,
        coalesce(case_surveys.survey_count, 0) as survey_count,
        case_surveys.last_responded_at,
        greatest(
            coalesce(cases.last_contact_ended_at, cases.started_at),
            coalesce(case_surveys.last_responded_at, cases.started_at)
        ) as ended_at
    from cases
    left join ranked_customers
        on cases.case_key = ranked_customers.case_key
        and ranked_customers.customer_rank = 1
    left join case_surveys
        on cases.case_key = case_surveys.case_key

),

final as (

    select

        ---------- ids
        {{ journeys_key(["'service_journey'", 'case_key']) }} as journey_id,
        customer_key,
        case_id,
        first_contact_id,

        ---------- strings
        'service' as journey_type,
        'contact_center' as entry_channel,
        coalesce(first_channel, 'unknown') as entry_source,
        first_reason as reason,
        {{ dbt.concat([
            "'|contact|'",
            "case when is_resolved then 'resolution|' else '' end",
            "case when survey_count > 0 then 'survey|' else '' end",
        ]) }} as stages_reached,
        case
            when is_first_contact_resolved then 'resolved_first_contact'
            when is_resolved then 'resolved_after_repeat'
            else 'unresolved'
        end as outcome,

        ---------- numerics
        contact_count,
        transfer_count,
        survey_count,
        1
        + (case when is_resolved then 1 else 0 end)
        + (case when survey_count > 0 then 1 else 0 end) as steps_reached,
        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds,
        {{ dbt.datediff('started_at', 'resolved_at', 'second') }} as time_to_resolution_seconds,

        ---------- booleans
        is_resolved,

        ---------- timestamps
        started_at,
        resolved_at,
        ended_at

    from assembled

)

select * from final
