{#
    accepted_range: every non-null value of the column lies within [min_value, max_value] (either bound
    may be omitted; `inclusive: false` makes both bounds exclusive).
#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- set lower_op = '>=' if inclusive else '>' -%}
{%- set upper_op = '<=' if inclusive else '<' -%}

with

validation as (

    select {{ column_name }} as value_field
    from {{ model }}
    where {{ column_name }} is not null

)

select * from validation
where
    1 = 0
    {%- if min_value is not none %}
    or not (value_field {{ lower_op }} {{ min_value }})
    {%- endif %}
    {%- if max_value is not none %}
    or not (value_field {{ upper_op }} {{ max_value }})
    {%- endif %}

{% endtest %}
