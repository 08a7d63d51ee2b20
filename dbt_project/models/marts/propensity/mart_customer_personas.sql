-- Behavioural personas and next-best-action inputs: one row per customer of the scoring snapshot (customers who
-- opted out of profiling are not in it, so get no persona). The persona is the first rule that matches, on the
-- scoring snapshot's features (feature window, default the last 28 days); rules and the next-best-action
-- inputs are documented in _propensity__models.yml. The next best action itself needs the propensities and is
-- assigned by the propensity asset (cx_warehouse/models/next_best_action.py).

{%- set new_customer_days = 30 %}
{%- set open_pain_point_days = 14 %}
{%- set personas = [
    ('new_customer', 'New customer: registered (or first seen) less than ' ~ new_customer_days ~ ' days ago.'),
    ('lapsing', 'Lapsing: no activity of any kind in the feature window.'),
    ('service_dependent', 'Service-dependent: two or more contact-center contacts, or a contact and a pain point,'
        ~ ' in the feature window.'),
    ('store_regular', 'Loyal store regular: two or more store receipts in the feature window and at least as'
        ~ ' much spent in store as online.'),
    ('online_deal_seeker', 'Online deal seeker: orders or browses online (an order or two web sessions) and'
        ~ ' responds to campaigns (a marketing e-mail click or a campaign landing).'),
    ('online_shopper', 'Online shopper: orders or browses online without responding to campaigns.'),
    ('light_engager', 'Light engager: active, but only lightly (e-mail opens, a single store visit).'),
] %}

with

features as (

    select * from {{ ref('int_customer_feature_snapshots') }}
    where snapshot_role = 'scoring'

),

customers as (

    select * from {{ ref('dim_customer') }}

),

category_purchases as (

    select * from {{ ref('int_customer_category_purchases') }}
    where category <> 'unknown'

),

classified as (

    select
        features.*,
        case
            when features.tenure_days < {{ new_customer_days }} then 'new_customer'
            when features.days_since_last_activity > features.feature_window_days then 'lapsing'
            when features.contacts >= 2 or (features.contacts >= 1 and features.pain_points >= 1)
                then 'service_dependent'
            when features.store_visits >= 2 and features.store_spend_eur >= features.webshop_spend_eur
                then 'store_regular'
            when (features.orders_placed >= 1 or features.web_sessions >= 2)
                and features.marketing_email_clicks + features.campaign_landings >= 1
                then 'online_deal_seeker'
            when features.orders_placed >= 1 or features.web_sessions >= 2 then 'online_shopper'
            else 'light_engager'
        end as persona,
        (
            features.days_since_last_pain_point <= {{ open_pain_point_days }}
            and features.days_since_last_resolved_contact > features.days_since_last_pain_point
        ) as has_open_pain_point
    from features

),

---------- cross-sell: the category most often bought together with the customer's top category, not yet bought

top_categories as (

    select
        customer_key,
        category
    from (
        select
            customer_key,
            category,
            row_number() over (partition by customer_key order by spend_eur desc, category) as category_rank
        from category_purchases
    ) as ranked_categories
    where category_rank = 1

),

category_buyers as (

    select
        category,
        count(*) as buyers
    from category_purchases
    group by category

),

category_pairs as (

    select
        bought.category as from_category,
        also_bought.category as to_category,
        count(*) as co_buyers
    from category_purchases as bought
    inner join category_purchases as also_bought
        on bought.customer_key = also_bought.customer_key
        and bought.category <> also_bought.category
    group by
        bought.category,
        also_bought.category

),

cross_sell_candidates as (

    select
        classified.customer_key,
        category_buyers.category,
        row_number() over (
            partition by classified.customer_key
            order by coalesce(category_pairs.co_buyers, 0) desc, category_buyers.buyers desc, category_buyers.category
        ) as candidate_rank
    from classified
    cross join category_buyers
    left join top_categories
        on classified.customer_key = top_categories.customer_key
    left join category_pairs
        on top_categories.category = category_pairs.from_category
        and category_buyers.category = category_pairs.to_category
    left join category_purchases as owned
        on classified.customer_key = owned.customer_key
        and category_buyers.category = owned.category
    where owned.customer_key is null

),

final as (

    select

        ---------- grain
        classified.customer_key,

        ---------- persona
        classified.persona,
        case classified.persona
            {%- for name, description in personas %}
            when '{{ name }}' then '{{ description }}'
            {%- endfor %}
        end as persona_description,

        ---------- next-best-action inputs
        coalesce(customers.is_marketing_opted_in, false) as is_marketing_opted_in,
        classified.has_open_pain_point,
        top_categories.category as top_category,
        cross_sell_candidates.category as cross_sell_category,

        ---------- snapshot
        classified.as_of as scores_as_of

    from classified
    inner join customers
        on classified.customer_key = customers.customer_key
    left join top_categories
        on classified.customer_key = top_categories.customer_key
    left join cross_sell_candidates
        on classified.customer_key = cross_sell_candidates.customer_key
        and cross_sell_candidates.candidate_rank = 1

)

select * from final
