-- BI-facing fct_contacts: one row per contact-center contact, with reason, outcome and first-contact
-- resolution; no phone, e-mail or agent. Published as main.fct_contacts.

with

contacts as (

    select * from {{ ref('fct_contacts') }}

),

projected as (

    select

        ---------- ids
        contact_id,
        customer_key,
        case_id,

        ---------- strings
        channel,
        reason,
        outcome,

        ---------- numerics
        transfer_count,
        wait_seconds,
        handle_seconds,
        repeat_contact_count,

        ---------- flags
        is_resolved,
        is_first_contact_resolution,
        is_repeat_contact,
        is_transferred,

        ---------- dates
        started_on,
        started_at,
        ended_at

    from contacts

)

select * from projected
