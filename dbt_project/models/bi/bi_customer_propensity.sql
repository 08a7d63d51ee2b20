-- BI-facing customer_propensity: one row per scored customer, with the propensities, reason codes (stated
-- with the customer's own counts), persona and next best action; no names or contact details. Published as
-- main.customer_propensity. The source is written by the propensity asset (Python), not by dbt.

with

propensity as (

    select * from {{ source('propensity', 'customer_propensity') }}

),

projected as (

    select

        ---------- grain
        customer_key,

        ---------- scoring
        scored_at,
        scoring_date,
        model_version,

        ---------- churn
        churn_propensity,
        churn_risk_band,
        churn_reason_1,
        churn_reason_2,
        churn_reason_3,
        churn_reason_codes,

        ---------- purchase
        purchase_propensity_30d,
        purchase_reason_1,
        purchase_reason_2,
        purchase_reason_3,
        purchase_reason_codes,

        ---------- persona and next best action
        persona,
        next_best_action,
        nba_reason,
        offer_category

    from propensity

)

select * from projected
