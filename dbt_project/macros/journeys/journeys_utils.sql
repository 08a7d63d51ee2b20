{#
    Helpers for the journey, service and engagement models (portable: dbt cross-database macros, and
    adapter.dispatch with a duckdb__ and a default__ (Spark SQL) variant where engines differ).
#}

{#- journeys_key(parts): a surrogate key, the md5 hex (dbt.hash) of the parts joined with '|' (a null
    part counts as ''). Parts are SQL expressions; pass string literals quoted ("'web_session'"). Used for
    ids derived from internal ids (touchpoint_id, session_id, journey_id, moment_id), never to pseudonymise
    a personal identifier. -#}
{% macro journeys_key(parts) -%}
    {%- set pieces = [] -%}
    {%- for part in parts -%}
        {%- do pieces.append("coalesce(cast(" ~ part ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do pieces.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(pieces)) }}
{%- endmacro %}


{#- amsterdam_date(ts_utc): the Europe/Amsterdam calendar date of a UTC timestamp (macro
    utc_to_amsterdam_local, then cast to date). -#}
{% macro amsterdam_date(ts_utc) -%}
    cast({{ utc_to_amsterdam_local(ts_utc) }} as date)
{%- endmacro %}


{#- iso_week_of_year(date_expr): ISO 8601 week number (1-53, weeks start on Monday). -#}
{% macro iso_week_of_year(date_expr) -%}
    {{ return(adapter.dispatch('iso_week_of_year', 'cx_warehouse')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__iso_week_of_year(date_expr) -%}
    weekofyear({{ date_expr }})
{%- endmacro %}

{#- Spark SQL: weekofyear is ISO 8601 as well. -#}
{% macro default__iso_week_of_year(date_expr) -%}
    weekofyear({{ date_expr }})
{%- endmacro %}


{#- iso_year(date_expr): the ISO 8601 week-numbering year (2026-12-31 is in week 53 of 2026, 2027-01-01
    too; 2024-12-30 is in week 1 of 2025). -#}
{% macro iso_year(date_expr) -%}
    {{ return(adapter.dispatch('iso_year', 'cx_warehouse')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__iso_year(date_expr) -%}
    isoyear({{ date_expr }})
{%- endmacro %}

{#- Spark SQL (3.0+) -#}
{% macro default__iso_year(date_expr) -%}
    extract(yearofweek from {{ date_expr }})
{%- endmacro %}


{#- week_start(date_expr): the Monday of the ISO week of a date, as a date. -#}
{% macro week_start(date_expr) -%}
    cast({{ dbt.date_trunc('week', date_expr) }} as date)
{%- endmacro %}


{#- type_double(): a 64-bit floating point type. dbt.type_float() renders `float`, which is 32-bit in both
    DuckDB and Spark; `double` is the same 64-bit type in both. -#}
{% macro type_double() -%}
    double
{%- endmacro %}


{#- safe_ratio(numerator, denominator): numerator / denominator as a double, null when the denominator
    is 0 or null. -#}
{% macro safe_ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ cx_warehouse.type_double() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}


{#- median_of(expr): the median of a numeric expression in an aggregate (exact in DuckDB, approximate in
    Spark). -#}
{% macro median_of(expr) -%}
    {{ return(adapter.dispatch('median_of', 'cx_warehouse')(expr)) }}
{%- endmacro %}

{% macro duckdb__median_of(expr) -%}
    median({{ expr }})
{%- endmacro %}

{#- Spark SQL -#}
{% macro default__median_of(expr) -%}
    percentile_approx({{ expr }}, 0.5)
{%- endmacro %}


{#- type_exact_fraction(): an exact decimal for shares (0-1) that are summed: a sum of doubles depends on the
    order of the rows (which differs between an incremental night and a rebuild), a sum of decimals does not. -#}
{% macro type_exact_fraction() -%}
    decimal(38, 18)
{%- endmacro %}


{#- email_message_key(campaign_id, email, event_id): the message an e-mail event belongs to, `<campaign>|<address>`
    (or `event:<event_id>` when campaign or address is unknown). Arguments are SQL expressions of cleaned
    values (staging's, or raw's put through clean_string / normalise_email). -#}
{% macro email_message_key(campaign_id, email, event_id) -%}
    case
        when {{ campaign_id }} is null or {{ email }} is null
            then {{ dbt.concat(["'event:'", event_id]) }}
        else {{ dbt.concat([campaign_id, "'|'", email]) }}
    end
{%- endmacro %}


{#- last_value_ignore_nulls(expr): the window function "last non-null value of expr in the frame" (follow it
    with `over (...)`). DuckDB and Spark SQL spell IGNORE NULLS differently. -#}
{% macro last_value_ignore_nulls(expr) -%}
    {{ return(adapter.dispatch('last_value_ignore_nulls', 'cx_warehouse')(expr)) }}
{%- endmacro %}

{% macro duckdb__last_value_ignore_nulls(expr) -%}
    last_value({{ expr }} ignore nulls)
{%- endmacro %}

{#- Spark SQL: last_value(expr, isIgnoreNull) -#}
{% macro default__last_value_ignore_nulls(expr) -%}
    last_value({{ expr }}, true)
{%- endmacro %}
