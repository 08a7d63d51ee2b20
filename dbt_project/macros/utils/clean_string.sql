{#
    clean_string(expr): trimmed text, with the empty string turned into null.

    The extract contract says an empty string and a missing key both mean "unknown"; staging represents
    unknown as null everywhere. Portable (trim and nullif exist in every engine).
#}
{% macro clean_string(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}
