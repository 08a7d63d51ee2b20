{#
    unique_combination_of_columns: no two rows share the same values of `combination_of_columns`
    (a composite key). Rows where a key column is null compare equal to each other here (group by).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

validation as (

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}

)

select * from validation
where n_rows > 1

{% endtest %}
