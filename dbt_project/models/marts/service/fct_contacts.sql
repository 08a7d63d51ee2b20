-- One row per contact-center contact (the contract grain), with first-contact resolution, repeat contacts and
-- transfers (rules: int_contacts_evaluated). Handle and wait time are reported, not a goal. BI-safe: no
-- phone, e-mail, crm_id or agent id.

with

contacts as (

    select * from {{ ref('int_contacts_evaluated') }}

),

final as (

    select

        ---------- ids
        contact_id,
        customer_key,
        case_id,
        previous_contact_id,

        ---------- strings
        channel,
        reason,
        outcome,
        fcr_basis,

        ---------- numerics
        repeat_contact_count,
        case_contact_no,
        case_contact_count,
        transfer_count,
        wait_seconds,
        handle_seconds,

        ---------- booleans
        is_resolved,
        is_first_contact_resolution,
        is_repeat_contact,
        coalesce(transfer_count, 0) > 0 as is_transferred,

        ---------- dates
        case when started_at is not null then {{ amsterdam_date('started_at') }} end as started_on,

        ---------- timestamps
        started_at,
        ended_at,
        next_repeat_started_at

    from contacts

)

select * from final
