{#
    Europe/Amsterdam <-> UTC conversion, portable (only dbt cross-database macros and plain SQL).

    EU rule (in force since 1996): summer time (CEST, UTC+2) runs from the last Sunday of March 01:00 UTC
    to the last Sunday of October 01:00 UTC; the rest of the year is CET (UTC+1). In Amsterdam wall-clock
    time the clock jumps 02:00 -> 03:00 in spring and falls back 03:00 -> 02:00 in autumn.

    The last Sunday of a month is found without engine-specific day-of-week functions: take the last day
    of the month, count its days since a known Sunday (2023-01-01) with dbt.datediff, and step back that
    count modulo 7 (the double modulo keeps the result in 0..6 for dates before the reference Sunday).
    Only dbt.date_trunc / dbt.dateadd / dbt.datediff are used, so each adapter supplies its own syntax.
    Dates before 1996 (other DST rules) are converted with the current rule.
#}

{#- last_sunday_of_month(ts, month): midnight (as a timestamp) of the last Sunday of `month` (1-12) in
    the year of `ts`. -#}
{% macro last_sunday_of_month(ts, month) -%}
    {%- set month_end -%}
        {{ dbt.dateadd('day', -1, dbt.dateadd('month', month, dbt.date_trunc('year', ts))) }}
    {%- endset -%}
    {%- set days_since_sunday -%}
        ((({{ dbt.datediff("cast('2023-01-01' as date)", month_end, 'day') }}) % 7) + 7) % 7
    {%- endset -%}
    {{ dbt.dateadd('day', '-1 * (' ~ days_since_sunday ~ ')', month_end) }}
{%- endmacro %}


{#
    amsterdam_local_to_utc(ts): Europe/Amsterdam wall-clock timestamp (naive) -> UTC timestamp (naive).

    Per the extract contract:
    - a time in the hour that does not exist (spring, 02:00-02:59 on the last Sunday of March) is read
      as if the clock had already moved: 02:30 -> 03:30 CEST = 01:30 UTC (i.e. still UTC+1);
    - a time in the hour that occurs twice (autumn, 02:00-02:59 on the last Sunday of October) is read as
      its first occurrence, in summer time: 02:30 -> 02:30 CEST = 00:30 UTC.
    Both rules together mean: wall-clock times in [last Sunday of March 03:00, last Sunday of October
    03:00) are CEST (UTC+2), all others CET (UTC+1).
#}
{% macro amsterdam_local_to_utc(ts) -%}
    case
        when {{ ts }} >= {{ dbt.dateadd('hour', 3, last_sunday_of_month(ts, 3)) }}
            and {{ ts }} < {{ dbt.dateadd('hour', 3, last_sunday_of_month(ts, 10)) }}
            then {{ dbt.dateadd('hour', -2, ts) }}
        else {{ dbt.dateadd('hour', -1, ts) }}
    end
{%- endmacro %}


{#
    utc_to_amsterdam_local(ts): UTC timestamp (naive) -> Europe/Amsterdam wall-clock timestamp (naive),
    e.g. to report on the Amsterdam date of a UTC event. UTC times in [last Sunday of March 01:00,
    last Sunday of October 01:00) are shown as CEST (UTC+2), all others as CET (UTC+1).
#}
{% macro utc_to_amsterdam_local(ts) -%}
    case
        when {{ ts }} >= {{ dbt.dateadd('hour', 1, last_sunday_of_month(ts, 3)) }}
            and {{ ts }} < {{ dbt.dateadd('hour', 1, last_sunday_of_month(ts, 10)) }}
            then {{ dbt.dateadd('hour', 2, ts) }}
        else {{ dbt.dateadd('hour', 1, ts) }}
    end
{%- endmacro %}
