{#
    normalise_email(expr): e-mail address as used in identity_map: trimmed and lower-case, no other
    rewriting (no dot or plus-tag removal); empty -> null. Placeholders (geen@email.nl, ...) are kept:
    they are recognised downstream by how they are used.
#}
{% macro normalise_email(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}
