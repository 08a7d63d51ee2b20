{#
    normalise_social_handle(platform, handle): social identifier as used in identity_map:
    `<platform>:<handle>` with the handle trimmed, lower-case and without leading `@`
    (`x`, `@Jan_De_Vries ` -> `x:jan_de_vries`). WhatsApp handles are WhatsApp ids, digits kept as
    delivered (`whatsapp:31612345678`). An empty handle (or only `@`) or an unknown platform -> null.
    Callers apply it to inbound messages only: the company's own handle is not a customer identifier.
#}
{% macro normalise_social_handle(platform, handle) -%}
    {%- set bare_handle -%}
        nullif(lower(trim({{ cx_warehouse.regexp_replace_all('trim(' ~ handle ~ ')', '^@+', '') }})), '')
    {%- endset -%}
    {%- set bare_platform -%}
        nullif(lower(trim({{ platform }})), '')
    {%- endset -%}
    case
        when {{ bare_platform }} is not null and {{ bare_handle }} is not null
            then {{ dbt.concat([bare_platform, "':'", bare_handle]) }}
    end
{%- endmacro %}
