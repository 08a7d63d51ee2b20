{#
    Point-in-time windows for the propensity features and labels (int_customer_feature_snapshots). Every event
    is dated by the Europe/Amsterdam date on which it became known, and a snapshot's `as_of` is the first date
    it does NOT know about: features only see dates strictly before as_of, labels only dates on or after it.
    Keeping the two predicates here (and nowhere else) is what the point-in-time unit tests pin.

    The knobs are dbt vars (defaults here, override with --vars):
      propensity_feature_window_days     28  behavioural features look back this many days
      propensity_churn_horizon_days      90  churn label: no activity in [as_of, as_of + horizon)
      propensity_purchase_horizon_days   30  purchase label: a purchase in [as_of, as_of + horizon)
      propensity_snapshot_step_days       7  training snapshots every step days back from the scoring date
      propensity_snapshot_max            26  at most this many training snapshots
      propensity_min_history_days        14  a training snapshot needs this many days of data before it
#}

{% macro propensity_var(name) -%}
    {%- set defaults = {
        'propensity_feature_window_days': 28,
        'propensity_churn_horizon_days': 90,
        'propensity_purchase_horizon_days': 30,
        'propensity_snapshot_step_days': 7,
        'propensity_snapshot_max': 26,
        'propensity_min_history_days': 14,
    } -%}
    {{- return(var(name, defaults[name]) | int) -}}
{%- endmacro %}


{#- in_feature_window(event_date, as_of, window_days): the event is known before as_of and at most window_days
    before it: event_date in [as_of - window_days, as_of). -#}
{% macro in_feature_window(event_date, as_of, window_days) -%}
    ({{ event_date }} >= {{ dbt.dateadd('day', -window_days, as_of) }} and {{ event_date }} < {{ as_of }})
{%- endmacro %}


{#- in_label_window(event_date, as_of, horizon_days): the event happens on or after as_of, within the horizon:
    event_date in [as_of, as_of + horizon_days). -#}
{% macro in_label_window(event_date, as_of, horizon_days) -%}
    ({{ event_date }} >= {{ as_of }} and {{ event_date }} < {{ dbt.dateadd('day', horizon_days, as_of) }})
{%- endmacro %}
