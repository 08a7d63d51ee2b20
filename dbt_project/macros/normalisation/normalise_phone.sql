{#
    normalise_phone(expr): phone number in E.164 (`+31612345678`), or null when the value cannot be
    a Dutch or international number.

    1. Formatting is removed: spaces, hyphens, dots, slashes and parentheses
       (`06-12345678`, `+31 6 1234 5678`, `(020) 123 4567`, `+31 (0)6 12345678`).
    2. A Dutch national number must be exactly 10 digits starting with 0[1-9]:
       `0612345678` -> `+31612345678`, `(020) 123 4567` -> `+31201234567`.
    3. An international number starts with `+` or `00`; the digits after it must be 8-15 and not
       start with 0: `0031612345678` -> `+31612345678`, `+44 20 7946 0958` -> `+442079460958`.
       A Dutch one (country code 31) must have a 9-digit national number starting 1-9; a written
       trunk zero is dropped (`+31 (0)6 12345678` -> `+31612345678`).
    4. Anything else (`0000000000`, `12345`, letters, an empty string) -> null.
    Placeholders that look valid (`0612345678` typed by a cashier) are kept: they are recognised
    downstream by how they are used.
#}
{% macro normalise_phone(expr) -%}
    {%- set digits = cx_warehouse.regexp_replace_all('trim(' ~ expr ~ ')', '[-/ ().]', '') -%}
    {%- set without_prefix = cx_warehouse.regexp_replace_all(digits, '^([+]|00)', '') -%}
    {%- set dutch_national_part = 'substring(' ~ digits ~ ', length(' ~ digits ~ ') - 8)' -%}
    case
        when {{ cx_warehouse.regexp_like(digits, '^0[1-9][0-9]{8}$') }}
            then {{ dbt.concat(["'+31'", 'substring(' ~ digits ~ ', 2)']) }}
        when {{ cx_warehouse.regexp_like(digits, '^([+]|00)31') }}
            then case
                when {{ cx_warehouse.regexp_like(digits, '^([+]|00)310?[1-9][0-9]{8}$') }}
                    then {{ dbt.concat(["'+31'", dutch_national_part]) }}
            end
        when {{ cx_warehouse.regexp_like(digits, '^([+]|00)[1-9][0-9]{7,14}$') }}
            then {{ dbt.concat(["'+'", without_prefix]) }}
    end
{%- endmacro %}
