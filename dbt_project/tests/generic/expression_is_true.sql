{#
    expression_is_true: the SQL boolean `expression` holds for every row of the model (rows where it is
    false or null fail). Use the test's `where` config to restrict the rows checked.
#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
