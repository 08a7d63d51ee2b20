-- Contact-center contacts with their customer, first-contact resolution and repeat contacts: one row per
-- contact (stg_contact_center__contacts).
--
-- First-contact resolution (FCR): outcome `opgelost` AND no other contact of the same customer with the same
-- reason that started within 7 x 24 hours after this one started. The window is inclusive: a contact starting
-- exactly 168:00:00 later still counts as a repeat (it is "within" 7 days); one second later it does not. The
-- window is measured in UTC (elapsed time), so a week that contains a DST change is still 168 real hours
-- (10:00 local a week later is 169 h after a summer-time start in October, 167 h in March).
-- Contacts starting at the same instant are ordered by contact_id: the later id is the repeat.
-- A contact without customer_key (no identifier resolves), without reason or without start time can only be
-- judged on itself: it is FCR when its outcome is `opgelost` (fcr_basis = 'contact_only').
-- A contact whose outcome is unknown (null) is not FCR.

with

contacts as (

    select * from {{ ref('stg_contact_center__contacts') }}

),

records_resolved as (

    select * from {{ ref('int_records_resolved') }}
    where source_model = 'stg_contact_center__contacts'

),

attributed as (

    select
        contacts.*,
        records_resolved.customer_key
    from contacts
    left join records_resolved
        on contacts.contact_id = records_resolved.record_id

),

judgeable as (

    select *
    from attributed
    where customer_key is not null
        and reason is not null
        and started_at is not null

),

-- pairs (earlier contact, later contact) of one customer and reason, the later one starting within 168 h
-- (inclusive) after the earlier one
repeat_pairs as (

    select
        earlier.contact_id as earlier_contact_id,
        later.contact_id as later_contact_id,
        later.started_at as later_started_at,
        earlier.started_at as earlier_started_at
    from judgeable as earlier
    inner join judgeable as later
        on earlier.customer_key = later.customer_key
        and earlier.reason = later.reason
        and earlier.contact_id <> later.contact_id
        and (
            later.started_at > earlier.started_at
            or (later.started_at = earlier.started_at and later.contact_id > earlier.contact_id)
        )
        and later.started_at <= {{ dbt.dateadd('hour', 168, 'earlier.started_at') }}

),

followed_by as (

    select
        earlier_contact_id as contact_id,
        count(*) as repeat_contact_count,
        min(later_started_at) as next_repeat_started_at
    from repeat_pairs
    group by earlier_contact_id

),

ranked_predecessors as (

    select
        later_contact_id as contact_id,
        earlier_contact_id,
        row_number() over (
            partition by later_contact_id
            order by earlier_started_at desc, earlier_contact_id desc
        ) as predecessor_rank
    from repeat_pairs

),

predecessors as (

    select
        contact_id,
        earlier_contact_id as previous_contact_id
    from ranked_predecessors
    where predecessor_rank = 1

),

case_positions as (

    select
        contact_id,
        row_number() over (
            partition by case_id
            order by started_at nulls last, contact_id
        ) as case_contact_no,
        count(*) over (partition by case_id) as case_contact_count
    from attributed
    where case_id is not null

),

final as (

    select

        ---------- ids
        attributed.contact_id,
        attributed.customer_key,
        attributed.case_id,
        predecessors.previous_contact_id,

        ---------- strings
        attributed.channel,
        attributed.reason,
        attributed.outcome,
        case
            when attributed.customer_key is not null
                and attributed.reason is not null
                and attributed.started_at is not null
                then 'customer_history'
            else 'contact_only'
        end as fcr_basis,

        ---------- numerics
        coalesce(followed_by.repeat_contact_count, 0) as repeat_contact_count,
        coalesce(case_positions.case_contact_no, 1) as case_contact_no,
        coalesce(case_positions.case_contact_count, 1) as case_contact_count,
        attributed.transfer_count,
        attributed.wait_seconds,
        attributed.handle_seconds,

        ---------- booleans
        coalesce(attributed.is_resolved, false) as is_resolved,
        coalesce(attributed.is_resolved, false) and followed_by.contact_id is null
            as is_first_contact_resolution,
        predecessors.contact_id is not null as is_repeat_contact,

        ---------- timestamps
        attributed.started_at,
        attributed.ended_at,
        followed_by.next_repeat_started_at

    from attributed
    left join followed_by
        on attributed.contact_id = followed_by.contact_id
    left join predecessors
        on attributed.contact_id = predecessors.contact_id
    left join case_positions
        on attributed.contact_id = case_positions.contact_id

)

select * from final
