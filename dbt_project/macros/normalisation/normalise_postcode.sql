{#
    normalise_postcode(expr): Dutch postcode as `1234AB` (four digits, the first not 0, then two
    upper-case letters); spaces and hyphens are removed (`1234 ab` -> `1234AB`); anything else -> null.
#}
{% macro normalise_postcode(expr) -%}
    {%- set compact -%}
        upper({{ cx_warehouse.regexp_replace_all('trim(' ~ expr ~ ')', '[- ]', '') }})
    {%- endset -%}
    case
        when {{ cx_warehouse.regexp_like(compact, '^[1-9][0-9]{3}[A-Z]{2}$') }}
            then {{ compact }}
    end
{%- endmacro %}


{#
    postcode_area(normalised_postcode): the 4-digit postcode area (`1234`) of a postcode already
    normalised with normalise_postcode; null when it is null. Not direct personal data (see the contract).
#}
{% macro postcode_area(normalised_postcode) -%}
    substring({{ normalised_postcode }}, 1, 4)
{%- endmacro %}
