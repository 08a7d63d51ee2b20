{#
    Regular-expression helpers that differ between engines.

    Patterns are passed as plain text and rendered as a single-quoted SQL literal. Write them without
    backslashes or single quotes (use `[0-9]`, `[+]`, `[.]`, ...): Spark SQL string literals treat the
    backslash as an escape character while DuckDB's do not, so a backslash would mean different things.
    Both engines use a compatible syntax for the rest (RE2 in DuckDB, java.util.regex in Spark).
#}

{#- regexp_replace_all(expr, pattern, replacement): replace EVERY match of pattern in expr. -#}
{% macro regexp_replace_all(expr, pattern, replacement='') -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'cx_warehouse')(expr, pattern, replacement)) }}
{%- endmacro %}

{#- DuckDB replaces only the first match unless given the 'g' (global) option. -#}
{% macro duckdb__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#- Spark SQL (and most engines): regexp_replace is global by default. -#}
{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}


{#- regexp_like(expr, pattern): true when pattern matches anywhere in expr (anchor it with ^...$
    for a full match); null when expr is null. -#}
{% macro regexp_like(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'cx_warehouse')(expr, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_like(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{#- Spark SQL -#}
{% macro default__regexp_like(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern }}')
{%- endmacro %}
