-- BI-facing dim_customer: the golden record's BI-safe columns only (no name, e-mail, phone, birth date, full
-- postcode, house number or raw ids). Published as main.dim_customer.

with

dim_customer as (

    select * from {{ ref('dim_customer') }}

),

projected as (

    select

        ---------- ids
        customer_key,

        ---------- attributes
        age_band,
        postcode_area,
        city,
        gender,

        ---------- lifecycle
        first_seen_at,
        last_seen_at,
        last_purchase_at,
        lifecycle_stage,
        lifecycle_as_of,
        registered_at,

        ---------- consent
        is_marketing_opted_in,
        is_profiling_opted_out

    from dim_customer

)

select * from projected
