{#
    matches_pattern: every non-null value of the column matches the regular expression `pattern`
    (anchor it with ^...$ for a full match; write it without backslashes or single quotes, see
    macros/utils/regexp.sql). Used to check the normalised identifiers (E.164 phones, postcodes, ...).
#}
{% test matches_pattern(model, column_name, pattern) %}

with

validation as (

    select {{ column_name }} as value_field
    from {{ model }}
    where {{ column_name }} is not null

)

select * from validation
where not {{ cx_warehouse.regexp_like('value_field', pattern) }}

{% endtest %}
