-- What moves NPS, per channel (of the surveyed touchpoint) and month (Europe/Amsterdam date of the response):
-- one row per channel x month x driver. Two families, each with its method and 95% confidence interval:
--
-- experience_item (effectiveness, ease, emotion): standardised multiple regression of the NPS answer (0-10) on
--   the three items together, over the responses that answered all four (complete cases). From the correlations
--   R (3 x 3, items) and r (items with NPS): beta = R^-1 r (R inverted in closed form), R^2 = beta . r,
--   se(beta_j) = sqrt((1 - R^2) / (n - 4) * (R^-1)_jj), CI = beta +- 1.96 se (normal approximation).
--   beta_j = the change in NPS answer, in standard deviations, per standard deviation of item j with the other
--   two held constant: comparable across items, which a raw correlation is not (the three E's correlate).
--   Null when fewer than satisfaction_drivers_min_responses (var, 30) complete responses or R is singular.
-- pain_point (late_delivery, return, repeat_contact, unresolved_contact, slow_social_reply,
--   negative_sentiment; fct_pain_points, not the survey-derived ones): NPS of the responses whose customer had
--   that pain point in the satisfaction_drivers_pain_days (var, 30) days before responding, minus the NPS of the
--   other responses of the same channel and month (responses of known customers with an NPS answer), in NPS
--   points; se from the per-response NPS points (+100 / 0 / -100) of both groups, CI = difference +- 1.96 se.
--   Null when either group has fewer than 2 responses.
-- driver_rank orders the drivers of a family within channel and month: items by beta (largest first: "matters
-- most"), pain points by difference (most negative first: "hurts most").

{%- set min_responses = var('satisfaction_drivers_min_responses', 30) %}
{%- set pain_days = var('satisfaction_drivers_pain_days', 30) %}
{%- set z = 1.96 %}
{%- set items = ['effectiveness', 'ease', 'emotion'] %}
{%- set item_method = 'standardised OLS beta of the NPS answer (0-10) on effectiveness, ease and emotion; '
    ~ '95% CI, normal approximation' %}
{%- set pain_method = 'NPS points of responses after the pain point (within ' ~ pain_days ~ ' days) minus the '
    ~ 'other responses; 95% CI, normal approximation' %}

with

responses as (

    select * from {{ ref('int_survey_responses_enriched') }}
    where responded_on is not null
        and nps is not null

),

pain_points as (

    select * from {{ ref('fct_pain_points') }}
    where polarity = 'pain'
        and channel <> 'survey'
        and customer_key is not null
        and occurred_at is not null

),

monthly_responses as (

    select
        responses.*,
        cast({{ dbt.date_trunc('month', 'responses.responded_on') }} as date) as month
    from responses

),

---------- experience items: standardised multiple regression

item_correlations as (

    select
        channel,
        month,
        count(*) as responses,
        corr(cast(effectiveness as {{ type_double() }}), cast(ease as {{ type_double() }})) as r12,
        corr(cast(effectiveness as {{ type_double() }}), cast(emotion as {{ type_double() }})) as r13,
        corr(cast(ease as {{ type_double() }}), cast(emotion as {{ type_double() }})) as r23,
        corr(cast(effectiveness as {{ type_double() }}), cast(nps as {{ type_double() }})) as r1y,
        corr(cast(ease as {{ type_double() }}), cast(nps as {{ type_double() }})) as r2y,
        corr(cast(emotion as {{ type_double() }}), cast(nps as {{ type_double() }})) as r3y
    from monthly_responses
    where effectiveness is not null
        and ease is not null
        and emotion is not null
    group by
        channel,
        month

),

item_inverse as (

    select
        item_correlations.*,
        1 + 2 * r12 * r13 * r23 - r12 * r12 - r13 * r13 - r23 * r23 as det
    from item_correlations

),

item_betas as (

    select
        channel,
        month,
        responses,
        -- (R^-1) entries: adjugate / determinant
        (1 - r23 * r23) / det as inv11,
        (1 - r13 * r13) / det as inv22,
        (1 - r12 * r12) / det as inv33,
        ((1 - r23 * r23) * r1y + (r13 * r23 - r12) * r2y + (r12 * r23 - r13) * r3y) / det as beta_effectiveness,
        ((r13 * r23 - r12) * r1y + (1 - r13 * r13) * r2y + (r12 * r13 - r23) * r3y) / det as beta_ease,
        ((r12 * r23 - r13) * r1y + (r12 * r13 - r23) * r2y + (1 - r12 * r12) * r3y) / det as beta_emotion,
        r1y,
        r2y,
        r3y
    from item_inverse
    where responses >= {{ min_responses }}
        and abs(det) > 1e-9

),

item_fit as (

    select
        item_betas.*,
        beta_effectiveness * r1y + beta_ease * r2y + beta_emotion * r3y as r_squared
    from item_betas

),

item_drivers as (

    {% for item in items %}
    select
        item_correlations.channel,
        item_correlations.month,
        'experience_item' as driver_group,
        '{{ item }}' as driver,
        item_correlations.responses,
        cast(null as {{ dbt.type_bigint() }}) as exposed_responses,
        item_fit.beta_{{ item }} as coefficient,
        sqrt(
            greatest(1 - item_fit.r_squared, 0) / (item_fit.responses - 4)
            * item_fit.inv{{ loop.index }}{{ loop.index }}
        ) as std_error,
        item_fit.r_squared
    from item_correlations
    left join item_fit
        on item_correlations.channel = item_fit.channel
        and item_correlations.month = item_fit.month
    {{ 'union all' if not loop.last }}
    {% endfor %}

),

---------- pain points: NPS difference, exposed vs not

exposures as (

    select distinct
        monthly_responses.response_id,
        pain_points.moment_type
    from monthly_responses
    inner join pain_points
        on monthly_responses.customer_key = pain_points.customer_key
        and pain_points.occurred_at < monthly_responses.responded_at
        and pain_points.occurred_at >= {{ dbt.dateadd('day', -pain_days, 'monthly_responses.responded_at') }}

),

response_pain_types as (

    select
        monthly_responses.response_id,
        monthly_responses.channel,
        monthly_responses.month,
        monthly_responses.nps_points,
        moment_types.moment_type,
        case when exposures.response_id is not null then 1 else 0 end as is_exposed
    from monthly_responses
    cross join (select distinct moment_type from pain_points) as moment_types
    left join exposures
        on monthly_responses.response_id = exposures.response_id
        and moment_types.moment_type = exposures.moment_type
    where monthly_responses.customer_key is not null

),

pain_groups as (

    select
        channel,
        month,
        moment_type,
        count(*) as responses,
        cast(sum(is_exposed) as {{ dbt.type_bigint() }}) as exposed_responses,
        avg(case when is_exposed = 1 then cast(nps_points as {{ type_double() }}) end) as exposed_nps,
        avg(case when is_exposed = 0 then cast(nps_points as {{ type_double() }}) end) as unexposed_nps,
        var_samp(case when is_exposed = 1 then cast(nps_points as {{ type_double() }}) end) as exposed_variance,
        var_samp(case when is_exposed = 0 then cast(nps_points as {{ type_double() }}) end) as unexposed_variance
    from response_pain_types
    group by
        channel,
        month,
        moment_type

),

pain_drivers as (

    select
        channel,
        month,
        'pain_point' as driver_group,
        moment_type as driver,
        responses,
        exposed_responses,
        case
            when exposed_responses >= 2 and responses - exposed_responses >= 2 then exposed_nps - unexposed_nps
        end as coefficient,
        case
            when exposed_responses >= 2 and responses - exposed_responses >= 2
                then sqrt(exposed_variance / exposed_responses + unexposed_variance / (responses - exposed_responses))
        end as std_error,
        cast(null as {{ type_double() }}) as r_squared
    from pain_groups
    where exposed_responses > 0

),

drivers as (

    select * from item_drivers
    union all
    select * from pain_drivers

),

ranked as (

    select
        drivers.*,
        drivers.coefficient - {{ z }} * drivers.std_error as ci_low,
        drivers.coefficient + {{ z }} * drivers.std_error as ci_high,
        case
            when drivers.coefficient is not null then row_number() over (
                partition by drivers.channel, drivers.month, drivers.driver_group
                order by
                    case when drivers.coefficient is null then 1 else 0 end,
                    case
                        when drivers.driver_group = 'pain_point' then drivers.coefficient
                        else -drivers.coefficient
                    end,
                    drivers.driver
            )
        end as driver_rank
    from drivers

),

final as (

    select

        ---------- grain
        channel,
        month,
        driver_group,
        driver,

        ---------- method
        case driver_group
            when 'experience_item' then '{{ item_method }}'
            else '{{ pain_method }}'
        end as method,
        {{ dbt.concat([
            'driver',
            "': '",
            'coalesce(cast(round(coefficient, 2) as ' ~ dbt.type_string() ~ "), 'n/a')",
            "' (95% CI '",
            'coalesce(cast(round(ci_low, 2) as ' ~ dbt.type_string() ~ "), 'n/a')",
            "' to '",
            'coalesce(cast(round(ci_high, 2) as ' ~ dbt.type_string() ~ "), 'n/a')",
            "', n '",
            'cast(responses as ' ~ dbt.type_string() ~ ')',
            "')'",
        ]) }} as finding,

        ---------- counts
        responses,
        exposed_responses,

        ---------- estimates
        coefficient,
        std_error,
        ci_low,
        ci_high,
        r_squared,
        driver_rank,
        coalesce(ci_low > 0 or ci_high < 0, false) as is_significant

    from ranked

)

select * from final
